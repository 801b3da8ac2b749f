import type { Delivery, Receiver } from "rhea";
import type { ProtocolError } from "../core/errors";
import type { CreditWindow } from "./credit-window";
import type { HeldDelivery } from "./settlement";

/** A delivery the listener keeps past its 'event' (manual mode, or auto with deferAccept). */
export interface Kept {
  link: Receiver;
  delivery: Delivery;
  /** Settled, released or given up: nothing more is sent for it. */
  done: boolean;
  /** Its event id, while the de-duplication window counts it as in the flow. */
  id?: string;
}

export type SettleOutcome = "accept" | "reject" | "release";

export interface KeptContext {
  credit: CreditWindow;
  isCurrent(link: Receiver): boolean;
  /** A kept delivery was settled (`accepted` or not): the de-duplication window's turn. */
  settled(k: Kept, accepted: boolean): void;
}

/**
 * Settling deliveries, and the deliveries the listener keeps past its 'event': tracked, so they
 * are released explicitly when the subscription closes or switches address. RabbitMQ 3.10
 * requeues a closed link's unsettled deliveries by itself (measured), but a broker that applies
 * the source's default outcome otherwise must not get to accept them.
 */
export class KeptDeliveries {
  /** Kept deliveries of the current link not settled yet. */
  private readonly kept = new Set<Kept>();
  /** deferAccept: accepts asked for during this turn of the event loop, sent together after it. */
  private toAccept: Kept[] = [];
  private acceptScheduled = false;

  constructor(private readonly ctx: KeptContext) {}

  /** Track a delivery the listener keeps past its 'event', so closing can hand it back. */
  keep(link: Receiver, delivery: Delivery): Kept {
    const k: Kept = { link, delivery, done: false };
    if (this.ctx.isCurrent(link)) this.kept.add(k);
    return k;
  }

  /** The link is new or gone: the broker took its deliveries back; settling them later would mean nothing. */
  clear(): void {
    this.kept.clear();
  }

  settleNow(link: Receiver, delivery: Delivery, outcome: SettleOutcome, err?: ProtocolError): void {
    if (outcome === "accept") delivery.accept();
    else if (outcome === "release") delivery.release();
    else
      delivery.reject({ condition: err?.code.startsWith("handler-") ? "amqp:internal-error" : "amqp:decode-error", description: err?.message.slice(0, 200) });
    this.ctx.credit.settledOne(link);
  }

  /**
   * Settle a kept delivery, once. On a link that is no longer current it is only forgotten: the
   * broker has taken it back with that link and will deliver it again.
   */
  settleKept(k: Kept, outcome: SettleOutcome, err?: ProtocolError): void {
    if (k.done) return;
    k.done = true;
    this.kept.delete(k);
    if (this.ctx.isCurrent(k.link)) this.settleNow(k.link, k.delivery, outcome, err);
    this.ctx.settled(k, outcome === "accept");
  }

  /**
   * The flow finishes messages one by one, each in its own Node-RED delivery: accepting each at
   * once would cost a disposition frame, a flow frame and a socket write per message (rhea writes
   * on the next tick). The accepts of one event-loop turn go out together instead, as one
   * disposition for each run of consecutive deliveries, and the credit they free in one flow.
   */
  acceptSoon(k: Kept): void {
    this.toAccept.push(k);
    if (this.acceptScheduled) return;
    this.acceptScheduled = true;
    setImmediate(() => this.flushAccepts(true));
  }

  /** Send the accepts asked for so far; `grant`: give their credit back (not while closing). */
  flushAccepts(grant: boolean): void {
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
      if (!this.ctx.isCurrent(k.link)) continue;
      k.delivery.accept();
      this.ctx.credit.freed();
      link = k.link;
      this.ctx.settled(k, true);
    }
    if (link && grant) this.ctx.credit.topUp(link);
  }

  /**
   * Hand every kept delivery back to the broker (released: it delivers them again) before the
   * link goes; what the flow had finished is accepted first. No credit is granted: the link is
   * closing.
   */
  releaseAll(): void {
    this.flushAccepts(false);
    for (const k of this.kept) {
      k.done = true;
      if (this.ctx.isCurrent(k.link)) k.delivery.release();
    }
    this.kept.clear();
  }

  /** A manual-mode delivery as the connection's AckRegistry holds it until amqp1-ack settles it. */
  hold(k: Kept): HeldDelivery {
    const link = k.link;
    return {
      delivery: k.delivery,
      // A delivery released on close is the broker's again, even if the link were still there.
      linkAlive: () => !k.done && this.ctx.isCurrent(link) && !link.is_closed(),
      settled: (outcome) => {
        if (k.done) return;
        k.done = true;
        this.kept.delete(k);
        this.ctx.credit.settledOne(link);
        this.ctx.settled(k, outcome === "accept");
      },
      dropped: (why) => {
        // Too many unsettled: give it back to the broker rather than hold it forever.
        if (why === "evicted") return this.settleKept(k, "release");
        k.done = true;
        this.kept.delete(k);
        this.ctx.settled(k, false);
      },
    };
  }
}
