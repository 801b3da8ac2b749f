import { randomUUID } from "node:crypto";
import { Delivery, EventContext, message as rheaMessage, Sender, Session } from "rhea";
import { Backoff } from "../core/backoff";
import { Clock } from "../core/clock";
import { InfraError } from "../core/errors";
import type { AmqpConnection } from "./connection";
import { describeError } from "./connection";
import { LinkEvents, LinkState, ManagedLink } from "./managed-link";
import { durabilityMismatch, sourceKind, terminusFor } from "./queue-durability";
import { BUS_CONTENT_TYPE, BusEnvelope } from "./bus-event";

export interface SenderOptions {
  /** Target address, e.g. `/exchange/amq.topic` (routing key = subject) or `topic://…`. */
  address: string;
  /** Messages waiting for the link (not connected, no credit) at most; default 1000. */
  maxQueue?: number;
  backoff?: Backoff;
  clock?: Clock;
}

export interface OutgoingEvent {
  xml: string;
  name: string;
  /** A bus event (bus-event.ts): sent as JSON with its own subject, properties and message-id instead of the XML. */
  bus?: BusEnvelope;
  /** Clacks domain: subject = `<domain>.event.<name>`. */
  domain: string;
  /**
   * The message's durable header (default true). Messages to a queue address are always
   * durable: a transient message in a durable queue is dropped when the broker restarts.
   */
  durable?: boolean;
  ttlMs?: number;
}

export interface SendResult {
  outcome: "accepted";
  messageId: string;
}

interface Pending {
  ev: OutgoingEvent;
  messageId: string;
  resolve: (r: SendResult) => void;
  reject: (e: Error) => void;
}

export interface SenderEvents extends LinkEvents {
  /** Queue length changed (waiting + in flight), for status. */
  queue: [number];
}

/**
 * The EventMaker's transport: one sender link (own session), a bounded queue in front of it.
 * Messages are written only while the link is `sendable()` (rhea would otherwise throw "circular
 * buffer overflow" at 2048 unsettled) and resume on the `sendable` event. Each send resolves
 * when the broker accepts (RabbitMQ: publisher confirm) and rejects on rejected/released/
 * modified. In-flight messages whose outcome was lost with the connection are sent again
 * after the reconnect (at-least-once; receivers can spot duplicates by message id).
 */
export class EventSender extends ManagedLink<Sender, SenderEvents> {
  protected readonly kind = "sender";
  readonly address: string;
  readonly maxQueue: number;
  /** The target is a queue (`/queue/<q>`, bare name, `/amq/queue/<q>`): messages go out durable. */
  private readonly toQueue: boolean;
  /** The target queue exists as a transient queue: the next attach declares it as it is rather than fail. */
  private declareTransient = false;
  // A FIFO with a moving head: Array.shift() is O(n) and showed up at 4 % of CPU with 30k queued.
  private waiting: Pending[] = [];
  private head = 0;
  private readonly inflight = new Map<Delivery, Pending>();
  sent = 0;
  accepted = 0;

  constructor(conn: AmqpConnection, opts: SenderOptions) {
    super(conn, { backoff: opts.backoff, clock: opts.clock });
    if (!opts.address || !opts.address.trim()) throw new InfraError("address-missing", "a target address is required");
    this.address = opts.address.trim();
    const kind = sourceKind(this.address);
    this.toQueue = kind === "declared" || kind === "existing";
    this.maxQueue = Math.max(1, opts.maxQueue ?? 1000);
  }

  /** Waiting plus in flight. */
  get queued(): number {
    return this.waiting.length - this.head + this.inflight.size;
  }

  send(ev: OutgoingEvent): Promise<SendResult> {
    if (this.state === "closed") return Promise.reject(new InfraError("sender-closed", "sender is closed"));
    if (this.queued >= this.maxQueue) {
      return Promise.reject(new InfraError("send-queue-full", `send queue full (${this.maxQueue} messages waiting for the broker)`));
    }
    return new Promise<SendResult>((resolve, reject) => {
      this.waiting.push({ ev, messageId: ev.bus?.eventId ?? randomUUID(), resolve, reject });
      this.emit("queue", this.queued);
      this.pump();
    });
  }

  override close(): void {
    super.close();
    const err = new InfraError("sender-closed", "sender closed before the broker answered");
    const waiting = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    for (const p of [...this.inflight.values(), ...waiting]) p.reject(err);
    this.inflight.clear();
    this.emit("queue", 0);
  }

  protected openLink(session: Session): Sender {
    // A queue target is declared durable (RabbitMQ declares `/queue/<q>` on a sender's attach
    // too), so a flow whose amqp1-events declares the same queue durable does not collide with it.
    const s = session.open_sender({ target: terminusFor(this.address, !this.declareTransient), autosettle: true });
    s.on("sendable", () => this.pump());
    s.on("accepted", (ctx: EventContext) => this.outcome(ctx, null));
    s.on("rejected", (ctx: EventContext) => this.outcome(ctx, describeError(ctx.delivery?.remote_state?.error, "rejected by the broker")));
    s.on("released", (ctx: EventContext) => this.outcome(ctx, new InfraError("released", "the broker released the message (not delivered)")));
    s.on("modified", (ctx: EventContext) => this.outcome(ctx, new InfraError("modified", "the broker returned the message as modified (not delivered)")));
    return s;
  }

  protected override onAttached(): void {
    // Each new attach tries durable first: the old queue may have been deleted (or lost in a
    // broker restart) meanwhile, and must then come back durable.
    this.declareTransient = false;
    this.pump();
  }

  // An old transient queue of that name: the sender only puts messages in, so it takes the queue
  // as it is (declared transient on the next attempt) instead of refusing to send. Whoever reads
  // the queue decides its durability; amqp1-events says what to do about it.
  protected override setState(s: LinkState, err?: Error): void {
    const mm = err && durabilityMismatch(err);
    if (err && mm?.existing === "transient") {
      this.declareTransient = true;
      const p = mm.vhost === "/" ? "" : ` -p ${mm.vhost}`;
      err = new InfraError(
        "queue-durability-mismatch",
        `queue '${mm.queue}' is transient (it loses its messages when the broker restarts): sending to it as it is. Delete it once it is drained (rabbitmqctl delete_queue${p} ${mm.queue}) to have it declared durable. [${err.message}]`,
        { ...mm },
      );
    }
    super.setState(s, err);
  }

  protected override onDetached(): void {
    // Outcomes of in-flight messages died with the link: queue them again, oldest first.
    if (this.inflight.size) {
      this.waiting = [...this.inflight.values(), ...this.waiting.slice(this.head)];
      this.head = 0;
      this.inflight.clear();
    }
  }

  private outcome(ctx: EventContext, err: Error | null): void {
    const d = ctx.delivery;
    if (!d) return;
    const p = this.inflight.get(d);
    if (!p) return;
    this.inflight.delete(d);
    if (err) p.reject(err);
    else {
      this.accepted++;
      p.resolve({ outcome: "accepted", messageId: p.messageId });
    }
    this.emit("queue", this.queued);
  }

  private pump(): void {
    const link = this.link;
    if (!link || this.state !== "attached") return;
    while (this.head < this.waiting.length && link.sendable()) {
      const p = this.waiting[this.head];
      this.waiting[this.head++] = undefined as unknown as Pending;
      const { ev } = p;
      const { bus } = ev;
      const d = link.send({
        subject: bus ? bus.subject : `${ev.domain}.event.${ev.name}`,
        content_type: bus ? BUS_CONTENT_TYPE : "application/xml",
        message_id: p.messageId,
        creation_time: new Date(),
        durable: this.toQueue || (ev.durable ?? true),
        ttl: ev.ttlMs,
        application_properties: bus ? bus.properties : { clacks_event: ev.name },
        body: rheaMessage.data_section(bus ? bus.body : Buffer.from(ev.xml, "utf8")),
      });
      this.sent++;
      this.inflight.set(d, p);
    }
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }
}
