/**
 * Counts what was dropped and why. The first drop of each reason is reported (so the log
 * is not flooded by a peer that sends garbage at line rate); every drop is counted and
 * the counts are visible to status and tests.
 */
export class DropCounter {
  private readonly counts = new Map<string, number>();
  private totalCount = 0;

  /** `parent` counts every drop too: a link's drops also go to its connection's, which outlives it. */
  constructor(private readonly parent?: DropCounter) {}

  /** Count one drop; returns true when this is the first of its reason (report it). */
  add(reason: string): boolean {
    this.parent?.add(reason);
    const n = (this.counts.get(reason) ?? 0) + 1;
    this.counts.set(reason, n);
    this.totalCount++;
    return n === 1;
  }

  get total(): number {
    return this.totalCount;
  }

  count(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
