import { ProtocolError } from "../../core/errors";
import { formatTerm, termToJson } from "../term";
import type { JsonValue } from "../term/json";
import { Atom, isAtom, Term, Tuple } from "../term/types";
import { tagValue } from "../notifications/values";
import { ATTR_NAMES, ChangeOp, DIFF_OPS, LABELLED_VTYPES } from "./constants";
import { renderKeypath } from "./keypath";

/**
 * One diff item `{KeyPath, Op, OldValue, NewValue}` (docs/nso-maapi.md)
 * as a change a flow can read: `{op, path, value}`. OldValue is always `undefined` on the wire
 * (NSO does not send old values), so there is no `old` field to pretend otherwise.
 */
export interface Change {
  op: ChangeOp;
  path: string;
  /**
   * null for created/deleted/modified; the typed value for value_set (`"text"`, `200`, or
   * `{type: "C_UINT32", value: 42}`; enumerations, bits and identityrefs gain `label`);
   * `{after: null}` (moved first) or `{after: [keys]}` for moved_after; `{attr, value}` for attr_set.
   */
  value: JsonValue;
}

export interface DecodedItem {
  change: Change;
  /** The leaf-first keypath as received (context of a later XPath call). */
  ikp: Term[];
  /** The raw `{Type, X}` when its label needs a schema lookup. */
  labelRaw?: Tuple;
}

function bad(message: string): never {
  throw new ProtocolError("maapi-bad-diff-item", message);
}

export function decodeDiffItem(t: Term, prefixes?: ReadonlyMap<string, string>): DecodedItem {
  if (!(t instanceof Tuple) || t.arity !== 4) bad(`diff item is not a 4-tuple: ${formatTerm(t, 120)}`);
  const [ikp, opNum, , nv] = t.elements;
  const op = typeof opNum === "number" ? DIFF_OPS[opNum] : undefined;
  if (!op) bad(`diff item has unknown operation ${formatTerm(opNum, 40)}`);
  const path = renderKeypath(ikp, prefixes);
  const item: DecodedItem = { change: { op: op, path, value: null }, ikp: ikp as Term[] };
  switch (op) {
    case "value_set": {
      item.change.value = diffValue(nv);
      if (nv instanceof Tuple && nv.arity === 2 && typeof nv.get(0) === "number" && LABELLED_VTYPES.has(nv.get(0) as number)) item.labelRaw = nv;
      break;
    }
    case "moved_after":
      if (!(nv instanceof Tuple)) bad("moved_after value is not a key tuple");
      item.change.value = { after: nv.arity === 0 ? null : nv.elements.map(diffValue) };
      break;
    case "attr_set": {
      if (!(nv instanceof Tuple) || nv.arity !== 2) bad("attr_set value is not {AttrId, Value}");
      const [id, v] = nv.elements;
      if (typeof id !== "number" && typeof id !== "bigint") bad("attr_set attribute id is not an integer");
      const name = ATTR_NAMES[String(id)] ?? String(id);
      // not_found is how an attribute removal is sent (C_NOEXISTS, §4.4 [SRC]).
      item.change.value = { attr: name, value: isAtom(v, "not_found") ? null : termToJson(v) };
      break;
    }
    default:
      // created/deleted/modified carry `undefined`; anything else is kept visible, not dropped.
      if (!isAtom(nv, "undefined")) item.change.value = diffValue(nv);
  }
  return item;
}

/**
 * A diff value as JSON, in the same shape as stream-event values (notifications/values.ts):
 * strings and int32 bare, everything else `{type: "C_…", value}`. `default` (after SET_FLAGS
 * NO_DEFAULTS) is `{type: "C_DEFAULT"}`. A shape no decoder knows keeps its Erlang text
 * (`{type: "C_UNKNOWN", term}`): a change whose value we cannot type is still a change.
 */
export function diffValue(v: Term): JsonValue {
  if (v instanceof Atom && v.name === "undefined") return null;
  try {
    return tagValue(v, "value");
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { type: "C_UNKNOWN", term: formatTerm(v, 512) };
  }
}

/** Adds the label XPath `string(.)` returned to an enum/bits/identityref value. */
export function withLabel(value: JsonValue, label: string): JsonValue {
  if (value && typeof value === "object" && !Array.isArray(value)) return { ...value, label };
  return value;
}
