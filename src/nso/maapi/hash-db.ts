import { ProtocolError } from "../../core/errors";
import { Atom, isAtom, Term, Tuple } from "../term/types";

/**
 * The schema hash table of LOAD_HASH_DB (docs/nso-maapi.md): hash -> name for
 * every node name, identity name and namespace URI. Enough to name the `[NsHash|TagHash]`
 * tags of stream events subscribed with UseIKP = 0 and the hashes inside identityrefs; it
 * has no prefixes and no enum labels.
 */
export class HashDb {
  private readonly names = new Map<number, string>();

  /** Pairs as received; a hash is never mapped to two names on a real NSO (§5.1). */
  constructor(pairs: Iterable<[number, string]> = []) {
    for (const [h, n] of pairs) this.names.set(h, n);
  }

  get size(): number {
    return this.names.size;
  }

  name(hash: number | string): string | undefined {
    return this.names.get(typeof hash === "string" ? Number(hash) : hash);
  }

  set(hash: number, name: string): void {
    this.names.set(hash, name);
  }
}

/**
 * Collects the streamed reply: frames that are lists of up to ~200 items (or one bare item);
 * the first item is the count, then `{NameAtom, Hash}`, then the atom `eof`.
 */
export class HashDbReader {
  readonly db = new HashDb();
  declared: number | undefined;
  received = 0;
  private first = true;
  done = false;

  /** Feeds one frame's term; true once `eof` was seen. */
  add(frame: Term): boolean {
    const items = Array.isArray(frame) ? frame : [frame];
    for (const it of items) {
      if (this.done) throw new ProtocolError("maapi-hashdb-trailing", "LOAD_HASH_DB sent items after eof");
      if (this.first && typeof it === "number") {
        this.declared = it;
        this.first = false;
        continue;
      }
      this.first = false;
      if (isAtom(it, "eof")) {
        this.done = true;
        continue;
      }
      if (!(it instanceof Tuple) || it.arity !== 2) throw new ProtocolError("maapi-hashdb-item", "LOAD_HASH_DB item is not {Name, Hash}");
      const [name, hash] = it.elements;
      // Hashes reach 2688234466 (> 2^31, SMALL_BIG on the wire) but always fit a JS number.
      const h = typeof hash === "bigint" ? Number(hash) : hash;
      if (!(name instanceof Atom) || typeof h !== "number" || !Number.isSafeInteger(h))
        throw new ProtocolError("maapi-hashdb-item", "LOAD_HASH_DB item is not {Atom, Integer}");
      this.db.set(h, name.name);
      this.received++;
    }
    return this.done;
  }
}
