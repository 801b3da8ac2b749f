import type { Receiver } from "rhea";

/**
 * The receiver's credit, managed by hand: the link holds at most `credit` unsettled deliveries.
 * The credit granted is always `credit` minus the deliveries still unsettled, never "one back
 * per settlement": a broker that sends beyond its credit (RabbitMQ 3.x does, see topUp) must
 * not make the window grow.
 */
export class CreditWindow {
  /** Deliveries of the current link not settled yet (manual mode: waiting for amqp1-ack). */
  private unsettled = 0;

  constructor(
    readonly credit: number,
    /** The listener keeps deliveries past their 'event', so they hold credit until settled. */
    private readonly keeps: boolean,
    /** Only the current link counts: deliveries of an older one count for nothing. */
    private readonly isCurrent: (link: Receiver) => boolean,
  ) {}

  /** Deliveries of the current link not settled yet: at most `credit`, short of a broker overrun. */
  get inFlight(): number {
    return this.unsettled;
  }

  /** A new link, or none: nothing of the old one is unsettled any more. */
  reset(): void {
    this.unsettled = 0;
  }

  /** A delivery arrived on `link`. */
  arrived(link: Receiver): void {
    if (this.isCurrent(link)) this.unsettled++;
  }

  /** A delivery of the current link is settled, its credit granted later (a batch of accepts). */
  freed(): void {
    this.unsettled--;
  }

  /** A delivery of `link` is settled: its slot is free (deliveries of an older link count for nothing). */
  settledOne(link: Receiver): void {
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
  topUp(link: Receiver): void {
    if (!this.isCurrent(link)) return;
    const have = (link as unknown as { credit: number }).credit ?? 0;
    const add = this.credit - this.unsettled - have;
    if (add <= 0) return;
    if (have > 0 && (this.keeps || add < Math.max(1, this.credit >> 2))) return;
    link.add_credit(add);
  }
}
