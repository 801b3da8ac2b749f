/**
 * Fast payloads of the small types that share a connection with the hot ones: UPGRADE_EVENT,
 * COMPACTION, HA_INFO, AUDIT_NETWORK (../notifications/system.ts, ha.ts, audit.ts). Same keys,
 * same order, or bail.
 */
import * as enums from "../notifications/enums";
import * as tags from "../term/tags";
import { BAIL, Cursor } from "./cursor";
import * as iso from "./iso";
import * as payloads from "./payloads";

const { microsIso } = iso;
const { AF_INET, AF_UNSPEC, COMPACTION_DBFILE, COMPACTION_TYPE, HA_INFO_TYPE, UPGRADE_EVENT } = enums;
const { SMALL_TUPLE_EXT, NIL_EXT } = tags;
const { ipBody, lastAf, named } = payloads;

/** UPGRADE_EVENT `{32768, Event}`. */
export function upgrade(c: Cursor): Record<string, unknown> {
  const event = c.int();
  return { event, eventName: named(UPGRADE_EVENT, event) };
}

/** COMPACTION `{1073741824, DbFile, Type, FsizeStart, FsizeEnd, FsizeLast, TimeStart, Duration, NTrans}`. */
export function compaction(c: Cursor): Record<string, unknown> {
  const dbfile = c.int();
  const dbfileName = named(COMPACTION_DBFILE, dbfile);
  const type = c.int();
  const out: Record<string, unknown> = { dbfile, dbfileName, type, typeName: named(COMPACTION_TYPE, type) };
  out.fsize_start = c.bigInt();
  out.fsize_end = c.bigInt();
  out.fsize_last = c.bigInt();
  const start = c.bigInt();
  out.time_start = start;
  if (typeof start === "number") out.time_startIso = microsIso(start);
  out.duration = c.bigInt();
  out.ntrans = c.bigInt();
  return out;
}

/** HA_INFO `{64, {HaType, Data}}` (ha.ts). */
export function haInfo(c: Cursor): Record<string, unknown> {
  c.tuple(2);
  const type = c.int();
  const out: Record<string, unknown> = { type, typeName: named(HA_INFO_TYPE, type) };
  switch (type) {
    case 1:
      out.noprimary = c.int();
      break;
    case 2:
      out.secondary_died = haNode(c);
      break;
    case 3:
      out.secondary_arrived = haNode(c);
      break;
    case 4:
      out.cdb_initialized_by_copy = c.int();
      break;
    case 7:
      out.besecondary_result = c.int();
      break;
    default:
      // is_primary / is_none: a Data slot that means nothing (0 from a real NSO).
      c.int();
  }
  return out;
}

/** `{NodeId, IpTuple}` -> nodeid, af, ip4|ip6; an address as text -> af AF_UNSPEC, str. */
function haNode(c: Cursor): Record<string, unknown> {
  c.tuple(2);
  const nodeid = c.text();
  if (c.peek() === SMALL_TUPLE_EXT) {
    const addr = ipBody(c, c.anyTuple());
    const af = lastAf();
    return af === AF_INET ? { nodeid, af, ip4: addr } : { nodeid, af, ip6: addr };
  }
  // Text only (a binary, atom or charlist; `[]` is not an address): text() would take `[]`.
  if (c.peek() === NIL_EXT) throw BAIL;
  return { nodeid, af: AF_UNSPEC, str: c.text() };
}

/** AUDIT_NETWORK `{268435456, {Usid, Tid, User, Device, TraceId, Config}}` (audit.ts). */
export function auditNetwork(c: Cursor): Record<string, unknown> {
  c.tuple(6);
  const out: Record<string, unknown> = { usid: c.int(), tid: c.int(), user: c.text(), device: c.text() };
  const trace = c.optText();
  if (trace !== undefined) out.trace_id = trace;
  out.config = c.text();
  return out;
}
