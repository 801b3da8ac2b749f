import { ProtocolError } from "../../core/errors";
import { Atom, ErlFloat, ErlMap, ImproperList, Term, Tuple } from "../term/types";
import { isoWithMicros, readDatetime } from "../datetime";
import { AF_INET, AF_INET6, EnumTable } from "./enums";

/**
 * Field readers shared by the notification decoders. Each takes `where` (e.g.
 * "NOTIF_COMMIT_DIFF.uinfo.usid") for the error, and each error names the slot and the kind of
 * term found — never the value, so a uinfo with a clear-text password cannot leak into a log.
 */
export function bad(where: string, message: string): never {
  throw new ProtocolError("nso-bad-notification", `${where}: ${message}`, { where });
}

/** What kind of term this is, for error messages (no values). */
export function kindOf(t: Term): string {
  if (typeof t === "number" || typeof t === "bigint") return "an integer";
  if (t instanceof Atom) return "an atom";
  if (Buffer.isBuffer(t)) return "a binary";
  if (typeof t === "string") return "a charlist";
  if (Array.isArray(t)) return t.length === 0 ? "[]" : `a list of ${t.length}`;
  if (t instanceof Tuple) return `a ${t.elements.length}-tuple`;
  if (t instanceof ErlFloat) return "a float";
  if (t instanceof ImproperList) return "an improper list";
  if (t instanceof ErlMap) return "a map";
  return "something else";
}

/** The elements of a tuple of one of the given arities. */
export function tupleOf(t: Term, arities: readonly number[], where: string): Term[] {
  if (!(t instanceof Tuple) || !arities.includes(t.elements.length)) {
    bad(where, `expected a tuple of ${arities.join(" or ")} elements, got ${kindOf(t)}`);
  }
  return t.elements;
}

/** An integer that fits a JS number exactly. */
export function int(t: Term, where: string): number {
  if (typeof t === "number") return t;
  return bad(where, `expected an integer, got ${kindOf(t)}`);
}

/** Any integer: a number up to 2^53, a decimal string beyond (uint64 ids, hashes). */
export function bigInt(t: Term, where: string): number | string {
  if (typeof t === "number") return t;
  if (typeof t === "bigint") return t.toString();
  return bad(where, `expected an integer, got ${kindOf(t)}`);
}

/**
 * A string slot. NSO puts binaries in most and atoms in some (uinfo context, §15), so both
 * are accepted, as are charlists; bytes that are not UTF-8 become U+FFFD rather than a drop.
 */
export function text(t: Term, where: string): string {
  // toString() without an encoding argument is UTF-8 and skips the encoding lookup.
  if (Buffer.isBuffer(t)) return t.toString();
  if (t instanceof Atom) return t.name;
  if (typeof t === "string") return t;
  if (Array.isArray(t) && t.length === 0) return "";
  if (Array.isArray(t) && t.every((c) => typeof c === "number" && c >= 0 && c <= 0x10ffff)) {
    return String.fromCodePoint(...(t as number[]));
  }
  return bad(where, `expected a string (binary or atom), got ${kindOf(t)}`);
}

/** An optional string: the atom `undefined`, `[]` and an empty binary mean absent. */
export function optText(t: Term, where: string): string | undefined {
  if (t instanceof Atom && t.name === "undefined") return undefined;
  const s = text(t, where);
  return s === "" ? undefined : s;
}

/** Sets `key` only when the value is present, so absent optionals are absent keys (as in Python). */
export function setOpt(out: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}

/** `out[key] = value` plus `out[key + "Name"]` when the enumeration knows the value. */
export function setEnum(out: Record<string, unknown>, key: string, value: number, table: EnumTable): void {
  out[key] = value;
  const name = table[value];
  if (name !== undefined) out[key + "Name"] = name;
}

/** Names of the bits set in `value`. */
export function bitNames(value: number, table: EnumTable): string[] {
  const out: string[] = [];
  if (value === 0) return out;
  let bits = BIT_TABLES.get(table);
  if (!bits) {
    // Parsed once per table: Object.entries + Number() per call showed in the decode profile.
    bits = Object.entries(table).map(([bit, name]) => [Number(bit), name] as const);
    BIT_TABLES.set(table, bits);
  }
  for (const [bit, name] of bits) if ((value & bit) !== 0) out.push(name);
  return out;
}

const BIT_TABLES = new WeakMap<EnumTable, ReadonlyArray<readonly [number, string]>>();

/** A list (proper) of anything. */
export function listOf(t: Term, where: string): Term[] {
  if (Array.isArray(t)) return t;
  // A charlist on the wire is a list of small integers.
  if (typeof t === "string") return Array.from(t, (c) => c.charCodeAt(0));
  return bad(where, `expected a list, got ${kindOf(t)}`);
}

/** An IP tuple as text: {A,B,C,D} dotted, 8-tuple as RFC 5952 IPv6. */
export function ipText(t: Term, where: string): { af: number; addr: string } {
  if (t instanceof Tuple && (t.elements.length === 4 || t.elements.length === 8)) {
    const v6 = t.elements.length === 8;
    const max = v6 ? 0xffff : 0xff;
    const parts = t.elements.map((e, i) => {
      if (typeof e !== "number" || !Number.isInteger(e) || e < 0 || e > max) bad(`${where}[${i}]`, "IP address part out of range");
      return e;
    });
    return v6 ? { af: AF_INET6, addr: ipv6Text(parts) } : { af: AF_INET, addr: parts.join(".") };
  }
  return bad(where, `expected an IPv4 or IPv6 tuple, got ${kindOf(t)}`);
}

/** The Python layout: `af` plus `ip4` or `ip6` (§7 COMMIT_FAILED, SNMPA, CALL_HOME, HA). */
export function setIp(out: Record<string, unknown>, t: Term, where: string): void {
  const { af, addr } = ipText(t, where);
  out.af = af;
  out[af === AF_INET ? "ip4" : "ip6"] = addr;
}

function ipv6Text(p: number[]): string {
  // Longest run (>= 2) of zero groups becomes "::" (RFC 5952 §4.2).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (p[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && p[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = p.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return hex.slice(0, best).join(":") + "::" + hex.slice(best + bestLen).join(":");
}

export interface DatetimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  micro: number;
  /** Hours east of UTC, or null when NSO sent no timezone (`[]`). */
  timezone: number | null;
  timezone_minutes: number;
}

/**
 * `{19, {Y,Mo,D,H,Mi,S,Micro,TZ,TZMin}}` (or the bare 9-tuple): `out[key]` = ISO 8601 instant
 * in UTC, `out[key + "Parts"]` = the fields as sent (the `_ncs.DateTime` attribute names).
 */
export function setDatetime(out: Record<string, unknown>, key: string, t: Term, where: string): void {
  let parsed: { iso: string };
  try {
    parsed = readDatetime(t);
  } catch (e) {
    return bad(where, (e as Error).message);
  }
  const inner = (t instanceof Tuple && t.elements.length === 2 ? t.elements[1] : t) as Tuple;
  const f = inner.elements;
  out[key] = parsed.iso;
  const parts: DatetimeParts = {
    year: f[0] as number,
    month: f[1] as number,
    day: f[2] as number,
    hour: f[3] as number,
    min: f[4] as number,
    sec: f[5] as number,
    micro: f[6] as number,
    timezone: typeof f[7] === "number" ? f[7] : null,
    timezone_minutes: typeof f[8] === "number" ? f[8] : 0,
  };
  out[key + "Parts"] = parts;
}

/** Microseconds since the epoch -> ISO 8601 with microsecond precision. */
export function microsIso(us: number): string {
  const sec = Math.floor(us / 1_000_000);
  return isoWithMicros(sec, us - sec * 1_000_000);
}
