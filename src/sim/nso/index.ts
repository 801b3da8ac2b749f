import type { RunningSimulator, SimulatorEntry } from "../types";
import { DEMO_SCENARIO, loadScenario, runScenario, Scenario } from "./scenario";
import { NsoSimOptions, NsoSimServer } from "./server";
import { readFileSync } from "node:fs";
import { DEFAULT_EVENT_REPLY_TIMEOUT_MS, DEFAULT_LIB_PROTO_VSN } from "../../nso/constants";
import { listenAs } from "../listen";
import { OptionSpec, resolveOptions } from "../options";

export { NsoSimServer } from "./server";
export type { NsoSimOptions, AckOutcome, FloodResult, InjectResult, SubscriberInfo } from "./server";
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
  const { host, port } = await listenAs(
    "nso",
    () => ({ option: "--port", host: server.opts.host, port: server.opts.port }),
    () => server.listen(),
    () => server.close(),
  );
  const scenario = opts.scenario === "demo" ? DEMO_SCENARIO : opts.scenario;
  const player = scenario ? runScenario(server, scenario, (e) => process.emitWarning(`nso simulator scenario: ${e.message}`)) : undefined;
  return {
    name: "nso",
    server,
    host,
    port,
    endpoints: { events: `tcp://${host}:${port}` },
    ports: { port },
    async close() {
      player?.stop();
      await server.close();
    },
  };
}

const NSO_OPTIONS: readonly OptionSpec[] = [
  { name: "host", kind: "string", default: "127.0.0.1", valueName: "ADDRESS", help: "address to listen on" },
  { name: "port", kind: "number", port: true, default: 4569, help: "events and MAAPI port" },
  { name: "scenario", kind: "string", default: "demo", valueName: "FILE|demo|none", help: "events to play: a scenario JSON file, the built-in demo, or none" },
  { name: "secret-file", kind: "string", valueName: "FILE", help: "enable the IPC access check with the secret in FILE" },
  {
    name: "event-reply-timeout",
    kind: "number",
    positive: true,
    default: DEFAULT_EVENT_REPLY_TIMEOUT_MS,
    valueName: "MS",
    help: "how long to wait for a subscriber's reply",
  },
  { name: "proto-vsn", kind: "number", default: DEFAULT_LIB_PROTO_VSN, help: "protocol version to announce" },
  { name: "phase0", kind: "flag", help: "refuse every connection (NSO still starting)" },
];

export const nsoSimulator: SimulatorEntry = {
  name: "nso",
  summary: "NSO 6.2 event-notification server, with MAAPI commit-diff reading on the same port",
  options: NSO_OPTIONS,
  async start(given = {}) {
    const o = resolveOptions(NSO_OPTIONS, given);
    const scenario = o.string("scenario");
    const secretFile = o.string("secret-file");
    return startNsoSimulator({
      host: o.string("host"),
      port: o.number("port"),
      protoVsn: o.number("proto-vsn"),
      eventReplyTimeoutMs: o.number("event-reply-timeout"),
      secret: secretFile === undefined ? undefined : readFileSync(secretFile),
      phase0: o.flag("phase0"),
      scenario: scenario === "none" ? undefined : scenario === "demo" || scenario === undefined ? "demo" : loadScenario(scenario),
    });
  },
};
