/**
 * Fast STREAM_EVENT payloads (../notifications/stream.ts and values.ts): the event time and the
 * tagged values, read from the bytes. The value types a stream event carries in practice are
 * handled here (strings, integers, floats, booleans, XML markers, IP addresses, the integer
 * C_ types, enums, datetimes, keypaths, identityrefs, binaries, leaf-lists); the rest bail, and
 * the generic decoder renders them.
 */
import * as enums from "../notifications/enums";
import * as values from "../notifications/values";
import * as tags from "../term/tags";
import * as types from "../term/types";
import type { Term } from "../term/types";
import { BAIL, Cursor } from "./cursor";
import * as dt from "./datetime";
import * as payloads from "./payloads";

const { STREAM_EVENT_TYPE } = enums;
const { VTYPE } = values;
const { Atom, Tuple } = types;
const { bareDatetime, datetime, datetimeTerm, isoOf, partsOf } = dt;
const { ipBody } = payloads;
const { SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_BIG_EXT, BINARY_EXT, NEW_FLOAT_EXT, SMALL_TUPLE_EXT, LIST_EXT, NIL_EXT, STRING_EXT } = tags;

const ascii = (s: string): Buffer => Buffer.from(s, "latin1");
const NOTIFICATION_COMPLETE = ascii("notification_complete");
const REPLAY_COMPLETE = ascii("replay_complete");
const REPLAY_FAILED = ascii("replay_failed");
const TRUE = ascii("true");
const FALSE = ascii("false");
/** XML structure marker atoms (values.ts MARKERS), by name; compared as bytes, never as keys. */
const MARKERS: ReadonlyArray<readonly [Buffer, string]> = [
  [ascii("start"), "C_XMLBEGIN"],
  [ascii("stop"), "C_XMLEND"],
  [ascii("leaf"), "C_XMLTAG"],
  [ascii("delete"), "C_XMLBEGINDEL"],
  [ascii("not_found"), "C_NOEXISTS"],
  [ascii("default"), "C_DEFAULT"],
];

/** A stream event's payload, and the term StreamResume.classify reads (see index.ts `head`). */
export interface StreamRead {
  payload: Record<string, unknown>;
  body: Term;
}

/** `{524288, Body}` after the tag: an event, a completion atom or `{replay_failed, Error}`. */
export function streamEvent(c: Cursor, maxDepth: number): StreamRead {
  if (c.atomIs(NOTIFICATION_COMPLETE)) return { payload: { type: 2, typeName: STREAM_EVENT_TYPE[2] }, body: Atom.of("notification_complete") };
  if (c.atomIs(REPLAY_COMPLETE)) return { payload: { type: 3, typeName: STREAM_EVENT_TYPE[3] }, body: Atom.of("replay_complete") };
  c.tuple(2);
  if (c.atomIs(REPLAY_FAILED)) {
    const error = c.binary();
    return { payload: { type: 4, typeName: STREAM_EVENT_TYPE[4], error: error.toString() }, body: new Tuple([Atom.of("replay_failed"), error]) };
  }
  const time = datetime(c);
  const payload: Record<string, unknown> = { type: 1, typeName: STREAM_EVENT_TYPE[1], event_time: isoOf(time), event_timeParts: partsOf(time) };
  const list: Array<Record<string, unknown>> = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    c.tuple(2);
    const { ns, tag } = qualifiedTag(c);
    list.push({ ns, tag, value: value(c, 4, maxDepth) });
    if (i === n - 1) c.endList();
  }
  payload.values = list;
  // What classify reads: the event time (kept as the resume point), not the values.
  return { payload, body: new Tuple([datetimeTerm(time), []]) };
}

/** `[Ns|Tag]` (hashes or UseIKP atoms, `[]` for no namespace) or a bare hash/atom (ns 0). */
function qualifiedTag(c: Cursor): { ns: number | string; tag: number | string } {
  if (c.peek() !== LIST_EXT) return { ns: 0, tag: bareTag(c) };
  c.pos++;
  // LIST_EXT of exactly one element and a tail that is the tag.
  if (c.byte() !== 0 || c.byte() !== 0 || c.byte() !== 0 || c.byte() !== 1) throw BAIL;
  let ns: number | string;
  if (c.peek() === NIL_EXT) {
    c.pos++;
    ns = 0;
  } else ns = hashOrName(c);
  const t = c.peek();
  if (t === NIL_EXT || t === LIST_EXT || t === STRING_EXT) throw BAIL;
  return { ns, tag: hashOrName(c) };
}

/** A bare tag: a (safe) integer or an atom. */
function bareTag(c: Cursor): number | string {
  return c.atHead() ? c.atom() : c.int();
}

function hashOrName(c: Cursor): number | string {
  return c.atHead() ? c.atom() : c.bigInt();
}

/** values.ts tagValue, for the term at container depth `depth`. */
function value(c: Cursor, depth: number, maxDepth: number): unknown {
  const tag = c.peek();
  switch (tag) {
    case BINARY_EXT:
      return c.text();
    case SMALL_INTEGER_EXT:
    case INTEGER_EXT:
    case SMALL_BIG_EXT:
      return c.bigInt();
    case NEW_FLOAT_EXT: {
      if (c.end - c.pos < 9) throw BAIL;
      const v = c.buf.readDoubleBE(c.pos + 1);
      if (!Number.isFinite(v)) throw BAIL;
      c.pos += 9;
      return v;
    }
    case SMALL_TUPLE_EXT: {
      if (depth >= maxDepth) throw BAIL;
      const arity = c.anyTuple();
      if (arity === 4) return { type: "C_IPV4", value: ipBody(c, 4) };
      if (arity === 8) return { type: "C_IPV6", value: ipBody(c, 8) };
      if (arity !== 2) throw BAIL;
      return typed(c, c.int(), depth + 1, maxDepth);
    }
    case NIL_EXT:
    case LIST_EXT: {
      if (tag === LIST_EXT && depth >= maxDepth) throw BAIL;
      const items: unknown[] = [];
      for (let n = c.list(), i = 0; i < n; i++) {
        items.push(value(c, depth + 1, maxDepth));
        if (i === n - 1) c.endList();
      }
      return { type: "C_LIST", value: items };
    }
  }
  if (c.atomIs(TRUE)) return true;
  if (c.atomIs(FALSE)) return false;
  for (const [name, type] of MARKERS) if (c.atomIs(name)) return { type };
  throw BAIL;
}

/** `{TypeInt, X}` (values.ts typedValue) for the common types; the rest bail. */
function typed(c: Cursor, type: number, depth: number, maxDepth: number): unknown {
  const name = VTYPE[type];
  switch (type) {
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 28:
    case 29:
    case 30:
      return { type: name, value: c.bigInt() };
    case 3:
    case 4:
    case 5:
    case 18:
      return { type: name, value: c.text() };
    case 17:
      if (c.atomIs(TRUE)) return { type: name, value: true };
      if (c.atomIs(FALSE)) return { type: name, value: false };
      throw BAIL;
    case 19: {
      if (depth >= maxDepth) throw BAIL;
      const d = bareDatetime(c);
      return { type: name, value: isoOf(d), valueParts: partsOf(d) };
    }
    case 39:
    case 50:
      return { type: name, value: c.binary().toString("base64") };
    case 44: {
      if (depth >= maxDepth) throw BAIL;
      c.tuple(2);
      const ns = hashOrName(c);
      return { type: name, value: { ns, id: hashOrName(c) } };
    }
    case 34:
      return { type: name, value: keypath(c, depth, maxDepth) };
  }
  throw BAIL;
}

/** values.ts keypath: tags `{tag}`, `[Ns|Tag]` `{ns, tag}`, key tuples `{keys: [...]}`. */
function keypath(c: Cursor, depth: number, maxDepth: number): unknown[] {
  if (c.peek() === LIST_EXT && depth >= maxDepth) throw BAIL;
  const out: unknown[] = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    const t = c.peek();
    if (t === SMALL_TUPLE_EXT) {
      if (depth + 1 >= maxDepth) throw BAIL;
      const keys: unknown[] = [];
      for (let k = c.anyTuple(), j = 0; j < k; j++) keys.push(value(c, depth + 2, maxDepth));
      out.push({ keys });
    } else if (t === LIST_EXT) {
      if (depth + 1 >= maxDepth) throw BAIL;
      out.push(qualifiedTag(c));
    } else out.push({ tag: bareTag(c) });
    if (i === n - 1) c.endList();
  }
  return out;
}
