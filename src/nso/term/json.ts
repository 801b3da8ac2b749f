import { isUtf8 } from "node:buffer";
import { Atom, ErlFloat, ErlMap, ImproperList, Term, Tuple } from "./types";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/**
 * A readable JSON-safe rendering of any term, for slots whose shape is open (an unknown
 * notification, SNMP values, instance-identifier keys). It is lossy on purpose — atoms,
 * binaries and charlists all become strings, tuples and lists both arrays — so callers that
 * need fidelity pair it with `formatTerm`. Integers beyond 2^53 become decimal strings, a binary
 * that is not UTF-8 becomes `{binary: <base64>}`, an improper list `{list: [...], tail: x}`, a
 * map `{map: [[k, v], ...]}`, the atoms true/false booleans and `undefined` null.
 */
export function termToJson(t: Term): JsonValue {
  if (typeof t === "number") return t;
  if (typeof t === "bigint") return Number.isSafeInteger(Number(t)) ? Number(t) : t.toString();
  if (t instanceof Atom) {
    if (t.name === "true") return true;
    if (t.name === "false") return false;
    if (t.name === "undefined") return null;
    return t.name;
  }
  if (Buffer.isBuffer(t)) return binaryToJson(t);
  if (typeof t === "string") return t;
  if (t instanceof ErlFloat) return t.value;
  if (Array.isArray(t)) return t.map(termToJson);
  if (t instanceof Tuple) return t.elements.map(termToJson);
  if (t instanceof ImproperList) return { list: t.elements.map(termToJson), tail: termToJson(t.tail) };
  if (t instanceof ErlMap) return { map: t.entries.map(([k, v]) => [termToJson(k), termToJson(v)]) };
  throw new TypeError("not an Erlang term");
}

/** UTF-8 text as a string; other bytes as `{binary: base64}` so nothing is silently mangled. */
export function binaryToJson(b: Buffer): JsonValue {
  return isUtf8(b) ? b.toString("utf8") : { binary: b.toString("base64") };
}
