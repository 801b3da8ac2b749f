import { apicSimulator } from "./apic";
import { nsoSimulator } from "./nso";
import { sysadmSimulator } from "./sysadm";
import type { SimulatorEntry } from "./types";

// What a launcher (scripts/demo.js, the CLI) needs besides the list: the errors start() throws.
export { ListenError } from "./listen";
export { UsageError } from "./options";
export type { OptionSpec, SimulatorOptions } from "./options";
export type { RunningSimulator, SimulatorEntry } from "./types";

/** Every simulator the CLI and the demo can start, in start order. */
export const simulators: readonly SimulatorEntry[] = [nsoSimulator, apicSimulator, sysadmSimulator];

/** The simulator called `name`, or undefined. */
export function findSimulator(name: string): SimulatorEntry | undefined {
  return simulators.find((s) => s.name === name);
}
