/** What every simulator hands back when started: where it listens, and how to stop it. */
export interface RunningSimulator {
  /** "nso", "apic", "sysadm". */
  readonly name: string;
  /** Human-readable endpoints, e.g. { events: "tcp://127.0.0.1:4569" }. */
  readonly endpoints: Record<string, string>;
  close(): Promise<void>;
}

/** A simulator as the CLI and the demo see it. */
export interface SimulatorEntry {
  readonly name: string;
  /** One paragraph for `infra-events-sim --help`. */
  readonly usage: string;
  /** Start with CLI-style options (`--port 4569` etc. already parsed into a flat object). */
  start(options: Record<string, string | boolean>): Promise<RunningSimulator>;
}
