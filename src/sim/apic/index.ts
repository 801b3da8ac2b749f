import { readFileSync } from "node:fs";
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
  const { url } = await sim.listen();
  const trickle = new Trickle(sim);
  if (options.trickleMs && options.trickleMs > 0) trickle.start(options.trickleMs);
  return {
    name: "apic",
    sim,
    url,
    trickle,
    endpoints: { rest: `${url}/api`, socket: `${url.replace(/^http/, "ws")}/socket<token>`, control: `${url}/_sim/` },
    close: async () => {
      trickle.stop();
      await sim.close();
    },
  };
}

function num(v: string | boolean | undefined, d: number, what: string): number {
  if (v === undefined) return d;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isFinite(n) || n < 0) throw new Error(`--${what} needs a number`);
  return n;
}

export const apicSimulator: SimulatorEntry = {
  name: "apic",
  usage: [
    `Cisco APIC REST + WebSocket subscriptions on http://127.0.0.1:${APIC_SIM_DEFAULT_PORT} (login ${APIC_SIM_DEFAULT_USER} / ${APIC_SIM_DEFAULT_PASSWORD}).`,
    "--port N            listen port (0 = any free port)",
    "--trickle MS        one realistic change every MS ms (default 2000, 0 = off)",
    "--token-ttl S       token lifetime in seconds (default 600)",
    "--subscription-ttl S  default subscription timeout (default 60)",
    "--max-lifetime S    session maximum lifetime in seconds (default 86400; e.g. 120 to watch a renewal)",
    "--user NAME --password PW   the accepted login",
    "--tls-key FILE --tls-cert FILE   serve HTTPS/WSS with this key and certificate",
    "Control API: POST /_sim/change {op,class,dn,attributes}, /_sim/expire-tokens, /_sim/lapse-subscriptions,",
    "/_sim/refuse-queries?match=TEXT (400 for matching queries; no match = accept again),",
    "/_sim/kill-sockets?mode=close|reset|silent, /_sim/fail?mode=hang|refuse|error|off, /_sim/raw; GET /_sim/stats",
  ].join("\n"),
  async start(o) {
    const key = o["tls-key"];
    const cert = o["tls-cert"];
    if ((key === undefined) !== (cert === undefined)) throw new Error("--tls-key and --tls-cert go together");
    const user = typeof o.user === "string" ? o.user : APIC_SIM_DEFAULT_USER;
    const password = typeof o.password === "string" ? o.password : APIC_SIM_DEFAULT_PASSWORD;
    return startApicSimulator({
      port: num(o.port, APIC_SIM_DEFAULT_PORT, "port"),
      trickleMs: num(o.trickle, 2000, "trickle"),
      tokenTtlSeconds: num(o["token-ttl"], 600, "token-ttl") || 600,
      subscriptionTtlSeconds: num(o["subscription-ttl"], 60, "subscription-ttl") || 60,
      maxLifetimeSeconds: num(o["max-lifetime"], 86400, "max-lifetime") || 86400,
      users: { [user]: password },
      tls: typeof key === "string" && typeof cert === "string" ? { key: readFileSync(key), cert: readFileSync(cert) } : undefined,
    });
  },
};
