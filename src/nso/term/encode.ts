import * as tags from "./tags";
import * as types from "./types";
import type { Term } from "./types";
import { asText } from "../../core/describe";

// Module-local bindings: under tsx/esbuild each use of an imported name is a getter call.
const { Atom, ErlFloat, ErlMap, ImproperList, Tuple } = types;
const {
  VERSION,
  SMALL_INTEGER_EXT,
  INTEGER_EXT,
  ATOM_EXT,
  SMALL_ATOM_UTF8_EXT,
  ATOM_UTF8_EXT,
  SMALL_TUPLE_EXT,
  LARGE_TUPLE_EXT,
  NIL_EXT,
  BINARY_EXT,
  STRING_EXT,
  LIST_EXT,
  SMALL_BIG_EXT,
  LARGE_BIG_EXT,
  NEW_FLOAT_EXT,
  MAP_EXT,
  MAX_ATOM_CHARS,
} = tags;

export interface EncodeOptions {
  /**
   * Atom encoding. "latin1" (default) is what OTP 25 `term_to_binary/1` writes and what a real
   * NSO 6.2 sends: ATOM_EXT (100) for latin-1 names, SMALL_ATOM_UTF8 (119) only for names with
   * other characters. "utf8" writes every atom as SMALL_ATOM_UTF8/ATOM_UTF8 like libconfd and
   * OTP >= 26. A 6.2.5 server accepts both (§15).
   */
  atoms?: "latin1" | "utf8";
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Encodes a term with the version byte. Output is byte-identical to OTP 25 `term_to_binary/1`
 * for every term a real NSO sends (lists of small integers become STRING_EXT, as Erlang does).
 * Values that are not terms (undefined, booleans, plain objects, fractional numbers) are a
 * programming error and throw a TypeError.
 */
export function encodeTerm(t: Term, opts?: EncodeOptions): Buffer {
  const w = new Writer(opts?.atoms === "utf8");
  w.byte(VERSION);
  w.term(t);
  return w.result();
}

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  constructor(private readonly utf8Atoms: boolean) {}

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  private u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  private u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  term(t: Term): void {
    if (typeof t === "number") return this.number(t);
    if (typeof t === "bigint") return this.bigint(t);
    if (t instanceof Atom) return this.atom(t.name);
    if (Buffer.isBuffer(t)) return this.binary(t);
    if (typeof t === "string") return this.string(t);
    if (Array.isArray(t)) return this.list(t, null);
    if (t instanceof Tuple) return this.tuple(t.elements);
    if (t instanceof ErlFloat) return this.float(t.value);
    if (t instanceof ImproperList) return this.list(t.elements, t.tail);
    if (t instanceof ErlMap) return this.map(t);
    throw new TypeError(`not an Erlang term: ${describe(t)}`);
  }

  private number(v: number): void {
    if (!Number.isInteger(v)) throw new TypeError(`not an integer: ${v} (wrap floats in ErlFloat)`);
    if (v >= 0 && v <= 255) {
      this.room(2);
      this.buf[this.pos++] = SMALL_INTEGER_EXT;
      this.buf[this.pos++] = v;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      this.room(5);
      this.buf[this.pos++] = INTEGER_EXT;
      this.buf.writeInt32BE(v, this.pos);
      this.pos += 4;
    } else if (Number.isSafeInteger(v)) {
      // Up to 7 magnitude bytes: split into 32-bit words so no bigint is needed.
      const mag = Math.abs(v);
      const lo = mag % 4294967296;
      let hi = (mag - lo) / 4294967296;
      const bytes: number[] = [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24];
      while (hi > 0) {
        bytes.push(hi & 0xff);
        hi = Math.floor(hi / 256);
      }
      while (bytes.length > 1 && bytes[bytes.length - 1] === 0) bytes.pop();
      this.room(3 + bytes.length);
      this.buf[this.pos++] = SMALL_BIG_EXT;
      this.buf[this.pos++] = bytes.length;
      this.buf[this.pos++] = v < 0 ? 1 : 0;
      for (const b of bytes) this.buf[this.pos++] = b;
    } else {
      this.bigint(BigInt(v));
    }
  }

  private bigint(v: bigint): void {
    if (v >= BigInt(INT32_MIN) && v <= BigInt(INT32_MAX)) return this.number(Number(v));
    const negative = v < 0n;
    let mag = negative ? -v : v;
    const bytes: number[] = [];
    while (mag > 0n) {
      bytes.push(Number(mag & 0xffn));
      mag >>= 8n;
    }
    if (bytes.length <= 255) {
      this.room(3 + bytes.length);
      this.buf[this.pos++] = SMALL_BIG_EXT;
      this.buf[this.pos++] = bytes.length;
    } else {
      this.room(6 + bytes.length);
      this.buf[this.pos++] = LARGE_BIG_EXT;
      this.buf.writeUInt32BE(bytes.length, this.pos);
      this.pos += 4;
    }
    this.buf[this.pos++] = negative ? 1 : 0;
    for (const b of bytes) this.buf[this.pos++] = b;
  }

  private atom(name: string): void {
    let latin1 = true;
    for (let i = 0; i < name.length; i++) {
      if (name.charCodeAt(i) > 255) {
        latin1 = false;
        break;
      }
    }
    if (latin1 && !this.utf8Atoms) {
      if (name.length > MAX_ATOM_CHARS) throw new TypeError(`atom longer than ${MAX_ATOM_CHARS} characters`);
      this.byte(ATOM_EXT);
      this.u16(name.length);
      this.room(name.length);
      this.pos += this.buf.write(name, this.pos, "latin1");
      return;
    }
    const n = Buffer.byteLength(name, "utf8");
    if ([...name].length > MAX_ATOM_CHARS) throw new TypeError(`atom longer than ${MAX_ATOM_CHARS} characters`);
    if (n <= 255) {
      this.byte(SMALL_ATOM_UTF8_EXT);
      this.byte(n);
    } else {
      this.byte(ATOM_UTF8_EXT);
      this.u16(n);
    }
    this.room(n);
    this.pos += this.buf.write(name, this.pos, "utf8");
  }

  private binary(b: Buffer): void {
    this.byte(BINARY_EXT);
    this.u32(b.length);
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** A charlist. Latin-1 text up to 65535 chars is STRING_EXT; anything else a list of code points. */
  private string(s: string): void {
    if (s.length === 0) return this.byte(NIL_EXT);
    let latin1 = s.length <= 65535;
    for (let i = 0; latin1 && i < s.length; i++) if (s.charCodeAt(i) > 255) latin1 = false;
    if (latin1) {
      this.byte(STRING_EXT);
      this.u16(s.length);
      this.room(s.length);
      this.pos += this.buf.write(s, this.pos, "latin1");
      return;
    }
    const codes: Term[] = [];
    for (const ch of s) codes.push(ch.codePointAt(0) as number);
    this.list(codes, null);
  }

  /** Proper (`tail` null) or improper list; a list of 0..255 integers is a STRING_EXT, as in Erlang. */
  private list(elements: Term[], tail: Term | null): void {
    // [a | [b]] is [a, b]: flatten list tails so the bytes match what Erlang would send.
    while (tail !== null && (Array.isArray(tail) || tail instanceof ImproperList || typeof tail === "string")) {
      if (Array.isArray(tail)) {
        elements = elements.concat(tail);
        tail = null;
      } else if (typeof tail === "string") {
        elements = elements.concat(Array.from(tail, (c) => c.codePointAt(0) as number));
        tail = null;
      } else {
        elements = elements.concat(tail.elements);
        tail = tail.tail;
      }
    }
    if (elements.length === 0) {
      if (tail === null) return this.byte(NIL_EXT);
      return this.term(tail);
    }
    if (tail === null && elements.length <= 65535 && elements.every(isByte)) {
      this.byte(STRING_EXT);
      this.u16(elements.length);
      this.room(elements.length);
      for (const e of elements) this.buf[this.pos++] = Number(e);
      return;
    }
    this.byte(LIST_EXT);
    this.u32(elements.length);
    for (const e of elements) this.term(e);
    if (tail === null) this.byte(NIL_EXT);
    else this.term(tail);
  }

  private tuple(elements: Term[]): void {
    if (elements.length <= 255) {
      this.byte(SMALL_TUPLE_EXT);
      this.byte(elements.length);
    } else {
      this.byte(LARGE_TUPLE_EXT);
      this.u32(elements.length);
    }
    for (const e of elements) this.term(e);
  }

  private float(v: number): void {
    if (!Number.isFinite(v)) throw new TypeError(`Erlang floats are finite, got ${v}`);
    this.room(9);
    this.buf[this.pos++] = NEW_FLOAT_EXT;
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  private map(m: types.ErlMap): void {
    this.byte(MAP_EXT);
    this.u32(m.entries.length);
    for (const [k, v] of m.entries) {
      this.term(k);
      this.term(v);
    }
  }
}

function isByte(t: Term): boolean {
  if (typeof t === "number") return t >= 0 && t <= 255 && Number.isInteger(t);
  return typeof t === "bigint" && t >= 0n && t <= 255n;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return v.constructor?.name ?? "object";
  return `${typeof v} ${asText(v)}`;
}
