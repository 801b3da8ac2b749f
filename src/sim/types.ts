import type { OptionSpec, SimulatorOptions } from "./options";

/** What every simulator hands back when started: where it listens, and how to stop it. */
export interface RunningSimulator {
  /** "nso", "apic", "sysadm". */
  readonly name: string;
  /** Human-readable endpoints with the bound ports, e.g. { events: "tcp://127.0.0.1:4569" }. */
  readonly endpoints: Record<string, string>;
  /**
   * The ports actually bound, keyed by the option that sets each (`port`, `ws-port`,
   * `wss-port`), so a launcher that asked for port 0 learns which port it got.
   */
  readonly ports: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** A simulator as the CLI and the demo see it. */
export interface SimulatorEntry {
  readonly name: string;
  /** One line for the command list of `infra-events-sim --help`. */
  readonly summary: string;
  /** The options it takes; the CLI parser, start() and the help text all read these. */
  readonly options: readonly OptionSpec[];
  /** Extra help lines after the options (credentials, control API). */
  readonly notes?: readonly string[];
  /**
   * Start with a flat options object, keys without the `--` (`{ port: 0 }`,
   * `{ "ws-port": "0", quiet: true }`); values may be strings as typed on a command line.
   * Rejects with a UsageError for an undeclared option or a bad value (before listening), and
   * with a ListenError when a port cannot be bound (after closing whatever did start).
   */
  start(options?: SimulatorOptions): Promise<RunningSimulator>;
}
