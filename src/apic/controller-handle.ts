import type { PauseGate } from "../core/pause-gate";
import type { StatusTarget } from "../core/users";
import type { ApicClient } from "./client";

/**
 * What an apic-controller config node offers the apic-events nodes that use it. Declared here
 * (no Node-RED types needed) because a node file that uses `export =` cannot export types of
 * its own.
 */
export interface ApicControllerHandle {
  /** Undefined when the configuration is broken; register() then shows why. */
  readonly client: ApicClient | undefined;
  /** The controller in use, for messages (`apic.controller`). */
  readonly describe: string;
  /** What a user whose flow is behind does: hold APIC back (default) or drop its oldest changes and say so. */
  readonly overflow: "hold" | "drop-oldest";
  /** Flow control: a user holds it (with its id) while its flow is behind; the sockets stop reading. */
  readonly gate: PauseGate | undefined;
  register(user: StatusTarget): void;
  /** `removed` false: the user is only restarting (partial deploy); keep the session a moment. */
  deregister(user: StatusTarget, removed?: boolean): void;
}
