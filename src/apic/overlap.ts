/**
 * While a session renewal overlaps two APIC sessions, one change can arrive twice: once on the
 * old socket under the old subscription id and once on the new socket under the new id. The
 * flow must see it once. Copies are matched as a multiset per subscription: a change from one
 * side cancels one unmatched earlier copy from the other side, so a change that only one side
 * carried (it happened before the new subscription existed) is still delivered, and two
 * genuinely repeated identical changes on the same side are both delivered.
 */
export class OverlapDedup {
  private readonly balance = new Map<string, number>();

  /** Bounded: a renewal during a flood must not grow memory without limit (beyond it, a duplicate may pass). */
  constructor(private readonly maxEntries = 20000) {}

  get size(): number {
    return this.balance.size;
  }

  /** `side` 1 = old session, -1 = new session. True when this copy was already delivered from the other side. */
  duplicate(key: string, side: 1 | -1): boolean {
    const b = this.balance.get(key) ?? 0;
    const dup = b * side < 0;
    const nb = b + side;
    if (nb === 0) this.balance.delete(key);
    else if (this.balance.has(key) || this.balance.size < this.maxEntries) this.balance.set(key, nb);
    return dup;
  }
}

/** What makes two notifications the same change for one subscription (attribute order ignored). */
export function changeKey(subKey: number, ev: { class: string; dn: string; status: string; attributes: Record<string, string> }): string {
  const attrs = Object.keys(ev.attributes)
    .sort()
    .map((k) => [k, ev.attributes[k]]);
  return JSON.stringify([subKey, ev.class, ev.dn, ev.status, attrs]);
}
