import type { Message } from "rhea";
import type { DedupWindow } from "./dedup-window";
import type { Kept, KeptDeliveries } from "./kept-deliveries";
import type { AmqpInfo, ReceivedEvent } from "./received-event";

/** A copy waiting in the de-duplication window behind one with its id. */
export interface Parked {
  kept: Kept;
  message: Message;
  amqp: AmqpInfo;
  ev: ReceivedEvent;
}

export interface DedupContext {
  isCurrent(link: unknown): boolean;
  kept: KeptDeliveries;
  /** Hand a copy that waited to the flow (its id is counted as in the flow again: `kept.id`). */
  deliver(p: Parked): void;
  /** A copy of an event the flow finished was accepted unseen. */
  duplicate(id: string, amqp: AmqpInfo): void;
}

/**
 * The de-duplication window (issue 16) wired to the kept deliveries: an event id counts as seen
 * once the flow finished a copy (accepted); a copy arriving while one with its id is in the flow
 * waits, and is accepted unseen when that one is accepted or handed to the flow when it is given
 * back, so a release never loses an event.
 */
export class DedupGate {
  constructor(
    readonly window: DedupWindow<Parked>,
    private readonly ctx: DedupContext,
  ) {}

  /**
   * A kept delivery about to be handed to the flow. True: the gate took it (a duplicate,
   * accepted; or a copy waiting behind one in the flow). False: hand it on, its id now in the flow.
   */
  admit(p: Parked): boolean {
    const id = p.ev.eventId;
    const seen = this.window.admit(id);
    if (seen === "duplicate") {
      this.duplicate(p.kept, id, p.amqp);
      return true;
    }
    if (seen === "wait") {
      this.window.park(id, p);
      return true;
    }
    p.kept.id = id;
    return false;
  }

  /** The link is new or gone: its copies come back as redeliveries and are processed (at-least-once; finished ids stay). */
  forgetInFlight(): void {
    this.window.forgetInFlight();
  }

  /**
   * A kept delivery whose id the de-duplication window counts as in the flow is settled: an
   * accept remembers the id and accepts the copies waiting behind it unseen; anything else
   * forgets it and hands the next waiting copy to the flow.
   */
  settled(k: Kept, accepted: boolean): void {
    const id = k.id;
    if (id === undefined || !this.ctx.isCurrent(k.link)) return;
    k.id = undefined;
    if (accepted) {
      for (const p of this.window.finished(id)) this.duplicate(p.kept, id, p.amqp);
      return;
    }
    const next = this.window.gaveBack(id);
    if (next && !next.kept.done && this.ctx.isCurrent(next.kept.link)) {
      next.kept.id = id;
      this.ctx.deliver(next);
    }
  }

  /** A copy of an event the flow finished: accepted without reaching the flow. */
  private duplicate(k: Kept, id: string, amqp: AmqpInfo): void {
    this.ctx.kept.settleKept(k, "accept");
    this.ctx.duplicate(id, amqp);
  }
}
