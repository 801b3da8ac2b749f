import type { Delivery, Message, Receiver } from "rhea";
import type { DropCounter } from "../core/drops";
import { asError, ProtocolError } from "../core/errors";
import type { AmqpConnection } from "./connection";
import type { DedupGate } from "./dedup-gate";
import type { EventDecoder } from "./event-decoder";
import { amqpEventId } from "./event-id";
import type { Kept, KeptDeliveries } from "./kept-deliveries";
import { AmqpInfo, amqpInfo, EventSettler, ReceivedEvent, restoreBus } from "./received-event";
import type { FailureCounter } from "./redelivery-limit";

export type AckMode = "auto" | "manual";
export const DELIVERY_KIND = "amqp1-delivery";

/** What the dispatch tells the subscription's listeners. */
export interface DispatchEvents {
  event(ev: ReceivedEvent, settler: EventSettler | undefined): void;
  drop(err: ProtocolError, info: { first: boolean; amqp: AmqpInfo }): void;
  filtered(name: string, err: Error | undefined): void;
}

export interface DispatchContext {
  conn: Pick<AmqpConnection, "acks" | "types">;
  decoder: EventDecoder;
  ackMode: AckMode;
  /** Auto mode: accept once the flow finished the event (the settler's accept), not once emitted. */
  deferAccept: boolean;
  /** The listener keeps deliveries past their 'event' (manual, deferAccept or de-duplication). */
  keeps: boolean;
  failures: FailureCounter;
  drops: DropCounter;
  kept: KeptDeliveries;
  dedup: DedupGate | undefined;
  /** The subscription's current source address. */
  address(): string;
  events: DispatchEvents;
}

/** One delivery from decoding to the listener's 'event', and how it is settled after. */
export class EventDispatch {
  emitted = 0;
  filtered = 0;

  constructor(private readonly ctx: DispatchContext) {}

  handle(link: Receiver, delivery: Delivery, message: Message): void {
    const { ctx } = this;
    const amqp = amqpInfo(ctx.address(), message);
    let decoded;
    try {
      decoded = ctx.decoder.decode(message);
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError("decode-failed", asError(e).message);
      // Rejected, not released: a message we cannot read would only come straight back.
      ctx.kept.settleNow(link, delivery, "reject", err);
      ctx.events.drop(err, { first: ctx.drops.add(err.code), amqp });
      return;
    }
    if (decoded.kind === "filtered") {
      this.filtered++;
      // Accepted, as Qpid's XML exchange "did not route" it: releasing would redeliver it forever.
      ctx.kept.settleNow(link, delivery, "accept");
      ctx.events.filtered(decoded.name, decoded.error);
      return;
    }
    const ev: ReceivedEvent = {
      topic: decoded.name ?? ctx.address(),
      payload: decoded.payload,
      amqp,
      eventId: decoded.kind === "bus" ? decoded.eventId : amqpEventId(message),
    };
    if (decoded.kind === "event") ev.xml = decoded.xml;
    if (decoded.kind === "bus") restoreBus(ev, decoded);
    const kept = ctx.keeps ? ctx.kept.keep(link, delivery) : undefined;
    if (kept && ctx.dedup && ctx.dedup.admit({ kept, message, amqp, ev })) return;
    this.deliver(link, delivery, kept, message, amqp, ev);
  }

  /** Hand an event to the listener (its copy in the de-duplication window, if any, is `kept.id`). */
  deliver(link: Receiver, delivery: Delivery, kept: Kept | undefined, message: Message, amqp: AmqpInfo, ev: ReceivedEvent): void {
    const { ctx } = this;
    if (kept && ctx.ackMode === "manual") {
      ev.ack = ctx.conn.acks.issue(DELIVERY_KIND, ctx.kept.hold(kept));
    }
    this.emitted++;
    ctx.conn.types.add(ev.topic);
    try {
      ctx.events.event(ev, kept && this.settler(kept, message, amqp, ev));
    } catch (e) {
      this.handlerFailed(link, delivery, kept, message, amqp, ev, e);
      return;
    }
    // deferAccept: it succeeded once the flow finished it (the settler's accept).
    if (kept && ctx.ackMode === "auto" && ctx.deferAccept) return;
    ctx.failures.succeeded(message);
    if (!kept) ctx.kept.settleNow(link, delivery, "accept");
    // Kept only for the de-duplication window: accepted as it is emitted, as without one.
    else if (ctx.ackMode === "auto") ctx.kept.settleKept(kept, "accept");
  }

  /**
   * Handing the event on failed. A failing listener must not kill rhea's read loop. The broker
   * gets the message back, until it has failed maxFailures times: then it is rejected
   * (dead-lettered where the queue has a dead-letter exchange), so a message that always fails
   * cannot loop forever.
   */
  private handlerFailed(link: Receiver, delivery: Delivery, kept: Kept | undefined, message: Message, amqp: AmqpInfo, ev: ReceivedEvent, e: unknown): void {
    if (kept?.done) return;
    const { ctx } = this;
    const { attempts, giveUp } = ctx.failures.failed(message);
    const err = giveUp
      ? new ProtocolError("handler-failed-repeatedly", `event handler failed ${attempts} times, message rejected: ${asError(e).message}`, { attempts })
      : new ProtocolError("handler-failed", `event handler failed (attempt ${attempts}, released for redelivery): ${asError(e).message}`, { attempts });
    // Manual mode: the token went down with the message, so no amqp1-ack will ever settle it.
    const ours = ev.ack === undefined || ctx.conn.acks.forget(ev.ack.id);
    const outcome = giveUp ? "reject" : "release";
    if (kept) {
      if (ours) ctx.kept.settleKept(kept, outcome, err);
    } else ctx.kept.settleNow(link, delivery, outcome, err);
    ctx.events.drop(err, { first: ctx.drops.add(err.code), amqp });
  }

  private settler(k: Kept, message: Message, amqp: AmqpInfo, ev: ReceivedEvent): EventSettler {
    return {
      accept: () => {
        if (k.done) return;
        this.ctx.failures.succeeded(message);
        this.ctx.kept.acceptSoon(k);
      },
      release: () => this.ctx.kept.settleKept(k, "release"),
      fail: (e) => this.handlerFailed(k.link, k.delivery, k, message, amqp, ev, e),
    };
  }
}
