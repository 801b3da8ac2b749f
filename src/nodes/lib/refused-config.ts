import { asError } from "../../core/errors";
import { withoutUserInfoError } from "./redact";
import type { Node } from "./red";
import { errorStatus } from "./status";
import type { StatusTarget } from "./users";

/** What a config node whose settings were refused offers its users: the reason, and nothing to connect. */
export interface RefusedConfig {
  /** Why (no user:password@ in it): users show it in their status and errors. */
  readonly error: Error;
  /** A user registering is told why in its status; there is nothing to undo when it leaves. */
  readonly register: (user: StatusTarget) => void;
  readonly deregister: () => void;
}

/**
 * The one way a config node refuses its settings: never a crash of the runtime, the reason said
 * once on the config node (`<label>: <reason>`) and kept as `configError` on it, which every user
 * node shows in its status (the registry below does that for users that register).
 */
export function refuseConfig(node: Node & { configError?: Error }, label: string, cause: unknown): RefusedConfig {
  const error = withoutUserInfoError(asError(cause));
  node.configError = error;
  node.error(`${label}: ${error.message}`);
  const status = errorStatus(error.message);
  return { error, register: (user) => user.status(status), deregister: () => undefined };
}
