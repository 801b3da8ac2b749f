import { Clock, systemClock, TimerHandle } from "../core/clock";

/**
 * Notifications must not vanish while a consumer's node is being replaced (a redeploy). Two
 * cases, two tools:
 *
 * - The consumer alone is restarted and the connection stays up (a "modified nodes" deploy):
 *   what arrives for it in between is held, bounded in number and time, and handed to its
 *   successor (same id); what does not fit is counted, so the successor can announce a gap.
 * - The connection's owner is replaced as well (a full deploy): NSO keeps no backlog, so what
 *   was sent while no socket was subscribed is gone. The old owner leaves a note (by owner id)
 *   saying since when each consumer missed events; the new owner, once subscribed, has each
 *   successor announce that window.
 */
export const DEFAULT_HOLD_MS = 5000;
export const DEFAULT_MAX_HELD = 1000;

export class Hold<D> {
  readonly events: D[] = [];
  /** Arrivals beyond the bound, or that the leaving node could not pass on: their window becomes the successor's gap. */
  missed: { count: number; first: number; last: number } | undefined;
  timer: TimerHandle;

  constructor(
    readonly id: string,
    /** When the consumer stopped taking events (or the earliest event it did not pass on). */
    public since: number,
    private readonly max: number,
  ) {}

  /** Keep `d` for the successor; false when the bound is reached (counted as missed, not kept). */
  add(d: D, now: number): boolean {
    this.since = Math.min(this.since, now);
    if (this.events.length < this.max) {
      this.events.push(d);
      return true;
    }
    this.miss(now);
    return false;
  }

  /** One event the successor will not get. */
  miss(now: number): void {
    this.since = Math.min(this.since, now);
    this.missed ??= { count: 0, first: now, last: now };
    this.missed.count++;
    this.missed.first = Math.min(this.missed.first, now);
    this.missed.last = Math.max(this.missed.last, now);
  }
}

export interface HandoverOptions<D> {
  clock?: Clock;
  /** How long a hold waits for the successor after the consumer left. */
  holdMs?: number;
  maxHeld?: number;
  /** No successor came in time: what was held must be let go (blocking ones answered). */
  expired: (h: Hold<D>) => void;
}

export class Handover<D> {
  private readonly holds = new Map<string, Hold<D>>();
  private readonly clock: Clock;

  constructor(private readonly opts: HandoverOptions<D>) {
    this.clock = opts.clock ?? systemClock;
  }

  get size(): number {
    return this.holds.size;
  }

  get(id: string): Hold<D> | undefined {
    return this.holds.get(id);
  }

  /** The hold for consumer `id`, opened now when there is none. */
  open(id: string): Hold<D> {
    let h = this.holds.get(id);
    if (!h) {
      h = new Hold<D>(id, this.clock.now(), this.opts.maxHeld ?? DEFAULT_MAX_HELD);
      this.holds.set(id, h);
    }
    return h;
  }

  /** The consumer has left: its successor has `holdMs` to arrive. */
  arm(id: string): void {
    const h = this.holds.get(id);
    if (!h || h.timer !== undefined) return;
    h.timer = this.clock.setTimeout(() => {
      h.timer = undefined;
      if (this.holds.get(id) !== h) return;
      this.holds.delete(id);
      this.opts.expired(h);
    }, this.opts.holdMs ?? DEFAULT_HOLD_MS);
  }

  /** Stop holding for `id` (its successor arrived, or it is gone for good) and return the hold. */
  take(id: string): Hold<D> | undefined {
    const h = this.holds.get(id);
    if (!h) return undefined;
    this.holds.delete(id);
    if (h.timer !== undefined) this.clock.clearTimeout(h.timer);
    h.timer = undefined;
    return h;
  }

  /** Every hold, taken (the owner is closing). */
  drain(): Array<Hold<D>> {
    return [...this.holds.keys()].map((id) => this.take(id)!);
  }
}

/** What a replaced owner leaves for its successor: since when each consumer missed events. */
export interface Handoff {
  /** Where the owner was connected: a successor connected elsewhere inherits nothing. */
  endpoint: string;
  at: number;
  since: Map<string, number>;
}

/** A successor is created right after its predecessor closes; a note older than this is stale. */
const HANDOFF_MAX_AGE_MS = 60000;
const MAX_HANDOFFS = 256;
const handoffs = new Map<string, Handoff>();

export function leaveHandoff(owner: string, h: Handoff): void {
  handoffs.delete(owner);
  handoffs.set(owner, h);
  for (const [k, v] of handoffs) {
    if (handoffs.size > MAX_HANDOFFS || h.at - v.at > HANDOFF_MAX_AGE_MS) handoffs.delete(k);
  }
}

/** The note `owner`'s predecessor left, if it was connected to the same endpoint and recently. */
export function takeHandoff(owner: string, endpoint: string, now: number): Map<string, number> | undefined {
  const h = handoffs.get(owner);
  if (!h) return undefined;
  handoffs.delete(owner);
  return h.endpoint === endpoint && now - h.at <= HANDOFF_MAX_AGE_MS ? h.since : undefined;
}
