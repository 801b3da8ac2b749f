import type { Session } from "rhea";

/** The parts of rhea's session the guard relies on (not in rhea's typings). */
interface RheaIncomingDelivery {
  id: number;
  settled: boolean;
}
interface RheaRing {
  capacity: number;
  push(d: RheaIncomingDelivery): void;
  pop_if(f: (d: RheaIncomingDelivery) => boolean): number;
  by_id(id: number): RheaIncomingDelivery | undefined;
  available(): number;
}

/**
 * rhea (3.0.5) keeps a session's incoming deliveries in a ring of 2048 and offers the peer a
 * session window of the ring's free slots; settled deliveries leave the ring only from its head.
 * One delivery held unsettled (a message the flow is still working on, a manual-mode message
 * waiting for its amqp1-ack) therefore closes the session after 2048 later deliveries, however
 * many of those were settled: the broker stops sending, although the link has credit, until
 * that one is settled (measured on RabbitMQ 3.10: a message lost in a partial deploy held the
 * link for the 5 minutes until the flow window wrote it off).
 *
 * guardSessionWindow gives `session` a store of the same capacity from which settled deliveries
 * leave wherever they are, so the window counts the deliveries still unsettled, which the link's
 * credit bounds. Throws if rhea's internals are not what this relies on.
 */
export function guardSessionWindow(session: Session): void {
  const incoming = (session as unknown as { incoming?: { deliveries?: RheaRing; window?: number } }).incoming;
  const ring = incoming?.deliveries;
  if (
    !incoming ||
    !ring ||
    typeof ring.capacity !== "number" ||
    typeof ring.pop_if !== "function" ||
    typeof ring.by_id !== "function" ||
    incoming.window !== ring.available()
  ) {
    throw new Error("rhea internals changed: cannot guard the session's incoming window (see session-window.ts)");
  }
  incoming.deliveries = new SettledLeaveAnywhere(ring.capacity);
}

class SettledLeaveAnywhere implements RheaRing {
  /** By delivery id, oldest first. */
  private readonly byId = new Map<number, RheaIncomingDelivery>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.byId.size;
  }

  available(): number {
    return this.capacity - this.byId.size;
  }

  push(d: RheaIncomingDelivery): void {
    // As rhea's ring: the session window keeps a well-behaved peer from getting here.
    if (this.byId.size >= this.capacity) throw new Error(`session buffer overflow: ${this.byId.size} deliveries unsettled, capacity ${this.capacity}`);
    this.byId.set(d.id, d);
  }

  by_id(id: number): RheaIncomingDelivery | undefined {
    return this.byId.get(id);
  }

  /**
   * Remove the deliveries `f` accepts (rhea: the settled ones). From the oldest on, as rhea
   * does; past one that stays, the rest is looked at only once the store is half full, so the
   * usual call costs what rhea's did.
   */
  pop_if(f: (d: RheaIncomingDelivery) => boolean): number {
    let removed = 0;
    for (const [id, d] of this.byId) {
      if (f(d)) {
        this.byId.delete(id);
        removed++;
      } else if (this.byId.size * 2 < this.capacity) break;
    }
    return removed;
  }
}
