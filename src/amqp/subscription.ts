import type { EventContext, Receiver, Session } from "rhea";
import { Backoff } from "../core/backoff";
import { Clock } from "../core/clock";
import { DropCounter } from "../core/drops";
import { ProtocolError } from "../core/errors";
import type { AmqpConnection } from "./connection";
import { guardCredit } from "./credit-guard";
import { CreditWindow } from "./credit-window";
import { DedupGate, Parked } from "./dedup-gate";
import { DedupWindow } from "./dedup-window";
import { guardDispositions } from "./disposition-guard";
import { DecoderOptions, EventDecoder } from "./event-decoder";
import { AckMode, EventDispatch } from "./event-dispatch";
import { KeptDeliveries } from "./kept-deliveries";
import { LinkEvents, LinkState, ManagedLink } from "./managed-link";
import { explainDurabilityMismatch, terminusFor } from "./queue-durability";
import { ReattachGap, ReattachInfo } from "./reattach-gap";
import type { AmqpInfo, EventSettler, ReceivedEvent } from "./received-event";
import { FailureCounter } from "./redelivery-limit";
import { guardSessionWindow } from "./session-window";

// What a subscription hands out lives with the code that makes it; src/amqp/index.ts exports it from here.
export { DELIVERY_KIND } from "./event-dispatch";
export type { AckMode } from "./event-dispatch";
export type { AmqpInfo, EventSettler, ReceivedEvent } from "./received-event";
export { isTransientSource } from "./reattach-gap";
export type { ReattachInfo } from "./reattach-gap";

export interface SubscriptionOptions extends DecoderOptions {
  /** Source address as given: `/exchange/amq.topic/org.clacks.event.#`, `/amq/queue/q`, `topic://…`. */
  address: string;
  /** Messages in flight (unsettled) at most; default 100. */
  credit?: number;
  /** auto: accept once emitted; manual: hold until settled through the ack token. */
  ack?: AckMode;
  /**
   * Queue addresses (`/queue/<q>`, a bare name, `/amq/queue/<q>`) get a durable source terminus,
   * so RabbitMQ declares the queue durable and it keeps its messages across a broker restart
   * (default true). false: a transient queue, as before 0.2.0. `/exchange/…` and `/topic/…`
   * sources are never durable (see queue-durability.ts).
   */
  durable?: boolean;
  /** A message whose handling failed this many times is rejected, not released again (default 3). */
  maxFailures?: number;
  /**
   * Auto mode: accept a delivery when the listener says the flow finished it (through the
   * EventSettler emitted with the event), not as soon as it is emitted. Its credit comes back
   * only then, so `credit` is the most messages in memory, and what the flow had not finished
   * when the subscription closes goes back to the broker (amqp1-events, issue 11).
   */
  deferAccept?: boolean;
  /** De-duplicate by event id (issue 16): a copy of an event the flow finished is accepted unseen. */
  dedup?: { size: number; maxAgeMs: number };
  backoff?: Backoff;
  clock?: Clock;
}

export interface SubscriptionEvents extends LinkEvents {
  event: [ReceivedEvent, EventSettler | undefined];
  /** A message was dropped (and settled as rejected): bad XML, oversize, DOCTYPE, … */
  drop: [ProtocolError, { first: boolean; amqp: AmqpInfo }];
  /** A copy of an event the flow already finished: accepted, not emitted (the de-duplication window). */
  duplicate: [string, AmqpInfo];
  /** The XQuery said no (accepted and not emitted). */
  filtered: [string, Error | undefined];
  /** The link is attached again after it was lost (connection cut, broker closed it). */
  reattached: [ReattachInfo];
  /**
   * The broker sent a delivery beyond the credit it had (see credit-guard.ts); the delivery was
   * processed as any other. `count` so far; `report` on the 1st, 10th, 100th, … so a broker
   * that keeps doing it is reported without flooding the log.
   */
  overrun: [{ count: number; report: boolean }];
}

/**
 * A receiver for Clacks events. Credit is managed by hand (rhea's credit_window refills on
 * *receipt*, which would let unsettled manual-mode deliveries grow without bound): the link
 * holds at most `credit` unsettled deliveries (credit-window.ts). After a reconnect the credit
 * is issued again (a new link starts at 0 and the receiver would silently stall).
 *
 * Deliveries the listener keeps past its 'event' (manual mode, or auto with `deferAccept`) are
 * tracked, and released explicitly when the subscription closes or switches address
 * (kept-deliveries.ts). Decoding and handing events to the listener: event-dispatch.ts; the
 * de-duplication window's wiring: dedup-gate.ts; what a re-attach means: reattach-gap.ts.
 */
export class EventSubscription extends ManagedLink<Receiver, SubscriptionEvents> {
  protected readonly kind = "receiver";
  /** Also counted on the connection, which outlives this link (health view). */
  readonly drops = new DropCounter(this.conn.drops);
  readonly decoder: EventDecoder;
  readonly credit: number;
  readonly ackMode: AckMode;
  /** Failed attempts per message, so one that always fails is not redelivered forever. */
  readonly failures: FailureCounter;
  /** Event ids the flow finished, and copies waiting behind one in the flow (opts.dedup). */
  readonly dedup: DedupWindow<Parked> | undefined;
  private addressValue: string;
  private readonly window: CreditWindow;
  private readonly kept: KeptDeliveries;
  private readonly gate: DedupGate | undefined;
  private readonly dispatch: EventDispatch;
  /** Set while the link is lost (not while a wanted detach or address switch is under way). */
  private readonly gap = new ReattachGap();
  received = 0;
  /** Deliveries the broker sent beyond the credit it had (processed normally). */
  overruns = 0;

  constructor(
    conn: AmqpConnection,
    private readonly opts: SubscriptionOptions,
  ) {
    super(conn, { backoff: opts.backoff, clock: opts.clock });
    if (!opts.address || !opts.address.trim()) throw new ProtocolError("address-missing", "a source address is required");
    this.addressValue = opts.address.trim();
    this.decoder = new EventDecoder(opts);
    this.credit = Math.max(1, Math.min(10000, Math.floor(opts.credit ?? 100)));
    this.ackMode = opts.ack ?? "auto";
    this.failures = new FailureCounter(opts.maxFailures);
    this.dedup = opts.dedup ? new DedupWindow<Parked>({ ...opts.dedup, clock: opts.clock }) : undefined;
    // The listener keeps deliveries past their 'event', so they hold credit until settled.
    const keeps = this.ackMode === "manual" || opts.deferAccept === true || this.dedup !== undefined;
    const isCurrent = (link: unknown) => this.isCurrent(link);
    this.window = new CreditWindow(this.credit, keeps, isCurrent);
    this.kept = new KeptDeliveries({ credit: this.window, isCurrent, settled: (k, accepted) => this.gate?.settled(k, accepted) });
    this.gate =
      this.dedup &&
      new DedupGate(this.dedup, {
        isCurrent,
        kept: this.kept,
        deliver: (p) => this.dispatch.deliver(p.kept.link, p.kept.delivery, p.kept, p.message, p.amqp, p.ev),
        duplicate: (id, amqp) => this.emit("duplicate", id, amqp),
      });
    this.dispatch = new EventDispatch({
      conn,
      decoder: this.decoder,
      ackMode: this.ackMode,
      deferAccept: !!opts.deferAccept,
      keeps,
      failures: this.failures,
      drops: this.drops,
      kept: this.kept,
      dedup: this.gate,
      address: () => this.addressValue,
      events: {
        event: (ev, settler) => this.emit("event", ev, settler),
        drop: (err, info) => this.emit("drop", err, info),
        filtered: (name, err) => this.emit("filtered", name, err),
      },
    });
  }

  get address(): string {
    return this.addressValue;
  }

  /** Follow another address (dynamic subscription): detach, then attach to the new source. */
  setAddress(address: string): void {
    const a = address.trim();
    if (!a) throw new ProtocolError("address-missing", "a source address is required");
    if (a === this.addressValue) return;
    this.kept.releaseAll();
    this.addressValue = a;
    this.gap.forget();
    this.reattach();
  }

  /** Deliveries of the current link not settled yet: at most `credit`, short of a broker overrun. */
  get inFlight(): number {
    return this.window.inFlight;
  }

  /** Events handed to the listener. */
  get emitted(): number {
    return this.dispatch.emitted;
  }

  /** Events the XQuery said no to (accepted and not emitted). */
  get filtered(): number {
    return this.dispatch.filtered;
  }

  /** Detach for good; the deliveries the listener still kept go back to the broker first. */
  override close(): void {
    this.kept.releaseAll();
    super.close();
  }

  /** Queue addresses are declared durable unless the user chose transient. */
  get durable(): boolean {
    return this.opts.durable ?? true;
  }

  /**
   * Send the accepts asked for so far now, not after this turn: amqp1-events does so when
   * Node-RED begins stopping flows, before any node (its broker config node too) is closed.
   */
  acceptNow(): void {
    this.kept.flushAccepts(true);
  }

  protected openLink(session: Session): Receiver {
    const r = session.open_receiver({
      source: terminusFor(this.addressValue, this.durable),
      credit_window: 0,
      autoaccept: false,
      autosettle: true,
    });
    guardCredit(session, r, () => this.onOverrun());
    guardDispositions(session);
    guardSessionWindow(session);
    r.on("message", (ctx: EventContext) => this.onMessage(ctx));
    return r;
  }

  protected override onAttached(link: Receiver): void {
    this.window.reset();
    this.kept.clear();
    this.gate?.forgetInFlight();
    this.window.topUp(link);
    const info = this.gap.reattached(this.addressValue, this.durable, this.clock.now());
    if (info) this.emit("reattached", info);
  }

  // A durability mismatch is fixed by the user, not by retrying: the error says what to change
  // (the link keeps retrying, so deleting the old queue is enough).
  protected override setState(s: LinkState, err?: Error): void {
    super.setState(s, err && explainDurabilityMismatch(err, { setting: "Queue durability" }));
  }

  protected override onDetached(err: Error): void {
    this.window.reset();
    // The broker takes them back with the link; settling them later would mean nothing.
    this.kept.clear();
    // Their copies come back as redeliveries and are processed (at-least-once; finished ids stay).
    this.gate?.forgetInFlight();
    this.gap.lost(this.clock.now(), err.message);
  }

  private onMessage(ctx: EventContext): void {
    const link = ctx.receiver;
    const delivery = ctx.delivery;
    const message = ctx.message;
    if (!link || !delivery || !message) return;
    this.received++;
    this.window.arrived(link);
    this.dispatch.handle(link, delivery, message);
    // A held delivery may have used the last credit: grant what settlements freed meanwhile.
    this.window.topUp(link);
  }

  private onOverrun(): void {
    const count = ++this.overruns;
    this.emit("overrun", { count, report: /^10*$/.test(String(count)) });
  }
}
