import type { SimulatorEntry } from "./types";

/** Every simulator the CLI and the demo can start, in start order. */
export const simulators: readonly SimulatorEntry[] = [];
