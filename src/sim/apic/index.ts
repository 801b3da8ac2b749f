import { readFileSync } from "node:fs";
import { listenAs } from "../listen";
import { OptionSpec, resolveOptions } from "../options";
import type { RunningSimulator, SimulatorEntry } from "../types";
import { ApicSimOptions, ApicSimulator } from "./server";
import { Trickle } from "./trickle";

export { ApicSimulator } from "./server";
export type { ApicSimOptions, FailMode, KillMode, SimPolicy, SimStats } from "./server";
export { Trickle } from "./trickle";

/** The demo's fixed address: plain HTTP on loopback (see docs/apic.md for why not HTTPS). */
export const APIC_SIM_DEFAULT_PORT = 4580;
export const APIC_SIM_DEFAULT_USER = "admin";
export const APIC_SIM_DEFAULT_PASSWORD = "demo-password";

export interface StartedApicSimulator extends RunningSimulator {
  readonly sim: ApicSimulator;
  readonly url: string;
  readonly trickle: Trickle;
}

/** Start a simulator (tests: port 0 and no trickle are the programmatic defaults). */
export async function startApicSimulator(options: ApicSimOptions & { trickleMs?: number } = {}): Promise<StartedApicSimulator> {
  const sim = new ApicSimulator(options);
  const { url, port } = await listenAs(
    "apic",
    () => ({ option: "--port", host: options.host ?? "127.0.0.1", port: options.port ?? 0 }),
    () => sim.listen(),
    () => sim.close(),
  );
  const trickle = new Trickle(sim);
  if (options.trickleMs && options.trickleMs > 0) trickle.start(options.trickleMs);
  return {
    name: "apic",
    sim,
    url,
    trickle,
    endpoints: { rest: `${url}/api`, socket: `${url.replace(/^http/, "ws")}/socket<token>`, control: `${url}/_sim/` },
    ports: { port },
    close: async () => {
      trickle.stop();
      await sim.close();
    },
  };
}

const APIC_OPTIONS: readonly OptionSpec[] = [
  { name: "port", kind: "number", port: true, default: APIC_SIM_DEFAULT_PORT, help: "listen port" },
  { name: "trickle", kind: "number", default: 2000, valueName: "MS", help: "one realistic change every MS ms, 0 = off" },
  { name: "token-ttl", kind: "number", positive: true, default: 600, valueName: "S", help: "token lifetime in seconds" },
  { name: "subscription-ttl", kind: "number", positive: true, default: 60, valueName: "S", help: "default subscription timeout in seconds" },
  {
    name: "max-lifetime",
    kind: "number",
    positive: true,
    default: 86400,
    valueName: "S",
    help: "session maximum lifetime in seconds, e.g. 120 to watch a renewal",
  },
  { name: "user", kind: "string", default: APIC_SIM_DEFAULT_USER, valueName: "NAME", help: "the accepted login name" },
  { name: "password", kind: "string", default: APIC_SIM_DEFAULT_PASSWORD, valueName: "PW", help: "the accepted password" },
  { name: "tls-key", kind: "string", valueName: "FILE", together: "tls-cert", help: "serve HTTPS/WSS with this key (with --tls-cert)" },
  { name: "tls-cert", kind: "string", valueName: "FILE", together: "tls-key", help: "serve HTTPS/WSS with this certificate (with --tls-key)" },
];

export const apicSimulator: SimulatorEntry = {
  name: "apic",
  summary: `Cisco APIC REST + WebSocket subscriptions on http://127.0.0.1:${APIC_SIM_DEFAULT_PORT}`,
  options: APIC_OPTIONS,
  notes: [
    `Login ${APIC_SIM_DEFAULT_USER} / ${APIC_SIM_DEFAULT_PASSWORD} unless --user/--password say otherwise.`,
    "Control API: POST /_sim/change {op,class,dn,attributes}, /_sim/expire-tokens, /_sim/lapse-subscriptions,",
    "/_sim/refuse-queries?match=TEXT (400 for matching queries; no match = accept again),",
    "/_sim/kill-sockets?mode=close|reset|silent, /_sim/fail?mode=hang|refuse|error|off, /_sim/raw; GET /_sim/stats",
  ],
  async start(given = {}) {
    const o = resolveOptions(APIC_OPTIONS, given);
    const key = o.string("tls-key");
    const cert = o.string("tls-cert");
    return startApicSimulator({
      port: o.number("port"),
      trickleMs: o.number("trickle"),
      tokenTtlSeconds: o.number("token-ttl"),
      subscriptionTtlSeconds: o.number("subscription-ttl"),
      maxLifetimeSeconds: o.number("max-lifetime"),
      users: { [o.string("user") ?? APIC_SIM_DEFAULT_USER]: o.string("password") ?? APIC_SIM_DEFAULT_PASSWORD },
      tls: key !== undefined && cert !== undefined ? { key: readFileSync(key), cert: readFileSync(cert) } : undefined,
    });
  },
};
