import type { RunningSimulator, SimulatorEntry } from "../types";
import { DEMO_SCENARIO, loadScenario, runScenario, Scenario } from "./scenario";
import { NsoSimOptions, NsoSimServer } from "./server";
import { readFileSync } from "node:fs";

export { NsoSimServer } from "./server";
export type { NsoSimOptions, AckOutcome, InjectResult, SubscriberInfo } from "./server";
export { DEMO_SCENARIO, runScenario, loadScenario } from "./scenario";
export type { Scenario, ScenarioStep } from "./scenario";

export interface StartNsoSimOptions extends NsoSimOptions {
  /** A scenario to play; "demo" = the built-in one; undefined = none (tests drive it). */
  scenario?: Scenario | "demo";
}

export interface RunningNsoSimulator extends RunningSimulator {
  readonly server: NsoSimServer;
  readonly host: string;
  readonly port: number;
}

/** Start the NSO simulator (defaults: 127.0.0.1:4569, no scenario). */
export async function startNsoSimulator(opts: StartNsoSimOptions = {}): Promise<RunningNsoSimulator> {
  const server = new NsoSimServer(opts);
  const { host, port } = await server.listen();
  const scenario = opts.scenario === "demo" ? DEMO_SCENARIO : opts.scenario;
  const player = scenario ? runScenario(server, scenario, (e) => process.emitWarning(`nso simulator scenario: ${e.message}`)) : undefined;
  return {
    name: "nso",
    server,
    host,
    port,
    endpoints: { events: `tcp://${host}:${port}` },
    async close() {
      player?.stop();
      await server.close();
    },
  };
}

const num = (v: string | boolean | undefined): number | undefined => (typeof v === "string" && v !== "" ? Number(v) : undefined);

export const nsoSimulator: SimulatorEntry = {
  name: "nso",
  usage:
    "NSO 6.2 event-notification server, with MAAPI commit-diff reading on the same port. --host (127.0.0.1) --port (4569) --scenario <file.json> (default: built-in demo; 'none' for no events) " +
    "--secret-file <path> (enable the IPC access check) --event-reply-timeout <ms> (120000) --proto-vsn (82) --phase0 (refuse every connection).",
  async start(o) {
    const scen = o.scenario;
    return startNsoSimulator({
      host: typeof o.host === "string" ? o.host : undefined,
      port: num(o.port) ?? 4569,
      protoVsn: num(o["proto-vsn"]),
      eventReplyTimeoutMs: num(o["event-reply-timeout"]),
      secret: typeof o["secret-file"] === "string" ? readFileSync(o["secret-file"]) : undefined,
      phase0: o.phase0 === true,
      scenario: scen === "none" ? undefined : typeof scen === "string" ? loadScenario(scen) : "demo",
    });
  },
};
