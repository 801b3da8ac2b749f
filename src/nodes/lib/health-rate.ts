/**
 * A connection's event rate, from its running total: sampled about once a second by the health
 * registry's timer (never per event), kept for the last 10 minutes in 10 s buckets in a fixed
 * ring, so the history costs the same memory at 10 events a day and at 100,000 a second.
 */
export const BUCKET_MS = 10_000;
export const BUCKETS = 60;
/** The completed buckets and the one being filled. */
const SLOTS = BUCKETS + 1;

export class RateHistory {
  /** Events per bucket; `head` is the bucket being filled. */
  private readonly counts = new Float64Array(SLOTS);
  private head = 0;
  /** Buckets completed so far (up to BUCKETS). */
  private completed = 0;
  private bucketStart: number;
  private lastTotal: number;
  private lastAt: number;
  private perSecond = 0;

  constructor(now: number, total: number) {
    this.bucketStart = now;
    this.lastTotal = total;
    this.lastAt = now;
  }

  /**
   * Take the total at `now`. What arrived since the last sample goes into the current bucket
   * (a sample is a second apart, a bucket ten: the error is at most one sample's worth at a
   * boundary); buckets passed without a sample (a stalled event loop) stay empty.
   */
  sample(now: number, total: number): void {
    const delta = Math.max(0, total - this.lastTotal);
    const dt = now - this.lastAt;
    this.perSecond = dt > 0 ? (delta * 1000) / dt : this.perSecond;
    this.lastTotal = total;
    this.lastAt = now;
    this.counts[this.head] += delta;
    let passed = Math.floor((now - this.bucketStart) / BUCKET_MS);
    if (passed <= 0) return;
    this.bucketStart += passed * BUCKET_MS;
    passed = Math.min(passed, BUCKETS);
    for (let i = 0; i < passed; i++) {
      this.head = (this.head + 1) % SLOTS;
      this.counts[this.head] = 0;
      this.completed = Math.min(BUCKETS, this.completed + 1);
    }
  }

  /** Events per second over the last sample interval. */
  get now(): number {
    return this.perSecond;
  }

  /** Events per second of each completed 10 s bucket, oldest first (at most 10 minutes). */
  history(): number[] {
    const n = this.completed;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.counts[(this.head - n + i + SLOTS) % SLOTS] / (BUCKET_MS / 1000);
    return out;
  }
}
