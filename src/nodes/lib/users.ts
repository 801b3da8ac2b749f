import { Clock, systemClock, TimerHandle } from "../../core/clock";
import type { NodeStatus } from "./status";

/** What the registry needs from a user node: something that can show a status. */
export interface StatusTarget {
  readonly id: string;
  status(s: NodeStatus): void;
}

export interface UsersOptions {
  /** First user registered: connect. */
  onFirst(): void;
  /** Last user left while not closing: disconnect. */
  onLast(): void;
  /**
   * How long to keep the connection without users when the last one was only restarted
   * (a "modified nodes" deploy), waiting for its new instance to register; default 5 s.
   */
  restartGraceMs?: number;
  clock?: Clock;
}

/**
 * The users of a config node's shared connection (the core MQTT broker pattern): connect
 * when the first user registers, disconnect when the last one leaves, and fan status out to
 * every user. While `closing` (a redeploy or shutdown in progress) the last user leaving does
 * not trigger a disconnect/reconnect cycle: the config node's own close handler does it once.
 *
 * A user that is only restarted (Node-RED's `close(removed = false)` on a partial deploy)
 * comes straight back: the connection is kept for a grace period instead of logging out and
 * in again (and announcing a gap) on every edit of an input node.
 */
export class UsersRegistry<U extends StatusTarget = StatusTarget> {
  private readonly users = new Map<string, U>();
  private lastStatus: NodeStatus | undefined;
  private graceTimer: TimerHandle;
  private readonly clock: Clock;
  private readonly restartGraceMs: number;
  closing = false;

  constructor(private readonly opts: UsersOptions) {
    this.clock = opts.clock ?? systemClock;
    this.restartGraceMs = opts.restartGraceMs ?? 5000;
  }

  get size(): number {
    return this.users.size;
  }

  register(user: U): void {
    if (this.users.has(user.id)) {
      this.users.set(user.id, user);
      return;
    }
    this.users.set(user.id, user);
    if (this.lastStatus) user.status(this.lastStatus);
    if (this.graceTimer !== undefined) {
      // The restarted user is back: the connection never went away.
      this.cancelGrace();
      return;
    }
    if (this.users.size === 1 && !this.closing) this.opts.onFirst();
  }

  /**
   * `removed` is Node-RED's close flag: false when the user node is only being restarted.
   * Then the connection outlives it for the grace period.
   */
  deregister(user: U, removed = true): void {
    if (!this.users.delete(user.id)) return;
    if (this.users.size > 0 || this.closing) return;
    if (removed || this.restartGraceMs <= 0) {
      this.cancelGrace();
      this.opts.onLast();
      return;
    }
    if (this.graceTimer !== undefined) return;
    this.graceTimer = this.clock.setTimeout(() => {
      this.graceTimer = undefined;
      if (this.users.size === 0 && !this.closing) this.opts.onLast();
    }, this.restartGraceMs);
  }

  /** Show `s` on every user, and on every user that registers later. */
  setStatus(s: NodeStatus): void {
    this.lastStatus = s;
    for (const u of this.users.values()) u.status(s);
  }

  get status(): NodeStatus | undefined {
    return this.lastStatus;
  }

  /** Stop waiting for restarted users (the config node itself is closing). */
  dispose(): void {
    this.cancelGrace();
  }

  private cancelGrace(): void {
    if (this.graceTimer !== undefined) {
      this.clock.clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    }
  }
}
