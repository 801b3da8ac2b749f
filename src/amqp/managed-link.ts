import { EventEmitter } from "node:events";
import type { Connection, EventContext, Receiver, Sender, Session } from "rhea";
import { Backoff } from "../core/backoff";
import { Clock, systemClock, TimerHandle } from "../core/clock";
import { AmqpConnection, describeError } from "./connection";

export type LinkState = "detached" | "attaching" | "attached" | "closed";

export interface LinkEvents {
  state: [LinkState, Error | undefined];
}

/**
 * A link that lives as long as its owner wants it, across reconnects and link failures.
 *
 * Each link gets its own session: RabbitMQ 3.x ends the whole *session* on any link error
 * (unknown exchange, durability mismatch, a modified outcome), so a shared session would let
 * one bad address take every other link down. A link the broker closes is re-attached after
 * its own backoff, without touching the connection or the other links; after a reconnect
 * every link re-attaches itself (rhea's own re-attach is off with its reconnect).
 */
export abstract class ManagedLink<L extends Receiver | Sender, E extends LinkEvents & Record<keyof E, any[]> = LinkEvents> extends EventEmitter<E> {
  protected link: L | undefined;
  protected session: Session | undefined;
  private stateValue: LinkState = "detached";
  private retryTimer: TimerHandle;
  private generation = 0;
  private readonly backoff: Backoff;
  protected readonly clock: Clock;
  private readonly onUp = (c: Connection) => this.attach(c);
  private readonly onDown = (e: Error) => this.lost(e);

  constructor(
    protected readonly conn: AmqpConnection,
    opts: { backoff?: Backoff; clock?: Clock } = {},
  ) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30000 });
  }

  get state(): LinkState {
    return this.stateValue;
  }

  /** Start following the connection: attach now if it is up, and after every reconnect. */
  open(): void {
    if (this.stateValue === "closed") throw new Error("link already closed");
    this.conn.on("up", this.onUp);
    this.conn.on("down", this.onDown);
    this.conn.links.add(this);
    if (this.conn.connection) this.attach(this.conn.connection);
  }

  /** Detach for good (deliveries still unsettled go back to the queue). */
  close(): void {
    if (this.stateValue === "closed") return;
    this.conn.off("up", this.onUp);
    this.conn.off("down", this.onDown);
    this.conn.links.delete(this);
    this.clearRetry();
    this.teardown(true);
    this.setState("closed");
  }

  /** Re-attach (e.g. with a new address). */
  reattach(): void {
    if (this.stateValue === "closed") return;
    this.clearRetry();
    this.teardown(true);
    this.setState("detached");
    if (this.conn.connection) this.attach(this.conn.connection);
  }

  /** Is `link` the one currently attached? Deliveries from an older link cannot be settled. */
  isCurrent(link: unknown): boolean {
    return link !== undefined && link === this.link && this.stateValue === "attached";
  }

  protected abstract readonly kind: "sender" | "receiver";
  protected abstract openLink(session: Session): L;
  /** The link is attached (first time or again). */
  protected onAttached(_link: L): void {}
  /** The link is gone (connection down, or the broker closed it). */
  protected onDetached(_err: Error): void {}

  private attach(c: Connection): void {
    if (this.stateValue === "closed" || this.link) return;
    const gen = ++this.generation;
    const session = c.create_session();
    this.session = session;
    this.setState("attaching");
    const fail = (ctx: EventContext, what: string) => {
      if (gen !== this.generation) return;
      const err = describeError(ctx.receiver?.error ?? ctx.sender?.error ?? ctx.session?.error ?? ctx.error, what);
      this.linkFailed(err);
    };
    // Handling these on the session/link stops rhea from bubbling them up to 'error'.
    session.on("session_error", (ctx: EventContext) => fail(ctx, "session ended by the broker"));
    session.on("session_close", (ctx: EventContext) => fail(ctx, "session ended by the broker"));
    session.begin();
    const link = this.openLink(session);
    this.link = link;
    const kind = this.kind;
    link.on(`${kind}_open`, () => {
      if (gen !== this.generation) return;
      this.backoff.connected(this.clock.now());
      this.setState("attached");
      this.onAttached(link);
    });
    link.on(`${kind}_error`, (ctx: EventContext) => fail(ctx, "link closed by the broker"));
    link.on(`${kind}_close`, (ctx: EventContext) => fail(ctx, "link closed by the broker"));
  }

  private linkFailed(err: Error): void {
    if (this.stateValue === "closed") return;
    // Answer the broker's detach before ending the session (a detach after our end would arrive
    // on an unmapped channel: a protocol error for the peer); but if the broker ended the whole
    // session, a detach is just as wrong, so only the end is answered.
    this.teardown(this.session?.is_open() ?? false);
    this.setState("detached", err);
    this.onDetached(err);
    // Only retry while the connection is up; otherwise the next 'up' re-attaches.
    if (this.conn.connection && this.retryTimer === undefined) {
      const delay = this.backoff.next(this.clock.now());
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        if (this.conn.connection) this.attach(this.conn.connection);
      }, delay);
    }
  }

  private lost(err: Error): void {
    if (this.stateValue === "closed") return;
    this.clearRetry();
    // The rhea connection is already gone; its sessions and links die with it.
    this.generation++;
    this.link = undefined;
    this.session = undefined;
    this.backoff.reset();
    this.setState("detached", err);
    this.onDetached(err);
  }

  private teardown(graceful: boolean): void {
    this.generation++;
    const link = this.link;
    const session = this.session;
    this.link = undefined;
    this.session = undefined;
    try {
      if (graceful && link && !link.is_closed()) link.close();
      if (session && !session.is_closed()) session.close();
    } catch {
      // The connection under this link is already gone; nothing left to close.
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  protected setState(s: LinkState, err?: Error): void {
    if (s === this.stateValue && !err) return;
    this.stateValue = s;
    (this as unknown as EventEmitter).emit("state", s, err);
  }
}
