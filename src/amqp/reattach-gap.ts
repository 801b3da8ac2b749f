import { sourceKind } from "./queue-durability";

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
 * The gap between losing a link and attaching it again, reported once it is attached. Only a
 * loss opens a gap: a wanted detach or an address switch does not.
 */
export class ReattachGap {
  private start: { since: number; reason: string } | undefined;

  /** The link was lost. Keep the first loss: a failing re-attach after a cut must not move the gap's start. */
  lost(now: number, reason: string): void {
    this.start ??= { since: now, reason };
  }

  /** A new source starts fresh: there is no earlier subscription whose events could be missed. */
  forget(): void {
    this.start = undefined;
  }

  /** The link is attached: what the gap (if there was one) means for `address`; the gap is closed. */
  reattached(address: string, durable: boolean, now: number): ReattachInfo | undefined {
    const lost = this.start;
    if (!lost) return undefined;
    this.start = undefined;
    const kind = sourceKind(address);
    const cause = kind === "temporary" ? "temporary-queue" : kind === "declared" && !durable ? "transient-queue" : undefined;
    return { address, since: lost.since, reattachedAt: now, reason: lost.reason, missed: cause !== undefined, cause };
  }
}
