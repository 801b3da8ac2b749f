/**
 * Fast PROGRESS / COMMIT_PROGRESS payloads `{Tag, ProgressTerm}` (../notifications/progress.ts,
 * which documents the three generations): the same keys in the same order, read in wire order.
 */
import * as enums from "../notifications/enums";
import * as tags from "../term/tags";
import { BAIL, Cursor } from "./cursor";
import * as iso from "./iso";

const { DATABASE, PROGRESS_TYPE } = enums;
const { microsIso } = iso;
const { SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_BIG_EXT, BINARY_EXT, STRING_EXT } = tags;

const OLD_EXTRA_ATTRIBUTES = ["service", "service_phase", "commit_queue_id", "node", "device", "device_phase", "package"];

export function progress(c: Cursor): Record<string, unknown> {
  const arity = c.anyTuple();
  if (arity === 15) return current(c);
  if (arity === 12 || arity === 19) return older(c, arity, true);
  if (arity === 11 || arity === 18) return older(c, arity, false);
  throw BAIL;
}

/** type, typeName, timestamp, timestampIso (when a safe number), duration (unless undefined). */
function common(c: Cursor): Record<string, unknown> {
  const type = c.int();
  const typeName = PROGRESS_TYPE[type];
  if (typeName === undefined) throw BAIL;
  const timestamp = c.bigInt();
  const out: Record<string, unknown> =
    typeof timestamp === "number" ? { type, typeName, timestamp, timestampIso: microsIso(timestamp) } : { type, typeName, timestamp };
  if (!c.undefinedAtom()) out.duration = c.bigInt();
  return out;
}

function setDatastore(c: Cursor, out: Record<string, unknown>): void {
  const ds = c.int();
  const name = DATABASE[ds];
  if (name === undefined) throw BAIL;
  out.datastore = ds;
  out.datastoreName = name;
}

/**
 * The 8.1+ term: `{Type, Timestamp, Duration, TraceId, SpanId, ParentSpanId, Usid, Tid,
 * Datastore, Context, Subsystem, Msg, Annotation, Attributes, Links}`.
 */
function current(c: Cursor): Record<string, unknown> {
  const out = common(c);
  let s = c.optText();
  if (s !== undefined) out.trace_id = s;
  s = c.optText();
  if (s !== undefined) out.span_id = s;
  s = c.optText();
  if (s !== undefined) out.parent_span_id = s;
  out.usid = c.int();
  out.tid = c.int();
  setDatastore(c, out);
  s = c.optText();
  if (s !== undefined) out.context = s;
  s = c.optText();
  if (s !== undefined) out.subsystem = s;
  s = c.optText();
  if (s !== undefined) out.msg = s;
  s = c.optText();
  if (s !== undefined) out.annotation = s;
  const attributes: Array<Record<string, unknown>> = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    c.tuple(2);
    const name = c.text();
    attributes.push(attribute(c, name));
    if (i === n - 1) c.endList();
  }
  out.num_attributes = attributes.length;
  out.attributes = attributes;
  const links: Array<Record<string, unknown>> = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    c.tuple(2);
    const trace = c.text();
    links.push({ trace_id: trace, span_id: c.text() });
    if (i === n - 1) c.endList();
  }
  out.num_links = links.length;
  out.links = links;
  return out;
}

/**
 * The older terms: `{Type, Timestamp, Duration, Usid, Tid, Datastore, Context, [TraceId,]
 * Subsystem, Phase, Msg, Annotation [, Service, ServicePhase, CommitQueueId, Node, Device,
 * DevicePhase, Package]}`. trace_id comes before usid in the payload, after Context on the wire.
 */
function older(c: Cursor, arity: number, hasTraceId: boolean): Record<string, unknown> {
  const out = common(c);
  const usid = c.int();
  const tid = c.int();
  const ds = c.int();
  const dsName = DATABASE[ds];
  if (dsName === undefined) throw BAIL;
  const context = c.optText();
  if (hasTraceId) {
    const trace = c.optText();
    if (trace !== undefined) out.trace_id = trace;
  }
  out.usid = usid;
  out.tid = tid;
  out.datastore = ds;
  out.datastoreName = dsName;
  if (context !== undefined) out.context = context;
  let s = c.optText();
  if (s !== undefined) out.subsystem = s;
  s = c.optText();
  if (s !== undefined) out.phase = s;
  s = c.optText();
  if (s !== undefined) out.msg = s;
  s = c.optText();
  if (s !== undefined) out.annotation = s;
  const attributes: Array<Record<string, unknown>> = [];
  const extras = arity - (hasTraceId ? 12 : 11);
  for (let i = 0; i < extras; i++) {
    if (!c.undefinedAtom()) attributes.push(attribute(c, OLD_EXTRA_ATTRIBUTES[i]));
  }
  out.num_attributes = attributes.length;
  out.attributes = attributes;
  out.num_links = 0;
  out.links = [];
  return out;
}

/** `{name, type: 2, typeName: "number", number}` or `{name, type: 1, typeName: "string", string}`. */
function attribute(c: Cursor, name: string): Record<string, unknown> {
  const tag = c.peek();
  if (tag === SMALL_INTEGER_EXT || tag === INTEGER_EXT || tag === SMALL_BIG_EXT) return { name, type: 2, typeName: "number", number: c.bigInt() };
  // A string value: a binary, an atom or a charlist; `[]` is not one (the generic decoder refuses it).
  if (tag === BINARY_EXT || tag === STRING_EXT || c.atHead()) return { name, type: 1, typeName: "string", string: c.text() };
  throw BAIL;
}
