import { apicSimulator } from "./apic";
import { nsoSimulator } from "./nso";
import { sysadmSimulator } from "./sysadm";
import type { SimulatorEntry } from "./types";

/** Every simulator the CLI and the demo can start, in start order. */
export const simulators: readonly SimulatorEntry[] = [nsoSimulator, apicSimulator, sysadmSimulator];
