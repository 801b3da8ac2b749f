import type { Node } from "node-red";
import { ConnectionLifecycle, StateChange } from "../../core/lifecycle";
import { NodeStatus, statusForState, StatusThrottle } from "./status";
import { StatusTarget, UsersRegistry } from "./users";
import { withoutUserInfo } from "./redact";

/**
 * Binds a config node's shared connection to Node-RED: users registry (connect on first
 * user, disconnect on last), status fan-out to every user, one log line per state
 * transition (not per retry storm), and an orderly stop when the config node closes.
 *
 * The channel owns the ConnectionLifecycle (its `open` does the protocol work); this class
 * only maps it onto Node-RED's config node conventions.
 */
export class SharedConnection<U extends StatusTarget = StatusTarget> {
  readonly users: UsersRegistry<U>;
  private lastLogged: string | undefined;

  constructor(
    private readonly node: Node,
    readonly lifecycle: ConnectionLifecycle,
    private readonly describe: string,
  ) {
    this.users = new UsersRegistry<U>({
      onFirst: () => lifecycle.start(),
      onLast: () => lifecycle.stop(),
    });
    lifecycle.on("state", (c) => this.onState(c));
    lifecycle.on("cleanup-error", (e) => node.error(withoutUserInfo(`cleanup after ${describe} went down failed: ${e.message}`)));
    node.on("close", (_removed: boolean, done: () => void) => {
      this.users.closing = true;
      this.users.dispose();
      lifecycle.stop();
      done();
    });
  }

  /** Show a channel-specific status (e.g. "login failed") on every user. */
  setStatus(s: NodeStatus): void {
    this.users.setStatus(s);
  }

  private onState(change: StateChange): void {
    // An address or a reason may quote a URL someone typed with user:password@ in it: never
    // into a status or a log line (redacted before the status text is cut to length).
    const c = change.reason ? { ...change, reason: new Error(withoutUserInfo(change.reason.message)) } : change;
    this.users.setStatus(statusForState(c));
    // Log transitions, not every retry: a server that is down for an hour must not fill the log.
    // "connecting" between two retries must not re-arm the warning, so it does not move the key.
    if (c.state === "connecting" || c.state === "idle") return;
    const key = c.state === "waiting-to-retry" ? `retry:${c.reason?.message}` : c.state;
    if (key === this.lastLogged) return;
    this.lastLogged = key;
    if (c.state === "connected") {
      this.node.log(`connected to ${withoutUserInfo(this.describe)}${c.reconnected ? " (reconnected: events may have been missed)" : ""}`);
    } else if (c.state === "waiting-to-retry") {
      this.node.warn(`connection to ${withoutUserInfo(this.describe)} lost: ${c.reason?.message ?? "unknown reason"}; retrying with backoff`);
    } else if (c.state === "closed" && c.previous !== "idle") {
      this.node.log(`disconnected from ${withoutUserInfo(this.describe)}`);
    }
  }
}

/**
 * A user node as the registry sees it: status goes through a 1-per-second throttle so a
 * config node with many users, or an input node counting events, cannot flood the editor.
 */
export function statusTarget(node: Node, intervalMs = 1000): StatusTarget & { throttle: StatusThrottle } {
  const throttle = new StatusThrottle((s) => node.status(s), intervalMs);
  node.on("close", () => throttle.dispose());
  return { id: node.id, status: (s) => throttle.set(s), throttle };
}
