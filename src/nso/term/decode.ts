import { isUtf8 } from "node:buffer";
import { inflateSync } from "node:zlib";
import { ProtocolError } from "../../core/errors";
import * as tags from "./tags";
import * as types from "./types";
import type { Term } from "./types";

// Module-local bindings on purpose: under tsx/esbuild every use of an imported name is a
// getter call, which cost half of the decode time on the hot path (measured with --cpu-prof).
const { Atom, ErlFloat, ErlMap, ImproperList, Tuple } = types;
const {
  VERSION,
  COMPRESSED,
  SMALL_INTEGER_EXT,
  INTEGER_EXT,
  ATOM_EXT,
  SMALL_ATOM_UTF8_EXT,
  SMALL_TUPLE_EXT,
  LARGE_TUPLE_EXT,
  NIL_EXT,
  BINARY_EXT,
  STRING_EXT,
  LIST_EXT,
  SMALL_BIG_EXT,
  LARGE_BIG_EXT,
  NEW_FLOAT_EXT,
  FLOAT_EXT,
  ATOM_UTF8_EXT,
  SMALL_ATOM_EXT,
  MAP_EXT,
  MAX_ATOM_CHARS,
} = tags;

export interface DecodeOptions {
  /** Deepest container nesting accepted (tuples, lists, maps). Default 64. */
  maxDepth?: number;
  /** Largest encoded input accepted, in bytes (also caps a compressed term's inflated size). Default 16 MiB. */
  maxSize?: number;
  /** Largest bignum accepted, in bytes of magnitude. Default 64 (512 bits; NSO sends at most 8). */
  maxBigBytes?: number;
  /**
   * A compressed term may decode to at most this many values per byte it took on the wire.
   * Default 16. An uncompressed term holds at most one value per byte; deflate packs up to ~1000
   * times that into the same bytes (a 16 KB frame inflated to 16 MiB of empty lists: 1 GB of heap).
   */
  maxExpansion?: number;
}

export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_BIG_BYTES = 64;
export const DEFAULT_MAX_EXPANSION = 16;

const TWO_32 = 4294967296;
/** Above this high word an 8-byte magnitude no longer fits a safe integer. */
const SAFE_HIGH_WORD = 0x200000;

/**
 * Decodes one complete term (version byte 131 first, nothing after it). Every length read from
 * the input is checked against the bytes that remain before anything is allocated for it, so a
 * hostile 4 GiB declared size costs nothing; nesting is bounded so the stack cannot be blown.
 */
export function decodeTerm(input: Uint8Array, opts?: DecodeOptions): Term {
  const maxSize = opts?.maxSize ?? DEFAULT_MAX_SIZE;
  if (input.length > maxSize) {
    throw new ProtocolError("etf-too-large", `term of ${input.length} bytes exceeds the ${maxSize}-byte limit`, {
      size: input.length,
      maxSize,
    });
  }
  let buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length === 0) throw new ProtocolError("etf-truncated", "empty term: no version byte", { offset: 0 });
  if (buf[0] !== VERSION) {
    throw new ProtocolError("etf-bad-version", `term does not start with version byte 131 (got ${buf[0]})`, {
      offset: 0,
      byte: buf[0],
    });
  }
  let start = 1;
  // A plain term's values are bounded by its bytes; a compressed one's by a budget per wire byte.
  let maxValues = Infinity;
  if (buf.length > 1 && buf[1] === COMPRESSED) {
    maxValues = buf.length * (opts?.maxExpansion ?? DEFAULT_MAX_EXPANSION);
    buf = inflate(buf, maxSize);
    start = 0;
  }
  const r = new Reader(buf, start, opts?.maxDepth ?? DEFAULT_MAX_DEPTH, opts?.maxBigBytes ?? DEFAULT_MAX_BIG_BYTES, maxValues, input.length);
  const term = r.term(0);
  if (r.pos !== buf.length) {
    throw new ProtocolError("etf-trailing", `${buf.length - r.pos} trailing bytes after the term`, {
      offset: r.pos,
      trailing: buf.length - r.pos,
    });
  }
  return term;
}

/**
 * `<<131, 80, Size:32, Zlib/binary>>`: the declared size is checked against the limit before
 * anything is inflated, and zlib stops at it (maxOutputLength), so a lying header costs nothing.
 */
function inflate(buf: Buffer, maxSize: number): Buffer {
  if (buf.length < 6) throw new ProtocolError("etf-truncated", "compressed term header truncated", { offset: 2 });
  const size = buf.readUInt32BE(2);
  if (size > maxSize) {
    throw new ProtocolError("etf-too-large", `compressed term declares ${size} bytes, over the ${maxSize}-byte limit`, {
      size,
      maxSize,
    });
  }
  let out: Buffer;
  try {
    out = inflateSync(buf.subarray(6), { maxOutputLength: Math.max(size, 1) });
  } catch (e) {
    throw new ProtocolError("etf-bad-compressed", `compressed term does not inflate: ${(e as Error).message}`, {
      offset: 6,
    });
  }
  if (out.length !== size) {
    throw new ProtocolError("etf-bad-compressed", `compressed term inflated to ${out.length} bytes, declared ${size}`, {
      size,
    });
  }
  return out;
}

class Reader {
  pos: number;
  private readonly end: number;
  /** Values this term may still decode to (compressed terms; Infinity otherwise). */
  private budget: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly maxDepth: number,
    private readonly maxBigBytes: number,
    private readonly maxValues: number,
    private readonly wireBytes: number,
  ) {
    this.pos = start;
    this.end = buf.length;
    this.budget = maxValues - 1; // the term itself
  }

  /** `n` more values are about to be decoded: refuse before anything is allocated for them. */
  private spend(n: number): void {
    this.budget -= n;
    if (this.budget < 0) {
      this.fail("etf-too-large", `compressed term of ${this.wireBytes} bytes expands to more than ${this.maxValues} values`, {
        wireBytes: this.wireBytes,
        maxValues: this.maxValues,
      });
    }
  }

  private fail(code: string, message: string, details?: Record<string, unknown>): never {
    throw new ProtocolError(code, `${message} at offset ${this.pos}`, { offset: this.pos, ...details });
  }

  /** Throws unless `n` more bytes are there; called before every read and every allocation. */
  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      this.fail("etf-truncated", `${what} needs ${n} bytes, only ${this.end - this.pos} left`, { need: n });
    }
  }

  /**
   * A container of `count` elements needs at least `count * minBytes` more bytes: checked before
   * the element array is allocated, so a lying count is "truncated", never a 4 G-slot array.
   */
  private needElements(count: number, minBytes: number, what: string): void {
    if (count * minBytes > this.end - this.pos) {
      this.fail("etf-truncated", `${what} declares ${count} elements but only ${this.end - this.pos} bytes are left`, {
        count,
      });
    }
  }

  private enter(depth: number): void {
    if (depth >= this.maxDepth) this.fail("etf-too-deep", `term nests deeper than ${this.maxDepth} levels`);
  }

  term(depth: number): Term {
    this.need(1, "term tag");
    const buf = this.buf;
    const tag = buf[this.pos++];
    switch (tag) {
      case SMALL_INTEGER_EXT:
        this.need(1, "SMALL_INTEGER_EXT");
        return buf[this.pos++];
      case INTEGER_EXT: {
        this.need(4, "INTEGER_EXT");
        const v = buf.readInt32BE(this.pos);
        this.pos += 4;
        return v;
      }
      case ATOM_EXT:
        return this.atom(2, false);
      case SMALL_ATOM_UTF8_EXT:
        return this.atom(1, true);
      case SMALL_TUPLE_EXT: {
        this.need(1, "SMALL_TUPLE_EXT arity");
        return this.tuple(buf[this.pos++], depth);
      }
      case LARGE_TUPLE_EXT: {
        this.need(4, "LARGE_TUPLE_EXT arity");
        const n = buf.readUInt32BE(this.pos);
        this.pos += 4;
        return this.tuple(n, depth);
      }
      case NIL_EXT:
        return [];
      case BINARY_EXT: {
        this.need(4, "BINARY_EXT length");
        const n = buf.readUInt32BE(this.pos);
        this.pos += 4;
        this.need(n, "BINARY_EXT body");
        // A copy, not a view: a view would pin the whole socket chunk for as long as the term lives.
        const out = Buffer.allocUnsafe(n);
        const from = this.pos;
        // Short binaries (ids, names) dominate: a plain loop beats Buffer#copy's argument checks.
        if (n <= 64) for (let i = 0; i < n; i++) out[i] = buf[from + i];
        else buf.copy(out, 0, from, from + n);
        this.pos += n;
        return out;
      }
      case STRING_EXT: {
        this.need(2, "STRING_EXT length");
        const n = buf.readUInt16BE(this.pos);
        this.pos += 2;
        this.need(n, "STRING_EXT body");
        const s = buf.toString("latin1", this.pos, this.pos + n);
        this.pos += n;
        return s;
      }
      case LIST_EXT:
        return this.list(depth);
      case SMALL_BIG_EXT: {
        this.need(1, "SMALL_BIG_EXT length");
        return this.big(buf[this.pos++]);
      }
      case LARGE_BIG_EXT: {
        this.need(4, "LARGE_BIG_EXT length");
        const n = buf.readUInt32BE(this.pos);
        this.pos += 4;
        return this.big(n);
      }
      case NEW_FLOAT_EXT: {
        this.need(8, "NEW_FLOAT_EXT");
        const v = buf.readDoubleBE(this.pos);
        this.pos += 8;
        if (!Number.isFinite(v)) {
          this.pos -= 8;
          this.fail("etf-bad-float", "NEW_FLOAT_EXT is not a finite number");
        }
        return new ErlFloat(v);
      }
      case FLOAT_EXT:
        return this.oldFloat();
      case ATOM_UTF8_EXT:
        return this.atom(2, true);
      case SMALL_ATOM_EXT:
        return this.atom(1, false);
      case MAP_EXT:
        return this.map(depth);
      default:
        this.pos--;
        return this.fail("etf-bad-tag", `unsupported term tag ${tag}`, { tag });
    }
  }

  private atom(lenBytes: 1 | 2, utf8: boolean): types.Atom {
    this.need(lenBytes, "atom length");
    const buf = this.buf;
    const n = lenBytes === 1 ? buf[this.pos] : buf.readUInt16BE(this.pos);
    this.pos += lenBytes;
    this.need(n, "atom name");
    const from = this.pos;
    const to = from + n;
    // Most frames repeat a handful of atoms (undefined, ok, start, stop...): look the bytes up
    // in a small cache before building a string. ASCII names read the same in both encodings.
    let h = (n * 31 + (utf8 ? 1 : 0)) | 0;
    for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h >>> 0) & (ATOM_CACHE_SIZE - 1);
    const cached = atomCacheBytes[slot];
    if (cached !== undefined && cached.length === n && atomCacheUtf8[slot] === utf8) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (cached[i] !== buf[from + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.pos = to;
        return atomCacheAtoms[slot];
      }
    }
    let name: string;
    if (utf8) {
      const bytes = buf.subarray(from, to);
      if (!isUtf8(bytes)) this.fail("etf-bad-atom", "UTF-8 atom is not valid UTF-8");
      name = buf.toString("utf8", from, to);
      // Count characters, not UTF-16 units, as Erlang does: a 255-emoji atom is legal.
      if (n > MAX_ATOM_CHARS && countCodePoints(name) > MAX_ATOM_CHARS) {
        this.fail("etf-bad-atom", `atom longer than ${MAX_ATOM_CHARS} characters`);
      }
    } else {
      if (n > MAX_ATOM_CHARS) this.fail("etf-bad-atom", `atom longer than ${MAX_ATOM_CHARS} characters`);
      name = buf.toString("latin1", from, to);
    }
    this.pos = to;
    const a = Atom.of(name);
    if (n <= ATOM_CACHE_MAX_BYTES) {
      atomCacheBytes[slot] = Uint8Array.prototype.slice.call(buf, from, to);
      atomCacheUtf8[slot] = utf8;
      atomCacheAtoms[slot] = a;
    }
    return a;
  }

  private tuple(arity: number, depth: number): types.Tuple {
    this.enter(depth);
    this.needElements(arity, 1, "tuple");
    this.spend(arity);
    const elements = new Array<Term>(arity);
    for (let i = 0; i < arity; i++) elements[i] = this.term(depth + 1);
    return new Tuple(elements);
  }

  /**
   * LIST_EXT: `Len:32, Elements, Tail`. A tail that is itself a list continues the same list
   * (`[a | [b]]` is `[a, b]`), read in a loop so a chain of one-element lists cannot recurse.
   */
  private list(depth: number): Term {
    this.enter(depth);
    const buf = this.buf;
    const elements: Term[] = [];
    for (;;) {
      this.need(4, "LIST_EXT length");
      const n = buf.readUInt32BE(this.pos);
      this.pos += 4;
      // Each element takes at least one byte, and so does the tail.
      this.needElements(n + 1, 1, "list");
      this.spend(n + 1);
      for (let i = 0; i < n; i++) elements.push(this.term(depth + 1));
      this.need(1, "list tail");
      const tailTag = buf[this.pos];
      if (tailTag === NIL_EXT) {
        this.pos++;
        return elements;
      }
      if (tailTag === LIST_EXT) {
        this.pos++;
        continue;
      }
      if (tailTag === STRING_EXT) {
        // [X | "ab"] is the proper list [X, $a, $b].
        const s = this.term(depth + 1) as string;
        this.spend(s.length);
        for (let i = 0; i < s.length; i++) elements.push(s.charCodeAt(i));
        return elements;
      }
      const tail = this.term(depth + 1);
      // Erlang reads a zero-length list with a tail as the tail itself.
      return elements.length === 0 ? tail : new ImproperList(elements, tail);
    }
  }

  private map(depth: number): types.ErlMap {
    this.enter(depth);
    this.need(4, "MAP_EXT arity");
    const n = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    this.needElements(n, 2, "map");
    this.spend(2 * n);
    const entries = new Array<[Term, Term]>(n);
    for (let i = 0; i < n; i++) {
      const k = this.term(depth + 1);
      entries[i] = [k, this.term(depth + 1)];
    }
    return new ErlMap(entries);
  }

  /** Bignum magnitude, little-endian; a number when it is a safe integer, else a bigint. */
  private big(n: number): number | bigint {
    if (n > this.maxBigBytes) {
      this.fail("etf-too-large", `bignum of ${n} bytes exceeds the ${this.maxBigBytes}-byte limit`, { bytes: n });
    }
    this.need(n + 1, "bignum");
    const buf = this.buf;
    const negative = buf[this.pos] !== 0;
    if (buf[this.pos] > 1) this.fail("etf-bad-big", `bignum sign byte ${buf[this.pos]} is neither 0 nor 1`);
    const p = this.pos + 1;
    this.pos = p + n;
    let top = n;
    while (top > 0 && buf[p + top - 1] === 0) top--; // non-canonical leading zeros
    if (top <= 8) {
      let lo = 0;
      let hi = 0;
      for (let i = Math.min(top, 4) - 1; i >= 0; i--) lo = lo * 256 + buf[p + i];
      for (let i = top - 1; i >= 4; i--) hi = hi * 256 + buf[p + i];
      if (hi < SAFE_HIGH_WORD) {
        const v = hi * TWO_32 + lo;
        return negative ? (v === 0 ? 0 : -v) : v;
      }
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      return negative ? -v : v;
    }
    // Rare (beyond 64 bits): build it from hex, most significant byte first.
    let hex = "";
    for (let i = top - 1; i >= 0; i--) hex += HEX[buf[p + i]];
    const v = BigInt("0x" + hex);
    return negative ? -v : v;
  }

  /** FLOAT_EXT: 31 bytes of "%.20e" text, NUL padded (pre-R11 encoding, kept for completeness). */
  private oldFloat(): types.ErlFloat {
    this.need(31, "FLOAT_EXT");
    const raw = this.buf.toString("latin1", this.pos, this.pos + 31);
    const nul = raw.indexOf("\0");
    const text = (nul < 0 ? raw : raw.slice(0, nul)).trim();
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) this.fail("etf-bad-float", "FLOAT_EXT text is not a number");
    const v = Number(text);
    if (!Number.isFinite(v)) this.fail("etf-bad-float", "FLOAT_EXT is not a finite number");
    this.pos += 31;
    return new ErlFloat(v);
  }
}

/** Direct-mapped cache of recently decoded atoms, by their bytes (bounded: 512 entries of <= 64 bytes). */
const ATOM_CACHE_SIZE = 512;
const ATOM_CACHE_MAX_BYTES = 64;
const atomCacheBytes: Array<Uint8Array | undefined> = new Array(ATOM_CACHE_SIZE).fill(undefined);
const atomCacheUtf8: boolean[] = new Array(ATOM_CACHE_SIZE).fill(false);
const atomCacheAtoms: types.Atom[] = new Array(ATOM_CACHE_SIZE);

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}
