/**
 * Fast CQ_PROGRESS payloads (../notifications/cq-progress.ts, which documents both layouts):
 * `{4194304, Type, Timestamp, CqId, CqTag, Completed, Transient, Failed, CompletedServices,
 * FailedServices, TraceId}` (11) or the older 10 with CqTag and CqId swapped and no TraceId.
 */
import * as enums from "../notifications/enums";
import * as tags from "../term/tags";
import { BAIL, Cursor } from "./cursor";
import * as dt from "./datetime";
import * as payloads from "./payloads";

const { CQ_PROGRESS_TYPE } = enums;
const { SMALL_TUPLE_EXT, NIL_EXT } = tags;
const { named } = payloads;
const { datetime, isoOf, partsOf } = dt;

export function cqProgress(c: Cursor, arity: number): Record<string, unknown> {
  const old = arity === 10;
  const type = c.int();
  const typeName = named(CQ_PROGRESS_TYPE, type);
  const time = datetime(c);
  const out: Record<string, unknown> = { type, typeName, timestamp: isoOf(time), timestampParts: partsOf(time) };
  let id: number | string;
  let tag: string | undefined;
  if (old) {
    tag = c.optText();
    id = c.bigInt();
  } else {
    id = c.bigInt();
    tag = c.optText();
  }
  out.cq_id = id;
  if (tag !== undefined) out.cq_tag = tag;
  out.completed_devices = names(c);

  const transient: string[] = [];
  const transientReasons: string[] = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    if (c.peek() === SMALL_TUPLE_EXT) {
      c.tuple(2);
      transient.push(c.text());
      transientReasons.push(c.text());
    } else transient.push(c.text());
    if (i === n - 1) c.endList();
  }
  out.transient_devices = transient;
  if (transientReasons.length > 0) out.transient_reasons = transientReasons;

  const failed: string[] = [];
  const reasons: string[] = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    c.tuple(2);
    failed.push(c.text());
    reasons.push(c.text());
    if (i === n - 1) c.endList();
  }
  out.failed_devices = failed;
  out.failed_reasons = reasons;

  const cs: string[] = [];
  const csDevices: string[][] = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    c.tuple(2);
    cs.push(c.text());
    csDevices.push(names(c));
    if (i === n - 1) c.endList();
  }
  out.completed_services = cs;
  out.completed_services_completed_devices = csDevices;

  const fs: string[] = [];
  const fsCompleted: string[][] = [];
  const fsFailed: string[][] = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    c.tuple(3);
    fs.push(c.text());
    fsCompleted.push(names(c));
    fsFailed.push(names(c));
    if (i === n - 1) c.endList();
  }
  out.failed_services = fs;
  out.failed_services_completed_devices = fsCompleted;
  out.failed_services_failed_devices = fsFailed;

  if (!old) {
    const trace = c.optText();
    if (trace !== undefined) out.trace_id = trace;
  }
  return out;
}

/**
 * A list of device names: a name (binary, atom, charlist; not `[]`), or a `{Device}` /
 * `{Device, Reason}` tuple that contributes its device. Longer tuples bail.
 */
function names(c: Cursor): string[] {
  const out: string[] = [];
  for (let n = c.list(), i = 0; i < n; i++) {
    const t = c.peek();
    if (t === SMALL_TUPLE_EXT) {
      const k = c.anyTuple();
      if (k !== 1 && k !== 2) throw BAIL;
      out.push(c.text());
      if (k === 2) c.text();
    } else {
      if (t === NIL_EXT) throw BAIL;
      out.push(c.text());
    }
    if (i === n - 1) c.endList();
  }
  return out;
}
