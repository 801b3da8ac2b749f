import type { Node } from "node-red";

/**
 * The one deploy-time warning for a config node whose TLS does not check the server's
 * certificate (a tls-config node with "Verify server certificate" unticked, or sysadm's "do not
 * verify"): encrypted, but anyone on the path can pose as the server and read the credentials.
 * Returns whether it warned, so a node can keep quiet about it on every connect.
 */
export function warnIfUnverified(node: Node, tls: Record<string, unknown> | undefined, what: string): boolean {
  if (!tls || tls.rejectUnauthorized !== false) return false;
  node.warn(
    `TLS certificate verification is off for ${what}: the connection is encrypted, but anyone on the path can pose as the server and read the credentials. Fine for a lab, not for production (tls-config: tick "Verify server certificate" and give the CA).`,
  );
  return true;
}
