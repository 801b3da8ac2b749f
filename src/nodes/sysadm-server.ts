import { withoutUserInfo } from "./lib/redact";
import { refuseConfig } from "./lib/refused-config";
import { numberSetting } from "./lib/settings";
import type { Node, NodeAPI, NodeDef, Writable } from "./lib/red";
import { tlsOptions } from "./lib/red";
import { SharedConnection } from "./lib/shared-connection";
import { warnIfUnverified } from "./lib/tls-warning";
import { trackHealth } from "./lib/health";
import { sysadmHealth } from "./lib/health-channels";
import { SysadmClient, SysadmHub, TlsVerifyMode } from "../sysadm";
import type { SysadmServerHandle, SysadmUser } from "./lib/handles";

/**
 * sysadm-server: one authenticated WebSocket to a TrueOS sysadm server, shared by every
 * sysadm-events node that uses it (SysadmHub subscribes to the union of their event types).
 */
interface SysadmServerDef extends NodeDef {
  url: string;
  tls?: string;
  tlsMode?: TlsVerifyMode;
  fingerprint?: string;
  keepalive?: string | number;
  maxFrameKB?: string | number;
  /** Flow control when a flow falls behind: hold the server back, or drop the oldest events and announce it. */
  overflow?: string;
}

interface SysadmCredentials {
  username?: string;
  password?: string;
  token?: string;
}

interface SysadmServerNode extends Node, SysadmServerHandle {}

const DEFAULT_URL = "wss://127.0.0.1:12150";

export = function (RED: NodeAPI) {
  function SysadmServer(this: Writable<SysadmServerNode> & { credentials?: SysadmCredentials }, config: SysadmServerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.url = (config.url || DEFAULT_URL).trim();
    // Anything but the explicit choice holds back: losing events must be asked for.
    node.overflow = config.overflow === "drop-oldest" ? "drop-oldest" : "hold";
    const creds = node.credentials ?? {};
    // For logs: never print a user:password@ someone may have put into the URL.
    const shown = withoutUserInfo(node.url);
    let shared: SharedConnection<SysadmUser> | undefined;
    try {
      const secure = node.url.toLowerCase().startsWith("wss:");
      const mode = config.tlsMode ?? "verify";
      const base = secure ? tlsOptions(RED, config.tls) : undefined;
      // "do not verify", or "verify" through a tls-config that does not: one warning, here.
      // A pinned fingerprint is checked on the socket instead.
      const unverified =
        secure && mode !== "fingerprint" && warnIfUnverified(node, mode === "insecure" ? { rejectUnauthorized: false } : base, `sysadm ${shown}`);
      const client = new SysadmClient({
        url: node.url,
        username: creds.username || undefined,
        password: creds.password ?? (creds.username ? "" : undefined),
        token: creds.token || undefined,
        tls: secure ? { mode, fingerprint: config.fingerprint, base } : { mode: "verify" },
        keepaliveMs: numberSetting(config.keepalive, { name: "keep-alive interval", default: 90, min: 10, max: 600, unit: "s" }) * 1000,
        limits: { maxFrameBytes: numberSetting(config.maxFrameKB, { name: "maximum frame size", default: 1024, min: 1, max: 65536, unit: "KiB" }) * 1024 },
      });
      node.hub = new SysadmHub(client);
      node.gate = client.gate;
      shared = new SharedConnection<SysadmUser>(node, client.lifecycle, `sysadm ${shown}`);
      trackHealth(RED, node, sysadmHealth(shown, client));
      client.on("warning", (w) => {
        // Said once at deploy, not again at every connect.
        if (unverified && /without verifying the server certificate/.test(w)) return;
        node.warn(withoutUserInfo(w));
      });
    } catch (e) {
      // Users show configError in their status and errors: never with a user:password@ in it.
      refuseConfig(node, `sysadm-server ${shown}`, e);
    }

    node.register = (user, types) => {
      if (!shared || !node.hub) return;
      // Subscriptions first: the first user starts the connection, which subscribes the union.
      void node.hub.attach(user, types);
      shared.users.register(user);
    };
    node.deregister = (user, removed) => {
      if (!shared || !node.hub) return;
      void node.hub.detach(user);
      shared.users.deregister(user, removed);
    };
  }

  RED.nodes.registerType("sysadm-server", SysadmServer as never, {
    credentials: { username: { type: "text" }, password: { type: "password" }, token: { type: "password" } },
  });
};
