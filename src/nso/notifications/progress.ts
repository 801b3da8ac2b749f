import { Atom, Term } from "../term/types";
import { DATABASE, PROGRESS_TYPE } from "./enums";
import { bad, bigInt, int, kindOf, listOf, microsIso, optText, setEnum, setOpt, text, tupleOf } from "./fields";

/**
 * PROGRESS / COMMIT_PROGRESS `{Tag, ProgressTerm}` (§7.1). The server picks the term by the
 * client's LIB_VSN, and the three generations differ in arity, so the arity decides:
 *  - 15 (LIB_VSN >= 0x08010000): `{Type, Timestamp, Duration, TraceId, SpanId, ParentSpanId,
 *    Usid, Tid, Datastore, Context, Subsystem, Msg, Annotation, Attributes, Links}`
 *  - 12 / 19 (0x07070000..0x0800ffff; NSO 6.2.5 sends it to every older client too, §15):
 *    `{Type, Timestamp, Duration, Usid, Tid, Datastore, Context, TraceId, Subsystem, Phase,
 *    Msg, Annotation [, Service, ServicePhase, CommitQueueId, Node, Device, DevicePhase, Package]}`
 *  - 11 / 18 (older than 0x07070000 on pre-6.2 servers; layout inferred: the above without
 *    TraceId — never seen on the wire).
 * Every generation yields the newest seed's keys: type, timestamp, duration (stop events),
 * trace_id, span_id, parent_span_id, usid, tid, datastore, context, subsystem, msg,
 * annotation, num_attributes, attributes `[{name, type, string|number}]`, num_links, links
 * `[{trace_id, span_id}]`. The older generations' service/device/... fields become attributes
 * under the names the 8.1+ server uses for them (service, service_phase, commit_queue_id, node,
 * device, device_phase, package), so a flow sees one shape whatever the server.
 */
export function decodeProgress(f: Term[], where: string): Record<string, unknown> {
  const p = tupleOf(f[1], [15, 12, 19, 11, 18], `${where}[1]`);
  if (p.length === 15) return current(p, where);
  return older(p, p.length === 12 || p.length === 19, where);
}

const OLD_EXTRA_ATTRIBUTES = ["service", "service_phase", "commit_queue_id", "node", "device", "device_phase", "package"];

function common(out: Record<string, unknown>, type: Term, ts: Term, duration: Term, where: string): void {
  setEnum(out, "type", int(type, `${where}.type`), PROGRESS_TYPE);
  const timestamp = bigInt(ts, `${where}.timestamp`);
  out.timestamp = timestamp;
  if (typeof timestamp === "number") out.timestampIso = microsIso(timestamp);
  if (!isUndefined(duration)) out.duration = bigInt(duration, `${where}.duration`);
}

function current(p: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  common(out, p[0], p[1], p[2], where);
  setOpt(out, "trace_id", optText(p[3], `${where}.trace_id`));
  setOpt(out, "span_id", optText(p[4], `${where}.span_id`));
  setOpt(out, "parent_span_id", optText(p[5], `${where}.parent_span_id`));
  out.usid = int(p[6], `${where}.usid`);
  out.tid = int(p[7], `${where}.tid`);
  setEnum(out, "datastore", int(p[8], `${where}.datastore`), DATABASE);
  setOpt(out, "context", optText(p[9], `${where}.context`));
  setOpt(out, "subsystem", optText(p[10], `${where}.subsystem`));
  setOpt(out, "msg", optText(p[11], `${where}.msg`));
  setOpt(out, "annotation", optText(p[12], `${where}.annotation`));
  const attributes = listOf(p[13], `${where}.attributes`).map((a, i) => {
    const [k, v] = tupleOf(a, [2], `${where}.attributes[${i}]`);
    return attribute(k instanceof Atom ? k.name : text(k, `${where}.attributes[${i}].name`), v, `${where}.attributes[${i}]`);
  });
  out.num_attributes = attributes.length;
  out.attributes = attributes;
  const links = listOf(p[14], `${where}.links`).map((l, i) => {
    const [trace, span] = tupleOf(l, [2], `${where}.links[${i}]`);
    return { trace_id: text(trace, `${where}.links[${i}].trace_id`), span_id: text(span, `${where}.links[${i}].span_id`) };
  });
  out.num_links = links.length;
  out.links = links;
  return out;
}

function older(p: Term[], hasTraceId: boolean, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  common(out, p[0], p[1], p[2], where);
  // Positions after Context shift by one when TraceId is there.
  const s = hasTraceId ? 1 : 0;
  if (hasTraceId) setOpt(out, "trace_id", optText(p[7], `${where}.trace_id`));
  out.usid = int(p[3], `${where}.usid`);
  out.tid = int(p[4], `${where}.tid`);
  setEnum(out, "datastore", int(p[5], `${where}.datastore`), DATABASE);
  setOpt(out, "context", optText(p[6], `${where}.context`));
  setOpt(out, "subsystem", optText(p[7 + s], `${where}.subsystem`));
  setOpt(out, "phase", optText(p[8 + s], `${where}.phase`));
  setOpt(out, "msg", optText(p[9 + s], `${where}.msg`));
  setOpt(out, "annotation", optText(p[10 + s], `${where}.annotation`));
  const attributes: Array<Record<string, unknown>> = [];
  const extra = p.slice(11 + s);
  extra.forEach((v, i) => {
    if (!isUndefined(v)) attributes.push(attribute(OLD_EXTRA_ATTRIBUTES[i], v, `${where}.${OLD_EXTRA_ATTRIBUTES[i]}`));
  });
  out.num_attributes = attributes.length;
  out.attributes = attributes;
  out.num_links = 0;
  out.links = [];
  return out;
}

/** `{name, type: 1, string}` or `{name, type: 2, number}` (`_ncs.events` doc); a number beyond 2^53 is a decimal string. */
function attribute(name: string, v: Term, where: string): Record<string, unknown> {
  if (typeof v === "number" || typeof v === "bigint") return { name, type: 2, typeName: "number", number: bigInt(v, where) };
  if (Buffer.isBuffer(v) || v instanceof Atom || typeof v === "string") {
    return { name, type: 1, typeName: "string", string: text(v, where) };
  }
  return bad(where, `expected a string or number attribute value, got ${kindOf(v)}`);
}

function isUndefined(t: Term): boolean {
  return t instanceof Atom && t.name === "undefined";
}
