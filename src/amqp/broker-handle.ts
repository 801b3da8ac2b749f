import type { StatusTarget } from "../core/users";
import type { AmqpConnection } from "./connection";

/**
 * What an amqp1-broker config node offers the nodes that use it. Declared here (no Node-RED
 * types needed) because a node file that uses `export =` cannot export types of its own.
 */
export interface BrokerHandle {
  readonly urls: string;
  /** Why this broker cannot connect (bad settings); undefined when it can. */
  readonly configError: Error | undefined;
  readonly amqp: AmqpConnection | undefined;
  register(user: StatusTarget): void;
  /** `removed` false: the user is only restarting (partial deploy); keep the connection a moment. */
  deregister(user: StatusTarget, removed?: boolean): void;
}
