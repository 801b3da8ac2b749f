/**
 * Fast SNMPA payloads (../notifications/snmpa.ts): `{512, {PduType, RequestId, Ip, Port,
 * ErrStatus, ErrIndex, NumVb, Varbinds}}`. A v1 trap (the 10-element form) bails.
 */
import * as enums from "../notifications/enums";
import * as tags from "../term/tags";
import { BAIL, Cursor } from "./cursor";
import * as payloads from "./payloads";

const { AF_INET, SNMP_ERROR_STATUS, SNMP_PDU_TYPE, SNMP_VARBIND_TYPE } = enums;
const { SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_BIG_EXT, BINARY_EXT, STRING_EXT, NIL_EXT, LIST_EXT } = tags;
const { ipBody, lastAf, named } = payloads;

// A Map, as snmpa.ts has it: an atom named `constructor` is an unknown status (-1), not a method.
const ERROR_STATUS_BY_NAME = new Map(Object.entries(SNMP_ERROR_STATUS).map(([k, v]) => [v, Number(k)]));

export function snmpa(c: Cursor): Record<string, unknown> {
  if (c.anyTuple() !== 8) throw BAIL;
  const pdu = c.int();
  if (pdu === 1) throw BAIL; // a v1 trap may use the other layout: the generic decoder tells
  const out: Record<string, unknown> = { pdu_type: pdu, pdu_typeName: named(SNMP_PDU_TYPE, pdu) };
  out.request_id = c.bigInt();
  const addr = ipBody(c, c.anyTuple());
  const af = lastAf();
  out.af = af;
  out[af === AF_INET ? "ip4" : "ip6"] = addr;
  out.port = c.int();
  if (c.atHead()) {
    const name = c.atom();
    out.error_status = ERROR_STATUS_BY_NAME.get(name) ?? -1;
    out.error_statusName = name;
  } else {
    const status = c.int();
    out.error_status = status;
    out.error_statusName = named(SNMP_ERROR_STATUS, status);
  }
  out.error_index = c.int();
  const num = c.int();
  const vb: Array<Record<string, unknown>> = [];
  const n = c.list();
  if (n !== num) throw BAIL;
  for (let i = 0; i < n; i++) {
    vb.push(varbind(c));
    if (i === n - 1) c.endList();
  }
  out.vb = vb;
  return out;
}

/** `{{1, AsnType, Name} | {2, AsnType, Oid} | {3, AsnType, RowIndex, Column}, Value}`. */
function varbind(c: Cursor): Record<string, unknown> {
  c.tuple(2);
  const arity = c.anyTuple();
  const kind = c.int();
  const out: Record<string, unknown> = { type: kind, typeName: named(SNMP_VARBIND_TYPE, kind), vartype: c.int() };
  if (kind === 1 && arity === 3) out.name = c.text();
  else if (kind === 2 && arity === 3) out.oid = oid(c);
  else if (kind === 3 && arity === 4) {
    const rowindex = oid(c);
    out.column = c.text();
    out.rowindex = rowindex;
  } else throw BAIL;
  out.val = value(c);
  return out;
}

/** NSO's text rendering of the value, 0 for NULL -> null; a binary that is not UTF-8 -> `{binary: base64}`. */
function value(c: Cursor): unknown {
  const t = c.peek();
  if (t === BINARY_EXT) return c.binaryJson();
  if (t === SMALL_INTEGER_EXT || t === INTEGER_EXT || t === SMALL_BIG_EXT) {
    const v = c.bigInt();
    return v === 0 ? null : v;
  }
  // An atom or a charlist; `[]` and other lists are not values.
  if (t === STRING_EXT || c.atHead()) return c.text();
  throw BAIL;
}

/** An OID list as dotted text; a list of small integers arrives as a charlist. */
function oid(c: Cursor): string {
  const t = c.peek();
  if (t === NIL_EXT) {
    c.pos++;
    return "";
  }
  if (t === STRING_EXT) {
    const s = c.text();
    let out = "";
    for (let i = 0; i < s.length; i++) out += (i === 0 ? "" : ".") + s.charCodeAt(i);
    return out;
  }
  if (t !== LIST_EXT) throw BAIL;
  let out = "";
  for (let n = c.list(), i = 0; i < n; i++) {
    out += (i === 0 ? "" : ".") + String(c.bigInt());
    if (i === n - 1) c.endList();
  }
  return out;
}
