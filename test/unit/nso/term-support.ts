/**
 * Test helpers for the ETF codec: a parser for the Erlang-like term text used in
 * nso-real-frames.txt (and printed by our erl peer), a canonical form that two terms share
 * exactly when Erlang would call them equal (=:=), and the frames-file reader.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Atom, ErlFloat, ErlMap, ImproperList, Term, Tuple } from "../../../src/nso/term";

/**
 * Parses the term notation of the frames file: integers, bare or 'quoted' atoms (bare atoms may
 * contain '-' there: `my-maapi-ctx`), `<<"text">>` / `<<1,2>>` binaries, "charlists", floats,
 * tuples, proper and improper lists, `#{K => V}` maps.
 */
export function parseTermText(text: string): Term {
  let i = 0;
  const s = text;
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`term text: ${what} at ${i}: ${s.slice(Math.max(0, i - 20), i + 20)}`);
  };
  const expect = (c: string): void => {
    ws();
    if (s[i] !== c) fail(`expected '${c}'`);
    i++;
  };
  const quoted = (q: string): string => {
    i++; // opening quote
    let out = "";
    while (i < s.length && s[i] !== q) {
      if (s[i] === "\\") {
        const c = s[i + 1];
        out += c === "n" ? "\n" : c === "t" ? "\t" : c === "r" ? "\r" : c;
        i += 2;
      } else out += s[i++];
    }
    if (s[i] !== q) fail("unterminated quote");
    i++;
    return out;
  };
  const seq = (close: string): { items: Term[]; tail: Term | null } => {
    const items: Term[] = [];
    let tail: Term | null = null;
    ws();
    if (s[i] === close) {
      i++;
      return { items, tail };
    }
    for (;;) {
      items.push(value());
      ws();
      if (s[i] === ",") {
        i++;
        continue;
      }
      if (s[i] === "|" && close === "]") {
        i++;
        tail = value();
        ws();
      }
      if (s[i] !== close) fail(`expected '${close}'`);
      i++;
      return { items, tail };
    }
  };
  const value = (): Term => {
    ws();
    const c = s[i];
    if (c === "{") {
      i++;
      return new Tuple(seq("}").items);
    }
    if (c === "[") {
      i++;
      const { items, tail } = seq("]");
      return tail === null ? items : new ImproperList(items, tail);
    }
    if (c === "#") {
      i++;
      expect("{");
      const entries: Array<[Term, Term]> = [];
      ws();
      if (s[i] === "}") {
        i++;
        return new ErlMap(entries);
      }
      for (;;) {
        const k = value();
        ws();
        if (s.slice(i, i + 2) !== "=>") fail("expected =>");
        i += 2;
        entries.push([k, value()]);
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        expect("}");
        return new ErlMap(entries);
      }
    }
    if (s.startsWith("<<", i)) {
      i += 2;
      ws();
      if (s[i] === '"') {
        const text = quoted('"');
        expect(">");
        expect(">");
        return Buffer.from(text, "utf8");
      }
      const bytes: number[] = [];
      ws();
      while (s[i] !== ">") {
        const m = /^\d+/.exec(s.slice(i));
        if (!m) fail("bad byte");
        bytes.push(Number(m![0]));
        i += m![0].length;
        ws();
        if (s[i] === ",") i++;
        ws();
      }
      expect(">");
      expect(">");
      return Buffer.from(bytes);
    }
    if (c === '"') return quoted('"');
    if (c === "'") return Atom.of(quoted("'"));
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(s.slice(i));
    if (num) {
      i += num[0].length;
      if (num[1] !== undefined || num[2] !== undefined) return new ErlFloat(Number(num[0]));
      const big = BigInt(num[0]);
      return Number.isSafeInteger(Number(big)) ? Number(big) : big;
    }
    const atom = /^[a-z][A-Za-z0-9_@-]*/.exec(s.slice(i));
    if (atom) {
      i += atom[0].length;
      return Atom.of(atom[0]);
    }
    return fail("unexpected character");
  };
  const t = value();
  ws();
  if (i !== s.length) fail("trailing text");
  return t;
}

/**
 * Canonical JSON text of a term: equal for two terms exactly when Erlang's =:= says so.
 * Charlists become lists of integers (Erlang does not distinguish "ab" from [97,98]), floats are
 * compared by their IEEE bits, atoms and binaries by hex bytes, map entries sorted. The erl peer
 * prints the same form (see nso-erl-peer.ts), so the two sides compare as strings.
 */
export function canonicalTerm(t: Term): string {
  if (typeof t === "number" || typeof t === "bigint") return `{"i":"${BigInt(t).toString()}"}`;
  if (t instanceof Atom) return `{"a":"${Buffer.from(t.name, "utf8").toString("hex")}"}`;
  if (Buffer.isBuffer(t)) return `{"b":"${t.toString("hex")}"}`;
  if (t instanceof ErlFloat) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(t.value === 0 && Object.is(t.value, -0) ? -0 : t.value);
    return `{"f":"${b.readBigUInt64BE().toString(16).toUpperCase()}"}`;
  }
  if (t instanceof Tuple) return `{"u":[${t.elements.map(canonicalTerm).join(",")}]}`;
  if (t instanceof ErlMap) {
    const pairs = t.entries.map(([k, v]) => `[${canonicalTerm(k)},${canonicalTerm(v)}]`).sort();
    return `{"m":[${pairs.join(",")}]}`;
  }
  // Lists: flatten list tails the way Erlang reads them.
  let items: Term[] = [];
  let tail: Term | null = t;
  for (;;) {
    if (typeof tail === "string") {
      for (let k = 0; k < tail.length; k++) items.push(tail.charCodeAt(k));
      tail = null;
      break;
    }
    if (Array.isArray(tail)) {
      items = items.concat(tail);
      tail = null;
      break;
    }
    if (tail instanceof ImproperList) {
      items = items.concat(tail.elements);
      tail = tail.tail;
      continue;
    }
    break;
  }
  return `{"l":[${items.map(canonicalTerm).join(",")}],"t":${tail === null ? "null" : canonicalTerm(tail)}}`;
}

export interface Frame {
  line: number;
  name: string;
  dir: "in" | "out";
  subscriber: string;
  trigger: string;
  /** Exact socket bytes, or null when the line records a close ('-'). */
  bytes: Buffer | null;
  /** The '#    ' line under it, if any. */
  comment: string | null;
}

export const FRAMES_FILE = path.resolve(__dirname, "../../fixtures/nso/nso-real-frames.txt");

/** Reads nso-real-frames.txt: `NAME | DIR | SUBSCRIBER | TRIGGER | HEX`, then an optional '#    ' line. */
export function readFrames(file = FRAMES_FILE): Frame[] {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const frames: Frame[] = [];
  for (let n = 0; n < lines.length; n++) {
    const l = lines[n];
    if (l === "" || l.startsWith("#")) continue;
    const parts = l.split(" | ");
    if (parts.length !== 5) throw new Error(`frames file line ${n + 1}: expected 5 fields`);
    const [name, dir, subscriber, trigger, hex] = parts;
    if (dir !== "in" && dir !== "out") throw new Error(`frames file line ${n + 1}: bad direction ${dir}`);
    if (hex !== "-" && !/^([0-9a-f]{2})+$/.test(hex)) throw new Error(`frames file line ${n + 1}: bad hex`);
    const next = lines[n + 1] ?? "";
    frames.push({
      line: n + 1,
      name,
      dir,
      subscriber,
      trigger,
      bytes: hex === "-" ? null : Buffer.from(hex, "hex"),
      comment: next.startsWith("#    ") ? next.slice(5) : null,
    });
  }
  return frames;
}
