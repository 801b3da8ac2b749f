import type { Delivery, EventContext, Message, Receiver, Session } from "rhea";
import type { AckToken } from "../core/ack-registry";
import { Backoff } from "../core/backoff";
import { Clock } from "../core/clock";
import { DropCounter } from "../core/drops";
import { asError, ProtocolError } from "../core/errors";
import type { AmqpConnection } from "./connection";
import { guardCredit } from "./credit-guard";
import { guardDispositions } from "./disposition-guard";
import { guardSessionWindow } from "./session-window";
import { DecoderOptions, EventDecoder } from "./event-decoder";
import { DedupWindow } from "./dedup-window";
import { amqpEventId } from "./event-id";
import type { DecodedBusEvent } from "./bus-event";
import { LinkEvents, LinkState, ManagedLink } from "./managed-link";
import { explainDurabilityMismatch, sourceKind, terminusFor } from "./queue-durability";
import { FailureCounter } from "./redelivery-limit";
import type { HeldDelivery } from "./settlement";
import { asText } from "../core/describe";

export type AckMode = "auto" | "manual";
export const DELIVERY_KIND = "amqp1-delivery";

/** A delivery the listener keeps past its 'event' (manual mode, or auto with deferAccept). */
interface Kept {
  link: Receiver;
  delivery: Delivery;
  /** Settled, released or given up: nothing more is sent for it. */
  done: boolean;
  /** Its event id, while the de-duplication window counts it as in the flow. */
  id?: string;
}

/** A copy waiting in the de-duplication window behind one with its id. */
interface Parked {
  kept: Kept;
  message: Message;
  amqp: AmqpInfo;
  ev: ReceivedEvent;
}

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

export interface AmqpInfo {
  address: string;
  subject: string | undefined;
  messageId: string | number | undefined;
  properties: Record<string, unknown>;
  contentType: string | undefined;
  /** The broker delivered this before (RabbitMQ: first_acquirer false). */
  redelivered: boolean;
}

/**
 * One delivery as a flow message: a fresh object per delivery, handed over to the listener
 * (amqp1-events sends it on as the msg itself).
 */
export interface ReceivedEvent {
  /** Event name (xml-event), or from `clacks_event`/subject (raw), else the address. */
  topic: string;
  payload: unknown;
  xml?: string;
  amqp: AmqpInfo;
  /** Manual mode: the plain token amqp1-ack settles. */
  ack?: AckToken;
  /** Stable id (event-id.ts): a bus event's own, else from the message-id or the body. */
  eventId: string;
  /** A bus event (bus-event.ts): the bus delivery's own AMQP details; `amqp` is then the original's. */
  bus?: AmqpInfo;
  nso?: unknown;
  apic?: unknown;
  sysadm?: unknown;
}

/**
 * How the listener settles an event it keeps: emitted with each event in auto mode with
 * `deferAccept`, and in manual mode (where amqp1-ack settles it; the listener only uses `fail`).
 * Each delivery is settled once: later calls, and calls after the link is gone (the broker has
 * taken the message back then), do nothing.
 */
export interface EventSettler {
  /** The flow finished the event: accept it, its credit comes back. */
  accept(): void;
  /** The flow did not finish it: give it back to the broker, which delivers it again. */
  release(): void;
  /** Handing it to the flow failed: as a failing listener (released, rejected after maxFailures). */
  fail(e: unknown): void;
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

/** What a re-attach after a loss means for the events published meanwhile. */
export interface ReattachInfo {
  address: string;
  /** When the link was first lost (ms since the epoch). */
  since: number;
  reattachedAt: number;
  /** Why it was lost (the first error). */
  reason: string;
  /**
   * True for `/exchange/…` and `/topic/…` sources: each attach gets a fresh temporary queue, so
   * events published while detached are gone. True as well for a queue declared transient: a
   * broker restart (which we cannot tell from a cut) loses it with its messages. False for other
   * queues: they kept what arrived, and unsettled deliveries come back (redelivered).
   */
  missed: boolean;
  /** Why `missed`: a temporary queue per attach, or a transient queue that a restart would lose. */
  cause?: "temporary-queue" | "transient-queue";
}

/** Sources that RabbitMQ backs with a temporary queue per attach (what was published meanwhile is lost). */
export function isTransientSource(address: string): boolean {
  return sourceKind(address) === "temporary";
}

/**
 * A receiver for Clacks events. Credit is managed by hand (rhea's credit_window refills on
 * *receipt*, which would let unsettled manual-mode deliveries grow without bound): the link
 * holds at most `credit` unsettled deliveries. The credit granted is always `credit` minus the
 * deliveries still unsettled, never "one back per settlement": a broker that sends beyond its
 * credit (RabbitMQ 3.x does, see topUp) must not make the window grow. After a reconnect the
 * credit is issued again (a new link starts at 0 and the receiver would silently stall).
 *
 * Deliveries the listener keeps past its 'event' (manual mode, or auto with `deferAccept`) are
 * tracked, and released explicitly when the subscription closes or switches address: RabbitMQ
 * 3.10 requeues a closed link's unsettled deliveries by itself (measured), but a broker that
 * applies the source's default outcome otherwise must not get to accept them.
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
  /** Deliveries of the current link not settled yet (manual mode: waiting for amqp1-ack). */
  private unsettled = 0;
  /** Those of them the listener keeps (manual, or auto with deferAccept). */
  private readonly kept = new Set<Kept>();
  /** deferAccept: accepts asked for during this turn of the event loop, sent together after it. */
  private toAccept: Kept[] = [];
  private acceptScheduled = false;
  /** Set while the link is lost (not while a wanted detach or address switch is under way). */
  private gapStart: { since: number; reason: string } | undefined;
  received = 0;
  emitted = 0;
  filtered = 0;
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
  }

  get address(): string {
    return this.addressValue;
  }

  /** Follow another address (dynamic subscription): detach, then attach to the new source. */
  setAddress(address: string): void {
    const a = address.trim();
    if (!a) throw new ProtocolError("address-missing", "a source address is required");
    if (a === this.addressValue) return;
    this.releaseKept();
    this.addressValue = a;
    // A new source starts fresh: there is no earlier subscription whose events could be missed.
    this.gapStart = undefined;
    this.reattach();
  }

  /** Deliveries of the current link not settled yet: at most `credit`, short of a broker overrun. */
  get inFlight(): number {
    return this.unsettled;
  }

  /** The listener keeps deliveries past their 'event', so they hold credit until settled. */
  private get keeps(): boolean {
    return this.ackMode === "manual" || this.opts.deferAccept === true || this.dedup !== undefined;
  }

  /** Detach for good; the deliveries the listener still kept go back to the broker first. */
  override close(): void {
    this.releaseKept();
    super.close();
  }

  /** Queue addresses are declared durable unless the user chose transient. */
  get durable(): boolean {
    return this.opts.durable ?? true;
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
    this.unsettled = 0;
    this.kept.clear();
    this.dedup?.forgetInFlight();
    this.topUp(link);
    const lost = this.gapStart;
    if (lost) {
      this.gapStart = undefined;
      const address = this.addressValue;
      const kind = sourceKind(address);
      const cause = kind === "temporary" ? "temporary-queue" : kind === "declared" && !this.durable ? "transient-queue" : undefined;
      this.emit("reattached", { address, since: lost.since, reattachedAt: this.clock.now(), reason: lost.reason, missed: cause !== undefined, cause });
    }
  }

  // A durability mismatch is fixed by the user, not by retrying: the error says what to change
  // (the link keeps retrying, so deleting the old queue is enough).
  protected override setState(s: LinkState, err?: Error): void {
    super.setState(s, err && explainDurabilityMismatch(err, { setting: "Queue durability" }));
  }

  protected override onDetached(err: Error): void {
    this.unsettled = 0;
    // The broker takes them back with the link; settling them later would mean nothing.
    this.kept.clear();
    // Their copies come back as redeliveries and are processed (at-least-once; finished ids stay).
    this.dedup?.forgetInFlight();
    // Keep the first loss: a failing re-attach after a cut must not move the gap's start.
    this.gapStart ??= { since: this.clock.now(), reason: err.message };
  }

  private onMessage(ctx: EventContext): void {
    const link = ctx.receiver;
    const delivery = ctx.delivery;
    const message = ctx.message;
    if (!link || !delivery || !message) return;
    this.received++;
    if (this.isCurrent(link)) this.unsettled++;
    this.handleDelivery(link, delivery, message);
    // A held delivery may have used the last credit: grant what settlements freed meanwhile.
    this.topUp(link);
  }

  private handleDelivery(link: Receiver, delivery: Delivery, message: Message): void {
    const amqp = amqpInfo(this.addressValue, message);
    let decoded;
    try {
      decoded = this.decoder.decode(message);
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError("decode-failed", asError(e).message);
      // Rejected, not released: a message we cannot read would only come straight back.
      this.settleNow(link, delivery, "reject", err);
      this.emit("drop", err, { first: this.drops.add(err.code), amqp });
      return;
    }
    if (decoded.kind === "filtered") {
      this.filtered++;
      // Accepted, as Qpid's XML exchange "did not route" it: releasing would redeliver it forever.
      this.settleNow(link, delivery, "accept");
      this.emit("filtered", decoded.name, decoded.error);
      return;
    }
    const ev: ReceivedEvent = {
      topic: decoded.name ?? this.addressValue,
      payload: decoded.payload,
      amqp,
      eventId: decoded.kind === "bus" ? decoded.eventId : amqpEventId(message),
    };
    if (decoded.kind === "event") ev.xml = decoded.xml;
    if (decoded.kind === "bus") restoreBus(ev, decoded);
    const kept = this.keeps ? this.keep(link, delivery) : undefined;
    if (kept && this.dedup) {
      const seen = this.dedup.admit(ev.eventId);
      if (seen === "duplicate") return this.duplicate(kept, ev.eventId, amqp);
      if (seen === "wait") return this.dedup.park(ev.eventId, { kept, message, amqp, ev });
      kept.id = ev.eventId;
    }
    this.deliver(link, delivery, kept, message, amqp, ev);
  }

  /** Hand an event to the listener (its copy in the de-duplication window, if any, is `kept.id`). */
  private deliver(link: Receiver, delivery: Delivery, kept: Kept | undefined, message: Message, amqp: AmqpInfo, ev: ReceivedEvent): void {
    if (kept && this.ackMode === "manual") {
      ev.ack = this.conn.acks.issue(DELIVERY_KIND, this.hold(kept));
    }
    this.emitted++;
    this.conn.types.add(ev.topic);
    try {
      this.emit("event", ev, kept && this.settler(kept, message, amqp, ev));
    } catch (e) {
      this.handlerFailed(link, delivery, kept, message, amqp, ev, e);
      return;
    }
    // deferAccept: it succeeded once the flow finished it (the settler's accept).
    if (kept && this.ackMode === "auto" && this.opts.deferAccept) return;
    this.failures.succeeded(message);
    if (!kept) this.settleNow(link, delivery, "accept");
    // Kept only for the de-duplication window: accepted as it is emitted, as without one.
    else if (this.ackMode === "auto") this.settleKept(kept, "accept");
  }

  /**
   * Handing the event on failed. A failing listener must not kill rhea's read loop. The broker
   * gets the message back, until it has failed maxFailures times: then it is rejected
   * (dead-lettered where the queue has a dead-letter exchange), so a message that always fails
   * cannot loop forever.
   */
  private handlerFailed(link: Receiver, delivery: Delivery, kept: Kept | undefined, message: Message, amqp: AmqpInfo, ev: ReceivedEvent, e: unknown): void {
    if (kept?.done) return;
    const { attempts, giveUp } = this.failures.failed(message);
    const err = giveUp
      ? new ProtocolError("handler-failed-repeatedly", `event handler failed ${attempts} times, message rejected: ${asError(e).message}`, { attempts })
      : new ProtocolError("handler-failed", `event handler failed (attempt ${attempts}, released for redelivery): ${asError(e).message}`, { attempts });
    // Manual mode: the token went down with the message, so no amqp1-ack will ever settle it.
    const ours = ev.ack === undefined || this.conn.acks.forget(ev.ack.id);
    const outcome = giveUp ? "reject" : "release";
    if (kept) {
      if (ours) this.settleKept(kept, outcome, err);
    } else this.settleNow(link, delivery, outcome, err);
    this.emit("drop", err, { first: this.drops.add(err.code), amqp });
  }

  /** Track a delivery the listener keeps past its 'event', so closing can hand it back. */
  private keep(link: Receiver, delivery: Delivery): Kept {
    const k: Kept = { link, delivery, done: false };
    if (this.isCurrent(link)) this.kept.add(k);
    return k;
  }

  private settler(k: Kept, message: Message, amqp: AmqpInfo, ev: ReceivedEvent): EventSettler {
    return {
      accept: () => {
        if (k.done) return;
        this.failures.succeeded(message);
        this.acceptSoon(k);
      },
      release: () => this.settleKept(k, "release"),
      fail: (e) => this.handlerFailed(k.link, k.delivery, k, message, amqp, ev, e),
    };
  }

  /**
   * Settle a kept delivery, once. On a link that is no longer current it is only forgotten: the
   * broker has taken it back with that link and will deliver it again.
   */
  private settleKept(k: Kept, outcome: "accept" | "reject" | "release", err?: ProtocolError): void {
    if (k.done) return;
    k.done = true;
    this.kept.delete(k);
    if (this.isCurrent(k.link)) this.settleNow(k.link, k.delivery, outcome, err);
    this.settledCopy(k, outcome === "accept");
  }

  /**
   * A kept delivery whose id the de-duplication window counts as in the flow is settled: an
   * accept remembers the id and accepts the copies waiting behind it unseen; anything else
   * forgets it and hands the next waiting copy to the flow.
   */
  private settledCopy(k: Kept, accepted: boolean): void {
    const id = k.id;
    if (!this.dedup || id === undefined || !this.isCurrent(k.link)) return;
    k.id = undefined;
    if (accepted) {
      for (const p of this.dedup.finished(id)) this.duplicate(p.kept, id, p.amqp);
      return;
    }
    const next = this.dedup.gaveBack(id);
    if (next && !next.kept.done && this.isCurrent(next.kept.link)) {
      next.kept.id = id;
      this.deliver(next.kept.link, next.kept.delivery, next.kept, next.message, next.amqp, next.ev);
    }
  }

  /** A copy of an event the flow finished: accepted without reaching the flow. */
  private duplicate(k: Kept, id: string, amqp: AmqpInfo): void {
    this.settleKept(k, "accept");
    this.emit("duplicate", id, amqp);
  }

  /**
   * The flow finishes messages one by one, each in its own Node-RED delivery: accepting each at
   * once would cost a disposition frame, a flow frame and a socket write per message (rhea writes
   * on the next tick). The accepts of one event-loop turn go out together instead, as one
   * disposition for each run of consecutive deliveries, and the credit they free in one flow.
   */
  private acceptSoon(k: Kept): void {
    this.toAccept.push(k);
    if (this.acceptScheduled) return;
    this.acceptScheduled = true;
    setImmediate(() => this.flushAccepts(true));
  }

  /**
   * Send the accepts asked for so far now, not after this turn: amqp1-events does so when
   * Node-RED begins stopping flows, before any node (its broker config node too) is closed.
   */
  acceptNow(): void {
    this.flushAccepts(true);
  }

  private flushAccepts(grant: boolean): void {
    this.acceptScheduled = false;
    const batch = this.toAccept;
    if (batch.length === 0) return;
    this.toAccept = [];
    let link: Receiver | undefined;
    for (const k of batch) {
      // Released or failed since (a release wins), or on a link that is gone.
      if (k.done) continue;
      k.done = true;
      this.kept.delete(k);
      if (!this.isCurrent(k.link)) continue;
      k.delivery.accept();
      this.unsettled--;
      link = k.link;
      this.settledCopy(k, true);
    }
    if (link && grant) this.topUp(link);
  }

  /**
   * Hand every kept delivery back to the broker (released: it delivers them again) before the
   * link goes; what the flow had finished is accepted first. No credit is granted: the link is
   * closing.
   */
  private releaseKept(): void {
    this.flushAccepts(false);
    for (const k of this.kept) {
      k.done = true;
      if (this.isCurrent(k.link)) k.delivery.release();
    }
    this.kept.clear();
  }

  private hold(k: Kept): HeldDelivery {
    const link = k.link;
    return {
      delivery: k.delivery,
      // A delivery released on close is the broker's again, even if the link were still there.
      linkAlive: () => !k.done && this.isCurrent(link) && !link.is_closed(),
      settled: (outcome) => {
        if (k.done) return;
        k.done = true;
        this.kept.delete(k);
        this.settledOne(link);
        this.settledCopy(k, outcome === "accept");
      },
      dropped: (why) => {
        // Too many unsettled: give it back to the broker rather than hold it forever.
        if (why === "evicted") return this.settleKept(k, "release");
        k.done = true;
        this.kept.delete(k);
        this.settledCopy(k, false);
      },
    };
  }

  private settleNow(link: Receiver, delivery: Delivery, outcome: "accept" | "reject" | "release", err?: ProtocolError): void {
    if (outcome === "accept") delivery.accept();
    else if (outcome === "release") delivery.release();
    else
      delivery.reject({ condition: err?.code.startsWith("handler-") ? "amqp:internal-error" : "amqp:decode-error", description: err?.message.slice(0, 200) });
    this.settledOne(link);
  }

  /** A delivery of `link` is settled: its slot is free (deliveries of an older link count for nothing). */
  private settledOne(link: Receiver): void {
    if (!this.isCurrent(link)) return;
    this.unsettled--;
    this.topUp(link);
  }

  /**
   * Bring the link's credit up to `credit - unsettled`, with as few flow frames as is safe.
   *
   * RabbitMQ 3.x's AMQP 1.0 plugin turns a flow frame into "the queue may send N more" without
   * counting the deliveries already on their way from the queue to our session: a flow that
   * arrives while some are under way makes it send that many beyond our credit (seen on 3.10
   * with credit 2 and two amqp1-acks a tick apart: three deliveries for two slots). So:
   * - manual, and auto with deferAccept (the listener keeps deliveries until the flow finished
   *   them): credit is granted only when the link has none left, i.e. when nothing can be on
   *   its way; the window of unsettled deliveries then holds exactly. A delivery that arrives
   *   takes the link to 0 and tops it up, so this never stalls.
   * - auto: every delivery is settled before the next is read, so the window only paces the
   *   broker; flows are batched (a quarter window) and sent while credit is left, to keep the
   *   pipe full. A broker overrun there costs nothing but a few deliveries early.
   */
  private topUp(link: Receiver): void {
    if (!this.isCurrent(link)) return;
    const have = (link as unknown as { credit: number }).credit ?? 0;
    const add = this.credit - this.unsettled - have;
    if (add <= 0) return;
    if (have > 0 && (this.keeps || add < Math.max(1, this.credit >> 2))) return;
    link.add_credit(add);
  }

  private onOverrun(): void {
    const count = ++this.overruns;
    this.emit("overrun", { count, report: /^10*$/.test(String(count)) });
  }
}

function amqpInfo(address: string, m: import("rhea").Message): AmqpInfo {
  const props: Record<string, unknown> = {};
  const ap = m.application_properties;
  if (ap) for (const k of Object.keys(ap)) props[k] = jsonSafe(ap[k]);
  const id = m.message_id;
  return {
    address,
    subject: typeof m.subject === "string" ? m.subject : undefined,
    messageId: typeof id === "string" || typeof id === "number" ? id : id === undefined || id === null ? undefined : String(id),
    properties: props,
    contentType: typeof m.content_type === "string" ? m.content_type : undefined,
    redelivered: m.first_acquirer === false || (typeof m.delivery_count === "number" && m.delivery_count > 0),
  };
}

// msg is deep-cloned and may be serialised to the editor: keep only JSON-friendly values.
function jsonSafe(v: unknown): unknown {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString("base64");
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === "object") return asText(v);
  return undefined;
}

/** A bus event as its input node sent it: the channel's metadata back under its key. */
function restoreBus(ev: ReceivedEvent, d: DecodedBusEvent): void {
  ev.bus = ev.amqp;
  if (d.xml !== undefined) ev.xml = d.xml;
  if (!d.meta) return;
  if (d.channel === "amqp") ev.amqp = d.meta as unknown as AmqpInfo;
  else if (d.channel !== "flow") ev[d.channel] = d.meta;
}
