/**
 * Events counted by type, for the health view and the metrics endpoint. It sits on a channel's
 * connection object and `add` runs once per event, so it must cost next to nothing: one Map
 * lookup and an integer increment on a box that already exists, no allocation once a type has
 * been seen. Types come from the peer (an AMQP event name, an APIC class), so their number is
 * capped: past `maxTypes` distinct types the rest count under OTHER_TYPE, which keeps the
 * metrics' label set bounded.
 */
export const OTHER_TYPE = "(other)";

interface Box {
  n: number;
}

export class TypeCounts {
  private readonly byType = new Map<string, Box>();
  private readonly other: Box = { n: 0 };
  /** Every event counted, whatever its type. */
  total = 0;

  constructor(private readonly maxTypes = 200) {}

  add(type: string): void {
    this.total++;
    const box = this.byType.get(type);
    if (box !== undefined) box.n++;
    else if (this.byType.size < this.maxTypes) this.byType.set(type, { n: 1 });
    else this.other.n++;
  }

  /** The counts as a plain object (built when read, never per event). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, b] of this.byType) out[t] = b.n;
    if (this.other.n > 0) out[OTHER_TYPE] = this.other.n;
    return out;
  }
}
