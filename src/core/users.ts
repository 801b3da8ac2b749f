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
}

/**
 * The users of a config node's shared connection (the core MQTT broker pattern): connect
 * when the first user registers, disconnect when the last one leaves, and fan status out to
 * every user. While `closing` (a redeploy or shutdown in progress) the last user leaving does
 * not trigger a disconnect/reconnect cycle: the config node's own close handler does it once.
 */
export class UsersRegistry<U extends StatusTarget = StatusTarget> {
  private readonly users = new Map<string, U>();
  private lastStatus: NodeStatus | undefined;
  closing = false;

  constructor(private readonly opts: UsersOptions) {}

  get size(): number {
    return this.users.size;
  }

  has(id: string): boolean {
    return this.users.has(id);
  }

  list(): U[] {
    return [...this.users.values()];
  }

  register(user: U): void {
    if (this.users.has(user.id)) {
      this.users.set(user.id, user);
      return;
    }
    this.users.set(user.id, user);
    if (this.lastStatus) user.status(this.lastStatus);
    if (this.users.size === 1 && !this.closing) this.opts.onFirst();
  }

  deregister(user: U): void {
    if (!this.users.delete(user.id)) return;
    if (this.users.size === 0 && !this.closing) this.opts.onLast();
  }

  /** Show `s` on every user, and on every user that registers later. */
  setStatus(s: NodeStatus): void {
    this.lastStatus = s;
    for (const u of this.users.values()) u.status(s);
  }

  get status(): NodeStatus | undefined {
    return this.lastStatus;
  }
}
