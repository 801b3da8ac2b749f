import type { PauseGate } from "../core/pause-gate";
import type { StatusTarget } from "../core/users";
import type { HubUser, SysadmHub } from "./hub";

/** A sysadm-events node as the sysadm-server config node sees it. */
export type SysadmUser = HubUser & StatusTarget;

/**
 * What a sysadm-server config node offers the nodes that use it. Declared here (no Node-RED
 * types needed) because a node file that uses `export =` cannot export types of its own.
 */
export interface SysadmServerHandle {
  readonly url: string;
  /** Why this server cannot connect (bad settings); undefined when it can. */
  readonly configError: Error | undefined;
  readonly hub: SysadmHub | undefined;
  /** Flow control: a user holds it (with its id) while its flow is behind; the socket stops reading. */
  readonly gate: PauseGate | undefined;
  /** What a user whose flow is behind does: hold the server back (default) or drop its oldest events and say so. */
  readonly overflow: "hold" | "drop-oldest";
  register(user: SysadmUser, types: readonly string[]): void;
  deregister(user: SysadmUser, removed?: boolean): void;
}
