import { asError, ProtocolError } from "../core/errors";
import type { SysadmClient } from "./client";
import { SubscriptionSet } from "./subscriptions";
import type { GapInfo, SysadmEvent } from "./types";

/** One consumer of a shared client (an input node): gets only the event types it asked for. */
export interface HubUser {
  readonly id: string;
  onEvent(ev: SysadmEvent): void;
  onGap(gap: GapInfo): void;
  /** A frame was refused; `first` is true for the first of its reason on this connection's client. */
  onDrop(err: ProtocolError, first: boolean): void;
  /** A subscription change failed (server error, timeout). */
  onError(err: Error): void;
}

/**
 * Shares one SysadmClient between several users: the server keeps one subscription list
 * per connection, so the hub subscribes to the union of what the users want and hands each
 * event only to the users that asked for its type.
 */
export class SysadmHub {
  private readonly users = new Map<string, HubUser>();
  private readonly subs = new SubscriptionSet();

  constructor(readonly client: SysadmClient) {
    client.on("event", (ev) => {
      for (const u of this.users.values()) if (this.subs.wants(u.id, ev.name)) u.onEvent(ev);
    });
    client.on("gap", (g) => {
      for (const u of this.users.values()) u.onGap(g);
    });
    client.on("drop", (err, first) => {
      for (const u of this.users.values()) u.onDrop(err, first);
    });
  }

  get size(): number {
    return this.users.size;
  }

  attach(user: HubUser, types: readonly string[]): Promise<void> {
    this.users.set(user.id, user);
    this.subs.set(user.id, types);
    return this.sync(user);
  }

  detach(user: HubUser): Promise<void> {
    if (this.users.get(user.id) !== user) return Promise.resolve();
    this.users.delete(user.id);
    this.subs.delete(user.id);
    return this.sync(undefined);
  }

  add(user: HubUser, types: readonly string[]): Promise<void> {
    this.subs.add(user.id, types);
    return this.sync(user, true);
  }

  remove(user: HubUser, types: readonly string[]): Promise<void> {
    this.subs.remove(user.id, types);
    return this.sync(user, true);
  }

  subscriptionsOf(user: HubUser): string[] {
    return this.subs.of(user.id).sort();
  }

  /**
   * Push the union to the client. With `rethrow` the caller (an input message) gets the
   * error; otherwise it goes to the user's onError, and the union is retried on reconnect.
   */
  private async sync(user: HubUser | undefined, rethrow = false): Promise<void> {
    try {
      await this.client.setSubscriptions(this.subs.union());
    } catch (e) {
      if (rethrow) throw e;
      // Without a user (one just left) there is nobody to tell; the client keeps the union
      // and applies it on the next connect anyway.
      user?.onError(asError(e));
    }
  }
}
