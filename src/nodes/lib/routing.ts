/**
 * Output routing by key, the way the core Switch node routes: one output per configured key
 * in order, plus a trailing "other" output that catches every key not listed (when enabled).
 * The editor derives the node's `outputs` count and `outputLabels` from the same list, so
 * ports and routing can never disagree.
 */
export interface RouterOptions {
  /** Add the trailing "other" output; without it, unlisted keys are dropped (index -1). */
  other?: boolean;
  otherLabel?: string;
}

export class OutputRouter {
  readonly keys: readonly string[];
  readonly outputs: number;
  private readonly index = new Map<string, number>();
  private readonly otherIndex: number;
  private readonly otherLabel: string;

  constructor(keys: readonly string[], opts: RouterOptions = {}) {
    const unique: string[] = [];
    for (const k of keys) {
      if (!this.index.has(k)) {
        this.index.set(k, unique.length);
        unique.push(k);
      }
    }
    this.keys = unique;
    this.otherIndex = opts.other === false ? -1 : unique.length;
    this.outputs = unique.length + (this.otherIndex >= 0 ? 1 : 0);
    this.otherLabel = opts.otherLabel ?? "other";
  }

  /** Output index for `key`, or -1 when it has no output (no "other" output configured). */
  indexOf(key: string): number {
    const i = this.index.get(key);
    return i === undefined ? this.otherIndex : i;
  }

  /**
   * The array `node.send()` takes: `msg` at the key's output, null elsewhere; undefined when
   * the key has no output.
   */
  route<M>(key: string, msg: M): Array<M | null> | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.at(i, msg);
  }

  /** The array `node.send()` takes with `msg` at output `index` (e.g. control replies, gap notices). */
  at<M>(index: number, msg: M): Array<M | null> {
    if (this.outputs === 1) return [msg];
    const out = new Array<M | null>(this.outputs).fill(null);
    out[index] = msg;
    return out;
  }

  /** The last output: "other" when there is one. */
  get lastIndex(): number {
    return this.outputs - 1;
  }

  labels(): string[] {
    return this.otherIndex >= 0 ? [...this.keys, this.otherLabel] : [...this.keys];
  }
}

/** Parse a user-entered key list ("a, b\nc") into keys, dropping blanks and duplicates. */
export function parseKeyList(input: string | readonly string[] | undefined): string[] {
  const parts = Array.isArray(input) ? input : String(input ?? "").split(/[\s,]+/);
  return [...new Set(parts.map((s) => String(s).trim()).filter((s) => s.length > 0))];
}
