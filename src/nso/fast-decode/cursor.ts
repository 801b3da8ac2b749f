import { isUtf8 } from "node:buffer";
import * as tags from "../term/tags";

// Module-local bindings: under tsx every use of an imported name is a getter call (see term/decode.ts).
const { SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_TUPLE_EXT, NIL_EXT, BINARY_EXT, STRING_EXT, LIST_EXT, SMALL_BIG_EXT, MAX_ATOM_CHARS } = tags;
const { ATOM_EXT, SMALL_ATOM_UTF8_EXT, ATOM_UTF8_EXT, SMALL_ATOM_EXT } = tags;

/**
 * The fast decoder met bytes it does not handle (another shape, a rare encoding, anything the
 * generic decoder would refuse): the caller decodes the frame the generic way instead, which
 * gives the result or the ProtocolError. One instance, so bailing builds no stack trace.
 */
export class Bail extends Error {}
export const BAIL = new Bail("not a shape the fast notification decoder handles");

const TWO_32 = 4294967296;
/** Above this high word an 8-byte magnitude no longer fits a safe integer (as in term/decode.ts). */
const SAFE_HIGH_WORD = 0x200000;
const EMPTY = Buffer.alloc(0);
/** Frames up to this size share one latin-1 text for their strings (see Cursor.latin1). */
const SHARED_TEXT_MAX = 4096;

/** "undefined" at buf[q..q+9), three bytes at a time ("und", "efi", "ned"): it is in most progress slots. */
function isUndefinedAt(buf: Buffer, q: number): boolean {
  return (
    ((buf[q] << 16) | (buf[q + 1] << 8) | buf[q + 2]) === 0x756e64 &&
    ((buf[q + 3] << 16) | (buf[q + 4] << 8) | buf[q + 5]) === 0x656669 &&
    ((buf[q + 6] << 16) | (buf[q + 7] << 8) | buf[q + 8]) === 0x6e6564
  );
}

/**
 * A read position in one frame's term bytes. Every read checks the bytes that remain and bails
 * beyond them; every term is read to its end exactly as the generic decoder reads it, so the
 * position after a notification is where the generic decoder would stop.
 */
export class Cursor {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;
  /** The generic decoder's bignum limit (bytes of magnitude); this cursor reads at most 8. */
  maxBigBytes = 8;
  /**
   * The whole frame as latin-1, made on the first string read: an ASCII string is then a
   * substring of it, which costs a fraction of a Buffer#toString per string (one call into C++
   * per frame instead of one per string). Only for small frames: a substring of 13 characters
   * or more shares the frame's text, and a flow keeping it keeps that text alive.
   */
  private latin1: string | undefined;

  reset(buf: Buffer, pos: number, maxBigBytes: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = buf.length;
    this.maxBigBytes = Math.min(maxBigBytes, 8);
    this.latin1 = undefined;
  }

  /** Lets go of the frame and its text. */
  release(): void {
    this.buf = EMPTY;
    this.end = 0;
    this.latin1 = undefined;
  }

  /** Bytes from..to as UTF-8 (U+FFFD for bad bytes, as Buffer#toString does). */
  private utf8(from: number, to: number): string {
    const buf = this.buf;
    if (to - from > 128 || this.end > SHARED_TEXT_MAX) return buf.toString("utf8", from, to);
    let acc = 0;
    let i = from;
    for (; i + 4 <= to; i += 4) acc |= buf[i] | buf[i + 1] | buf[i + 2] | buf[i + 3];
    for (; i < to; i++) acc |= buf[i];
    // ASCII reads the same in latin-1 and UTF-8.
    return (acc & 0x80) === 0 ? this.ascii(from, to) : buf.toString("utf8", from, to);
  }

  /** Bytes from..to, known to be ASCII (or read as latin-1), as a string. */
  private ascii(from: number, to: number): string {
    if (this.end > SHARED_TEXT_MAX) return this.buf.toString("latin1", from, to);
    return (this.latin1 ??= this.buf.toString("latin1", 0, this.end)).substring(from, to);
  }

  byte(): number {
    if (this.pos >= this.end) throw BAIL;
    return this.buf[this.pos++];
  }

  peek(): number {
    if (this.pos >= this.end) throw BAIL;
    return this.buf[this.pos];
  }

  private u32(): number {
    const p = this.pos;
    if (this.end - p < 4) throw BAIL;
    const buf = this.buf;
    this.pos = p + 4;
    return buf[p] * 0x1000000 + ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
  }

  /** A SMALL_TUPLE_EXT header of exactly `arity` elements. */
  tuple(arity: number): void {
    if (this.byte() !== SMALL_TUPLE_EXT || this.byte() !== arity) throw BAIL;
  }

  /** A SMALL_TUPLE_EXT header; its arity. */
  anyTuple(): number {
    if (this.byte() !== SMALL_TUPLE_EXT) throw BAIL;
    return this.byte();
  }

  /**
   * The element count of a proper list: 0 for `[]`, n for LIST_EXT whose tail is checked by
   * `endList` after its n elements. Anything else (a charlist, an empty LIST_EXT) bails.
   */
  list(): number {
    const tag = this.byte();
    if (tag === NIL_EXT) return 0;
    if (tag !== LIST_EXT) throw BAIL;
    const n = this.u32();
    if (n === 0 || n >= this.end - this.pos) throw BAIL;
    return n;
  }

  /** The `[]` tail after a LIST_EXT's elements (a longer or improper tail bails). */
  endList(): void {
    if (this.byte() !== NIL_EXT) throw BAIL;
  }

  /** An integer that fits a JS number exactly (NSO's ints; bignums up to 2^53). */
  int(): number {
    const tag = this.byte();
    if (tag === SMALL_INTEGER_EXT) return this.byte();
    if (tag === INTEGER_EXT) {
      const p = this.pos;
      if (this.end - p < 4) throw BAIL;
      const buf = this.buf;
      this.pos = p + 4;
      return (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
    }
    if (tag === SMALL_BIG_EXT) {
      const v = this.big();
      if (typeof v !== "number") throw BAIL;
      return v;
    }
    throw BAIL;
  }

  /** Any integer: a number up to 2^53, a decimal string beyond (fields.ts bigInt). */
  bigInt(): number | string {
    const tag = this.peek();
    if (tag !== SMALL_BIG_EXT) return this.int();
    this.pos++;
    const v = this.big();
    return typeof v === "number" ? v : v.toString();
  }

  /** SMALL_BIG_EXT after its tag, of at most 8 bytes; the same value term/decode.ts gives. */
  private big(): number | bigint {
    const n = this.byte();
    if (n > this.maxBigBytes || this.end - this.pos < n + 1) throw BAIL;
    const buf = this.buf;
    const sign = buf[this.pos];
    if (sign > 1) throw BAIL;
    const p = this.pos + 1;
    this.pos = p + n;
    let top = n;
    while (top > 0 && buf[p + top - 1] === 0) top--;
    let lo = 0;
    let hi = 0;
    for (let i = Math.min(top, 4) - 1; i >= 0; i--) lo = lo * 256 + buf[p + i];
    for (let i = top - 1; i >= 4; i--) hi = hi * 256 + buf[p + i];
    if (hi < SAFE_HIGH_WORD) {
      const v = hi * TWO_32 + lo;
      return sign === 1 ? (v === 0 ? 0 : -v) : v;
    }
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    return sign === 1 ? -v : v;
  }

  /** True (and consumed) when the next term is the atom `undefined`, in any atom encoding. */
  undefinedAtom(): boolean {
    const buf = this.buf;
    const p = this.pos;
    const tag = buf[p];
    // NSO sends ATOM_EXT (2-byte length).
    if ((tag === ATOM_EXT || tag === ATOM_UTF8_EXT) && buf[p + 1] === 0 && buf[p + 2] === 9 && p + 12 <= this.end && isUndefinedAt(buf, p + 3)) {
      this.pos = p + 12;
      return true;
    }
    if ((tag === SMALL_ATOM_UTF8_EXT || tag === SMALL_ATOM_EXT) && buf[p + 1] === 9 && p + 11 <= this.end && isUndefinedAt(buf, p + 2)) {
      this.pos = p + 11;
      return true;
    }
    return false;
  }

  /** True (and consumed) when the next term is an atom spelled `name` (ASCII). */
  atomIs(name: Uint8Array): boolean {
    const buf = this.buf;
    const p = this.pos;
    const tag = buf[p];
    let from: number;
    if (tag === SMALL_ATOM_UTF8_EXT || tag === SMALL_ATOM_EXT) {
      if (buf[p + 1] !== name.length) return false;
      from = p + 2;
    } else if (tag === ATOM_EXT || tag === ATOM_UTF8_EXT) {
      if (buf[p + 1] !== 0 || buf[p + 2] !== name.length) return false;
      from = p + 3;
    } else return false;
    if (from + name.length > this.end) return false;
    for (let i = 0; i < name.length; i++) if (buf[from + i] !== name[i]) return false;
    this.pos = from + name.length;
    return true;
  }

  /** True when the next term is an atom (any encoding), not consumed. */
  atHead(): boolean {
    const tag = this.peek();
    return tag === SMALL_ATOM_UTF8_EXT || tag === ATOM_UTF8_EXT || tag === ATOM_EXT || tag === SMALL_ATOM_EXT;
  }

  /** An atom's name, refused (bail) where the generic decoder refuses it: bad UTF-8, > 255 characters. */
  atom(): string {
    const tag = this.byte();
    let n: number;
    if (tag === SMALL_ATOM_UTF8_EXT || tag === SMALL_ATOM_EXT) n = this.byte();
    else if (tag === ATOM_UTF8_EXT || tag === ATOM_EXT) n = (this.byte() << 8) | this.byte();
    else throw BAIL;
    const from = this.pos;
    const to = from + n;
    if (to > this.end) throw BAIL;
    const buf = this.buf;
    this.pos = to;
    if (tag === SMALL_ATOM_EXT || tag === ATOM_EXT) {
      if (n > MAX_ATOM_CHARS) throw BAIL;
      return this.ascii(from, to);
    }
    let ascii = n <= MAX_ATOM_CHARS;
    for (let i = from; ascii && i < to; i++) if (buf[i] >= 0x80) ascii = false;
    if (ascii) return this.ascii(from, to);
    // Rare: non-ASCII or long UTF-8 atoms; the generic decoder's checks, or bail.
    if (!isUtf8(buf.subarray(from, to))) throw BAIL;
    const name = buf.toString("utf8", from, to);
    if (Array.from(name).length > MAX_ATOM_CHARS) throw BAIL;
    return name;
  }

  /**
   * A string slot (fields.ts text): a binary as UTF-8 (U+FFFD for bad bytes, as Buffer#toString),
   * an atom's name, a charlist as latin-1, `[]` as "". A list of code points bails (rare).
   */
  text(): string {
    const tag = this.peek();
    if (tag === BINARY_EXT) {
      this.pos++;
      const n = this.u32();
      const from = this.pos;
      if (n > this.end - from) throw BAIL;
      this.pos = from + n;
      return n === 0 ? "" : this.utf8(from, from + n);
    }
    if (tag === NIL_EXT) {
      this.pos++;
      return "";
    }
    if (tag === STRING_EXT) {
      this.pos++;
      const n = (this.byte() << 8) | this.byte();
      const from = this.pos;
      if (n > this.end - from) throw BAIL;
      this.pos = from + n;
      return this.ascii(from, from + n);
    }
    return this.atom();
  }

  /** An optional string (fields.ts optText): the atom `undefined`, `[]` and "" are absent. */
  optText(): string | undefined {
    // A binary (the common case) cannot be `undefined`: skip that test for it.
    if (this.peek() !== BINARY_EXT && this.undefinedAtom()) return undefined;
    const s = this.text();
    return s === "" ? undefined : s;
  }

  /** A binary as term/json.ts binaryToJson renders it: UTF-8 text, or `{binary: base64}`. */
  binaryJson(): string | { binary: string } {
    if (this.byte() !== BINARY_EXT) throw BAIL;
    const n = this.u32();
    const from = this.pos;
    if (n > this.end - from) throw BAIL;
    const to = from + n;
    this.pos = to;
    const bytes = this.buf.subarray(from, to);
    if (isUtf8(bytes)) return n === 0 ? "" : this.utf8(from, to);
    return { binary: bytes.toString("base64") };
  }

  /** A binary whose content is not read (uinfo's clear-text password slot): skipped. */
  skipBinary(): void {
    if (this.byte() !== BINARY_EXT) throw BAIL;
    const n = this.u32();
    if (n > this.end - this.pos) throw BAIL;
    this.pos += n;
  }

  /** A binary's bytes, copied (so nothing pins the socket chunk). */
  binary(): Buffer {
    if (this.byte() !== BINARY_EXT) throw BAIL;
    const n = this.u32();
    if (n > this.end - this.pos) throw BAIL;
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}
