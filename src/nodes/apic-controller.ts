import type { Node, NodeAPI, NodeDef } from "./lib/red";
import { refuseConfig } from "./lib/refused-config";
import { numberSetting } from "./lib/settings";
import { tlsOptions } from "./lib/red";
import { SharedConnection } from "./lib/shared-connection";
import { warnIfUnverified } from "./lib/tls-warning";
import { withoutUrlCredentials, withoutUserInfo } from "./lib/redact";
import { trackHealth } from "./lib/health";
import { apicHealth } from "./lib/health-channels";
import { ApicClient, ApicError } from "../apic";
import type { ApicControllerHandle } from "./lib/handles";
import { errorStatus } from "./lib/status";
import type { StatusTarget } from "./lib/users";
import { badHosts, parseHosts } from "./lib/apic-settings";

type ApicControllerNode = Node & ApicControllerHandle;

/**
 * apic-controller: one APIC session (login, WebSocket, refresh timers) shared by every
 * apic-events node that uses it. The library does the protocol; this file reads the config,
 * maps state to status (with "login failed" for bad credentials) and hands out the client.
 */
interface ApicControllerDef extends NodeDef {
  hosts: string;
  domain: string;
  tls: string;
  refreshTimeout: string | number;
  pingInterval: string | number;
  maxFrameSize: string | number;
  /** Flow control when a flow falls behind: hold APIC back, or drop the oldest changes and announce it. */
  overflow?: string;
}

export = function (RED: NodeAPI): void {
  function ApicController(this: ApicControllerNode & { credentials?: { username?: string; password?: string } }, config: ApicControllerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    // APIC logs in with the node's credentials; a user:password@ typed into an address is never
    // sent, and so never reaches a log, a status or msg.apic.controller through the client.
    const typed = parseHosts(config.hosts);
    const hosts = typed.map(withoutUrlCredentials);
    if (hosts.some((h, i) => h !== typed[i]))
      node.warn("a controller address holds a user name and password: they are not used (APIC logs in with the node's credentials) and not shown");
    // Anything but the explicit choice holds back: losing changes must be asked for.
    const overflow = config.overflow === "drop-oldest" ? "drop-oldest" : "hold";
    const bad = badHosts(hosts);
    let client: ApicClient | undefined;
    let problem: string | undefined;
    if (hosts.length === 0) problem = "no controller address";
    else if (bad.length) problem = `not an http(s) address: ${withoutUserInfo(bad.join(", "))}`;
    if (!problem) {
      try {
        if (hosts.some((h) => h.startsWith("http:"))) node.warn("plain HTTP to a controller: fine for the simulator or a lab, never for a production APIC");
        // 0 or blank: APIC's default (the client does not ask for one).
        const refreshTimeout = numberSetting(config.refreshTimeout, { name: "subscription refresh timeout", default: 0, min: 0, max: 3600, unit: "s" });
        // 0 or blank = the default: a 1 KiB limit would drop nearly every frame.
        const maxKb = numberSetting(config.maxFrameSize, { name: "maximum frame size", default: 4096, min: 0, max: 65536, unit: "KiB" }) || 4096;
        const tls = hosts.some((h) => h.startsWith("https:")) ? tlsOptions(RED, config.tls || undefined) : undefined;
        warnIfUnverified(node, tls, `APIC ${withoutUserInfo(hosts.join(", "))}`);
        client = new ApicClient({
          hosts,
          credentials: { username: node.credentials?.username ?? "", password: node.credentials?.password ?? "", domain: config.domain || undefined },
          tls,
          refreshTimeoutSeconds: refreshTimeout ? Math.round(refreshTimeout) : undefined,
          pingIntervalMs: numberSetting(config.pingInterval, { name: "ping interval", default: 30, min: 0, max: 3600, unit: "s" }) * 1000,
          maxFrameBytes: maxKb * 1024,
        });
      } catch (e) {
        problem = (e as Error).message;
      }
    }
    if (!client || problem) {
      // A broken config must not crash the runtime: said on the node and on every user node.
      const refused = refuseConfig(node, "apic-controller", new Error(problem ?? "invalid configuration"));
      Object.assign(node, {
        client: undefined,
        describe: withoutUserInfo(hosts.join(", ")),
        overflow,
        gate: undefined,
        register: refused.register,
        deregister: refused.deregister,
      });
      return;
    }
    const c = client;
    const shared = new SharedConnection(node, c.lifecycle, `APIC ${hosts.join(", ")}`);
    trackHealth(RED, node, apicHealth(c));
    // After SharedConnection's own mapping: bad credentials deserve words, not "disconnected".
    c.lifecycle.on("state", (s) => {
      if (s.state === "waiting-to-retry" && s.reason instanceof ApicError && s.reason.kind === "auth") {
        const retry = s.delayMs !== undefined ? ` (retry in ${Math.ceil(s.delayMs / 1000)} s)` : "";
        shared.setStatus(errorStatus(`login failed${retry}`));
      }
    });
    c.on("warning", (e) => node.warn(withoutUserInfo(e.message)));
    c.on("session", (x) =>
      node.log(
        `APIC session on ${x.host}${x.version ? ` (version ${x.version})` : ""}${x.renewed ? " renewed before its maximum lifetime, without a gap" : ""}`,
      ),
    );
    // msg.apic.controller: a host that does not parse kept what it was typed with.
    Object.defineProperty(node, "describe", { get: () => withoutUserInfo(c.host) });
    Object.assign(node, {
      client: c,
      overflow,
      gate: c.gate,
      register: (u: StatusTarget) => shared.users.register(u),
      deregister: (u: StatusTarget, removed?: boolean) => shared.users.deregister(u, removed),
    });
  }
  RED.nodes.registerType("apic-controller", ApicController as never, {
    credentials: { username: { type: "text" }, password: { type: "password" } },
  });
};
