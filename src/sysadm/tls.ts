import { createHash, X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { InfraError } from "../core/errors";

/**
 * How the server certificate is checked. A sysadm server regenerates its self-signed
 * certificate at every start (§1), so each choice is explicit and none is a silent default:
 * - `verify`: the normal chain + host name check (CA from a tls-config node, or the system
 *   store). Right for a server whose certificate you install as CA after each restart, or
 *   one behind a real certificate.
 * - `fingerprint`: accept exactly the certificate with this SHA-256 fingerprint (pinning);
 *   breaks, loudly, when the server restarts with a new certificate.
 * - `insecure`: encrypt but do not verify; a warning is logged on every connect.
 */
export type TlsVerifyMode = "verify" | "fingerprint" | "insecure";

export interface TlsChoice {
  mode: TlsVerifyMode;
  /** SHA-256 fingerprint for `fingerprint` mode: hex, with or without colons. */
  fingerprint?: string;
  /** ca/cert/key/servername/rejectUnauthorized as a tls-config node produces them. */
  base?: Record<string, unknown>;
}

export function normaliseFingerprint(fp: string): string {
  const hex = fp.replace(/[\s:]/g, "").toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new InfraError("bad-fingerprint", "the certificate fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons allowed");
  }
  return hex.match(/../g)!.join(":");
}

/** SHA-256 fingerprint of a PEM or DER certificate, in the AA:BB:… form openssl prints. */
export function certificateFingerprint(cert: string | Buffer): string {
  if (typeof cert === "string" && cert.includes("-----BEGIN")) return new X509Certificate(cert).fingerprint256;
  return normaliseFingerprint(createHash("sha256").update(cert).digest("hex"));
}

/** Socket options for `ws` for this choice. */
export function socketTlsOptions(choice: TlsChoice): Record<string, unknown> {
  const opts: Record<string, unknown> = { ...(choice.base ?? {}) };
  if (choice.mode === "fingerprint") {
    if (!choice.fingerprint) throw new InfraError("bad-fingerprint", "fingerprint mode needs a certificate fingerprint");
    normaliseFingerprint(choice.fingerprint);
    // The chain of a self-signed certificate cannot verify; the pin is checked on the socket
    // before any credential is sent (see checkPeer).
    opts.rejectUnauthorized = false;
  } else if (choice.mode === "insecure") {
    opts.rejectUnauthorized = false;
  } else if (opts.rejectUnauthorized === undefined) {
    opts.rejectUnauthorized = true;
  }
  return opts;
}

/** Throws when the peer of a fingerprint-mode socket is not the pinned certificate. */
export function checkPeer(choice: TlsChoice, socket: TLSSocket | undefined): void {
  if (choice.mode !== "fingerprint") return;
  const want = normaliseFingerprint(choice.fingerprint ?? "");
  const cert = socket?.getPeerCertificate?.();
  const got = cert && cert.fingerprint256 ? cert.fingerprint256.toUpperCase() : undefined;
  if (got !== want) {
    throw new InfraError(
      "fingerprint-mismatch",
      `server certificate fingerprint ${got ?? "(none)"} does not match the pinned ${want} (a sysadm server makes a new certificate at every start)`,
    );
  }
}
