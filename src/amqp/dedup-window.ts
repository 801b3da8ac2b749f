import { Clock, systemClock } from "../core/clock";

export interface DedupOptions {
  /** Most finished event ids remembered (the oldest are forgotten first). */
  size: number;
  /** How long a finished id is remembered, ms. */
  maxAgeMs: number;
  clock?: Clock;
}

/** What to do with a delivery: hand it to the flow, settle it unseen, or hold it for now. */
export type Admission = "new" | "duplicate" | "wait";

/**
 * The de-duplication window of amqp1-events (issue 16, docs/scale-out.md). An id counts as seen
 * only once the flow *finished* a copy (it was accepted): a copy the flow gave back (released,
 * rejected, failed) is forgotten, so its redelivery is processed. A copy that arrives while
 * another with the same id is still in the flow waits (`park`): accepted unseen when the first
 * is finished, handed to the flow when the first is given back. Nothing in here settles
 * anything: the subscription does, with what these methods return.
 */
export class DedupWindow<P> {
  readonly size: number;
  readonly maxAgeMs: number;
  private readonly clock: Clock;
  /** Finished ids and when, oldest first (a Map keeps insertion order). */
  private readonly done = new Map<string, number>();
  /** Ids in the flow now, with the copies waiting behind each. */
  private readonly inFlight = new Map<string, P[]>();
  /** Copies settled without reaching the flow. */
  removed = 0;

  constructor(opts: DedupOptions) {
    this.size = Math.max(1, Math.floor(opts.size));
    this.maxAgeMs = Math.max(0, opts.maxAgeMs);
    this.clock = opts.clock ?? systemClock;
  }

  /** Ids remembered as finished. */
  get remembered(): number {
    this.expire();
    return this.done.size;
  }

  /** Copies waiting behind one in the flow. */
  get waiting(): number {
    let n = 0;
    for (const p of this.inFlight.values()) n += p.length;
    return n;
  }

  admit(id: string): Admission {
    this.expire();
    if (this.done.has(id)) {
      this.removed++;
      return "duplicate";
    }
    if (this.inFlight.has(id)) return "wait";
    this.inFlight.set(id, []);
    return "new";
  }

  /** Hold a copy whose id is in the flow (admit said "wait"). */
  park(id: string, copy: P): void {
    const q = this.inFlight.get(id);
    if (q) q.push(copy);
  }

  /** The flow finished the copy of `id`: remembered; the copies waiting behind it are duplicates. */
  finished(id: string): P[] {
    const parked = this.inFlight.get(id) ?? [];
    this.inFlight.delete(id);
    this.done.delete(id);
    this.done.set(id, this.clock.now());
    this.removed += parked.length;
    while (this.done.size > this.size) this.done.delete(this.done.keys().next().value as string);
    return parked;
  }

  /**
   * The copy of `id` went back to the broker (or failed): not seen. Returns the next waiting
   * copy, which is now the one in the flow (the caller hands it over), or undefined.
   */
  gaveBack(id: string): P | undefined {
    const parked = this.inFlight.get(id);
    if (!parked) return undefined;
    const next = parked.shift();
    if (next === undefined) this.inFlight.delete(id);
    return next;
  }

  /** The link went: its copies (in the flow or waiting) are the broker's again. Finished ids stay. */
  forgetInFlight(): P[] {
    const parked = [...this.inFlight.values()].flat();
    this.inFlight.clear();
    return parked;
  }

  private expire(): void {
    const oldest = this.clock.now() - this.maxAgeMs;
    for (const [id, at] of this.done) {
      if (at >= oldest) break;
      this.done.delete(id);
    }
  }
}
