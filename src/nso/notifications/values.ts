import { Atom, ErlFloat, ImproperList, Term, Tuple } from "../term/types";
import { binaryToJson, JsonValue, termToJson } from "../term/json";
import { bad, bigInt, int, ipText, kindOf, setDatetime, text } from "./fields";
import { asText } from "../../core/describe";

/**
 * Tagged values of stream events (§9.2): `{QTag, V}` -> `{ns, tag, value}`.
 *
 * Value mapping, following what libconfd 6.2.5 decodes (C type names of `confd_vtype`):
 *  - binary -> string (C_BUF), integer -> number (C_INT32), float -> number (C_DOUBLE),
 *    true/false -> boolean (C_BOOL): bare JSON, nothing is lost;
 *  - everything else -> `{type: "C_…", value?}`: the XML structure markers (`start`, `stop`,
 *    `leaf`, `delete`, `not_found` -> C_XMLBEGIN, C_XMLEND, C_XMLTAG, C_XMLBEGINDEL,
 *    C_NOEXISTS, no value), IP tuples, leaf-lists (C_LIST), and every `{TypeInt, X}`.
 * Enum, identityref and tag values are schema hashes; naming them needs the schema (MAAPI).
 */
export interface TagValue {
  /** Namespace hash (0 when the element has no explicit namespace), or the URI atom (UseIKP). */
  ns: number | string;
  tag: number | string;
  value: JsonValue;
}

export function decodeTagValues(t: Term, where: string): TagValue[] {
  if (!Array.isArray(t)) return bad(where, `expected a list of {Tag, Value}, got ${kindOf(t)}`);
  return t.map((item, i) => {
    const w = `${where}[${i}]`;
    if (!(item instanceof Tuple) || item.elements.length !== 2) bad(w, `expected {Tag, Value}, got ${kindOf(item)}`);
    const [qtag, v] = item.elements;
    const { ns, tag } = qualifiedTag(qtag, `${w}.tag`);
    return { ns, tag, value: tagValue(v, `${w}.value`) };
  });
}

/** `[Ns|Tag]` (hashes, or atoms with UseIKP), `[[]|Tag]` for "no namespace". */
function qualifiedTag(t: Term, where: string): { ns: number | string; tag: number | string } {
  if (t instanceof ImproperList && t.elements.length === 1) {
    const nsTerm = t.elements[0];
    const ns = Array.isArray(nsTerm) && nsTerm.length === 0 ? 0 : hashOrName(nsTerm, `${where}.ns`);
    return { ns, tag: hashOrName(t.tail, `${where}.tag`) };
  }
  // A bare tag (no namespace at all) is tolerated the way libconfd reads it: ns 0.
  if (typeof t === "number" || t instanceof Atom) return { ns: 0, tag: hashOrName(t, where) };
  return bad(where, `expected [Ns|Tag], got ${kindOf(t)}`);
}

function hashOrName(t: Term, where: string): number | string {
  if (t instanceof Atom) return t.name;
  return bigInt(t, where);
}

// A Map: an atom named `constructor` or `toString` is an unexpected value, not a prototype method.
const MARKERS: ReadonlyMap<string, string> = new Map([
  ["start", "C_XMLBEGIN"],
  ["stop", "C_XMLEND"],
  ["leaf", "C_XMLTAG"],
  ["delete", "C_XMLBEGINDEL"],
  ["not_found", "C_NOEXISTS"],
  ["default", "C_DEFAULT"],
]);

/** `confd_vtype` numbers -> C names ([6.2] confd_lib.h). */
export const VTYPE: Readonly<Record<number, string>> = {
  1: "C_NOEXISTS",
  2: "C_XMLTAG",
  3: "C_SYMBOL",
  4: "C_STR",
  5: "C_BUF",
  6: "C_INT8",
  7: "C_INT16",
  8: "C_INT32",
  9: "C_INT64",
  10: "C_UINT8",
  11: "C_UINT16",
  12: "C_UINT32",
  13: "C_UINT64",
  14: "C_DOUBLE",
  15: "C_IPV4",
  16: "C_IPV6",
  17: "C_BOOL",
  18: "C_QNAME",
  19: "C_DATETIME",
  20: "C_DATE",
  23: "C_TIME",
  27: "C_DURATION",
  28: "C_ENUM_VALUE",
  29: "C_BIT32",
  30: "C_BIT64",
  31: "C_LIST",
  32: "C_XMLBEGIN",
  33: "C_XMLEND",
  34: "C_OBJECTREF",
  35: "C_UNION",
  36: "C_PTR",
  37: "C_CDBBEGIN",
  38: "C_OID",
  39: "C_BINARY",
  40: "C_IPV4PREFIX",
  41: "C_IPV6PREFIX",
  42: "C_DEFAULT",
  43: "C_DECIMAL64",
  44: "C_IDENTITYREF",
  45: "C_XMLBEGINDEL",
  46: "C_DQUAD",
  47: "C_HEXSTR",
  48: "C_IPV4_AND_PLEN",
  49: "C_IPV6_AND_PLEN",
  50: "C_BITBIG",
  51: "C_XMLMOVEFIRST",
  52: "C_XMLMOVEAFTER",
};

export function tagValue(v: Term, where: string): JsonValue {
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof ErlFloat) return v.value;
  if (v instanceof Atom) {
    if (v.name === "true") return true;
    if (v.name === "false") return false;
    const marker = MARKERS.get(v.name);
    if (marker !== undefined) return { type: marker };
    return bad(where, `unexpected atom value`);
  }
  if (v instanceof Tuple) {
    const n = v.elements.length;
    if (n === 4) return { type: "C_IPV4", value: ipText(v, where).addr };
    if (n === 8) return { type: "C_IPV6", value: ipText(v, where).addr };
    if (n === 2 && typeof v.elements[0] === "number") return typedValue(v.elements[0], v.elements[1], where);
    return bad(where, `unexpected value ${kindOf(v)}`);
  }
  if (Array.isArray(v) || typeof v === "string") {
    const items = typeof v === "string" ? Array.from(v, (c) => c.charCodeAt(0)) : v;
    return { type: "C_LIST", value: items.map((x, i) => tagValue(x, `${where}[${i}]`)) };
  }
  return bad(where, `unexpected value ${kindOf(v)}`);
}

/** `{TypeInt, X}`: `{type: "C_…", value}`, value rendered per type so nothing is lost. */
function typedValue(type: number, x: Term, where: string): JsonValue {
  const name = VTYPE[type] ?? `C_TYPE_${type}`;
  const w = `${where}(${name})`;
  switch (type) {
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 28: // enum value: the schema's integer
    case 29:
    case 30:
      return { type: name, value: bigInt(x, w) };
    case 19: {
      const out: Record<string, unknown> = { type: name };
      setDatetime(out, "value", x, w);
      return out as JsonValue;
    }
    case 20:
      return { type: name, value: dateText(x, w) };
    case 23:
      return { type: name, value: timeText(x, w) };
    case 27:
      return { type: name, value: durationText(x, w) };
    case 39:
    case 50:
      if (!Buffer.isBuffer(x)) return bad(w, `expected a binary, got ${kindOf(x)}`);
      return { type: name, value: x.toString("base64") };
    case 47:
      if (!Buffer.isBuffer(x)) return bad(w, `expected a binary, got ${kindOf(x)}`);
      return { type: name, value: Array.from(x, (b) => b.toString(16).padStart(2, "0")).join(":") };
    case 43: {
      // decimal64 {Int64, FractionDigits}: exact decimal text, never a lossy float.
      if (!(x instanceof Tuple) || x.elements.length !== 2) return bad(w, `expected {Int, FractionDigits}, got ${kindOf(x)}`);
      const digits = int(x.elements[1], `${w}.fraction_digits`);
      const raw = x.elements[0];
      if (typeof raw !== "number" && typeof raw !== "bigint") return bad(w, "decimal64 value is not an integer");
      return { type: name, value: decimalText(BigInt(raw), digits), fraction_digits: digits };
    }
    case 44: {
      if (!(x instanceof Tuple) || x.elements.length !== 2) return bad(w, `expected {NsHash, IdHash}, got ${kindOf(x)}`);
      return { type: name, value: { ns: hashOrName(x.elements[0], `${w}.ns`), id: hashOrName(x.elements[1], `${w}.id`) } };
    }
    case 34:
      return { type: name, value: keypath(x, w) };
    case 40:
    case 41:
    case 48:
    case 49: {
      if (!(x instanceof Tuple) || x.elements.length !== 2) return bad(w, `expected {Ip, Len}, got ${kindOf(x)}`);
      return { type: name, value: `${ipText(x.elements[0], w).addr}/${int(x.elements[1], `${w}.len`)}` };
    }
    case 46: {
      if (!(x instanceof Tuple) || x.elements.length !== 4) return bad(w, `expected {A,B,C,D}, got ${kindOf(x)}`);
      return { type: name, value: ipText(x, w).addr };
    }
    case 38:
      return { type: name, value: Array.isArray(x) || typeof x === "string" ? oidText(x) : bad(w, `expected a list, got ${kindOf(x)}`) };
    case 3:
    case 4:
    case 5:
    case 18:
      return { type: name, value: text(x, w) };
    case 17:
      return { type: name, value: x instanceof Atom ? x.name === "true" : bad(w, `expected true/false, got ${kindOf(x)}`) };
    default:
      // A type this version does not know: keep it readable and JSON-safe.
      return { type: name, value: Buffer.isBuffer(x) ? binaryToJson(x) : termToJson(x) };
  }
}

/**
 * Instance-identifier / keypath (`{34, Path}`), in wire order (ConfD's hkeypath order: the
 * leaf first, the top element last). Elements: a tag hash -> `{tag}`, `[Ns|Tag]` -> `{ns, tag}`,
 * a key tuple -> `{keys: [...]}` with each key value mapped like any tagged value.
 */
function keypath(x: Term, where: string): JsonValue {
  if (!Array.isArray(x)) return bad(where, `expected a keypath list, got ${kindOf(x)}`);
  return x.map((e, i): JsonValue => {
    const w = `${where}[${i}]`;
    if (e instanceof Tuple) return { keys: e.elements.map((k, j) => tagValue(k, `${w}.keys[${j}]`)) };
    const q = qualifiedTag(e, w);
    return e instanceof ImproperList ? { ns: q.ns, tag: q.tag } : { tag: q.tag };
  });
}

function oidText(x: Term[] | string): string {
  const items = typeof x === "string" ? Array.from(x, (c) => c.charCodeAt(0)) : x;
  return items.map((n) => asText(termToJson(n))).join(".");
}

function decimalText(v: bigint, digits: number): string {
  const neg = v < 0n;
  let s = (neg ? -v : v).toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, "0");
    s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  }
  return (neg ? "-" : "") + s;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

function tzText(tz: Term, tzm: Term): string {
  if (typeof tz !== "number") return "";
  if (tz === 0 && tzm === 0) return "Z";
  const m = typeof tzm === "number" ? tzm : 0;
  return `${tz < 0 ? "-" : "+"}${pad(Math.abs(tz))}:${pad(m)}`;
}

/** C_DATE `{Y, M, D, TZ, TZMin}` -> "2026-11-22" (+ zone). */
function dateText(x: Term, where: string): string {
  if (!(x instanceof Tuple) || x.elements.length !== 5) return bad(where, `expected {Y,M,D,TZ,TZMin}, got ${kindOf(x)}`);
  const [y, m, d, tz, tzm] = x.elements;
  return `${pad(int(y, where), 4)}-${pad(int(m, where))}-${pad(int(d, where))}${tzText(tz, tzm)}`;
}

/** C_TIME `{H, M, S, Micro, TZ, TZMin}` -> "18:34:12.619337" (+ zone). */
function timeText(x: Term, where: string): string {
  if (!(x instanceof Tuple) || x.elements.length !== 6) return bad(where, `expected {H,M,S,Micro,TZ,TZMin}, got ${kindOf(x)}`);
  const [h, m, s, us, tz, tzm] = x.elements;
  return `${pad(int(h, where))}:${pad(int(m, where))}:${pad(int(s, where))}.${pad(int(us, where), 6)}${tzText(tz, tzm)}`;
}

/** C_DURATION `{Y, M, D, H, Mi, S, Micro}` -> ISO 8601 "P1Y2M3DT4H5M6.000007S". */
function durationText(x: Term, where: string): string {
  if (!(x instanceof Tuple) || x.elements.length !== 7) return bad(where, `expected {Y,M,D,H,Mi,S,Micro}, got ${kindOf(x)}`);
  const [y, mo, d, h, mi, s, us] = x.elements.map((e) => int(e, where));
  return `P${y}Y${mo}M${d}DT${h}H${mi}M${s}.${pad(us, 6)}S`;
}
