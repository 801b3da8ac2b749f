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
  register(user: SysadmUser, types: readonly string[]): void;
  deregister(user: SysadmUser, removed?: boolean): void;
}
