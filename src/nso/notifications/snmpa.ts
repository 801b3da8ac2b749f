import { Atom, Term } from "../term/types";
import { binaryToJson, JsonValue } from "../term/json";
import { SNMP_ERROR_STATUS, SNMP_PDU_TYPE, SNMP_VARBIND_TYPE } from "./enums";
import { bad, bigInt, int, kindOf, listOf, setEnum, setIp, text, tupleOf } from "./fields";

const ERROR_STATUS_BY_NAME = new Map(Object.entries(SNMP_ERROR_STATUS).map(([k, v]) => [v, Number(k)]));

/**
 * SNMPA `{512, Inner}` (§7, BEAM `confd_snmpa_lib:event_struct`):
 *  - any PDU but a v1 trap: `{PduType, RequestId, Ip, Port, ErrStatus, ErrIndex, NumVb, Varbinds}`
 *  - v1 trap: `{1, TimeStamp, Ip, Port, Generic, Specific, NumVb, Varbinds, AgentAddr, EnterpriseOid}`
 * -> pdu_type, request_id, error_status, error_index, port, af, ip4|ip6, vb, and for v1 traps
 * generic_trap, specific_trap, time_stamp, enterprise. NSO sends a non-zero error status as the
 * OTP atom (`noSuchName`); we give its RFC 3416 number plus the name. A v1 trap has no request id
 * or error slots on the wire; libconfd leaves them 0 and the Python API still reports them, so
 * the payload carries them as 0 too (flows written against `_ncs.events` read them unguarded).
 */
export function decodeSnmpa(f: Term[], where: string): Record<string, unknown> {
  const g = tupleOf(f[1], [8, 10], `${where}[1]`);
  const out: Record<string, unknown> = {};
  const pdu = int(g[0], `${where}.pdu_type`);
  setEnum(out, "pdu_type", pdu, SNMP_PDU_TYPE);
  if (pdu === 1 && g.length === 10) {
    out.time_stamp = bigInt(g[1], `${where}.time_stamp`);
    out.request_id = 0;
    setEnum(out, "error_status", 0, SNMP_ERROR_STATUS);
    out.error_index = 0;
    setIp(out, g[2], `${where}.ip`);
    out.port = int(g[3], `${where}.port`);
    out.generic_trap = int(g[4], `${where}.generic_trap`);
    out.specific_trap = int(g[5], `${where}.specific_trap`);
    out.vb = varbinds(g[6], g[7], `${where}.vb`);
    out.agent_addr = agentAddr(g[8], `${where}.agent_addr`);
    out.enterprise = oid(g[9], `${where}.enterprise`);
    return out;
  }
  if (g.length !== 8) bad(where, `a ${SNMP_PDU_TYPE[pdu] ?? pdu} PDU has 8 elements, got ${g.length}`);
  out.request_id = bigInt(g[1], `${where}.request_id`);
  setIp(out, g[2], `${where}.ip`);
  out.port = int(g[3], `${where}.port`);
  const status = g[4];
  if (status instanceof Atom) {
    out.error_status = ERROR_STATUS_BY_NAME.get(status.name) ?? -1;
    out.error_statusName = status.name;
  } else setEnum(out, "error_status", int(status, `${where}.error_status`), SNMP_ERROR_STATUS);
  out.error_index = int(g[5], `${where}.error_index`);
  out.vb = varbinds(g[6], g[7], `${where}.vb`);
  return out;
}

/**
 * Varbind `{OidDesc, Value}`: OidDesc `{1, AsnType, NameAtom}` (a named variable), `{2,
 * AsnType, OidList}`, `{3, AsnType, RowIndexList, ColumnAtom}`. Value is the text rendering
 * NSO made, or 0 for NULL -> null. A value that is not UTF-8 (e.g. a DateAndTime octet string)
 * becomes `{binary: base64}`.
 */
function varbinds(numVb: Term, list: Term, where: string): Array<Record<string, unknown>> {
  const items = listOf(list, where);
  const n = int(numVb, `${where}.num`);
  if (n !== items.length) bad(where, `NumVb says ${n} but ${items.length} varbinds follow`);
  return items.map((vb, i) => {
    const w = `${where}[${i}]`;
    const [desc, value] = tupleOf(vb, [2], w);
    const d = tupleOf(desc, [3, 4], `${w}.oid`);
    const kind = int(d[0], `${w}.type`);
    const out: Record<string, unknown> = {};
    setEnum(out, "type", kind, SNMP_VARBIND_TYPE);
    out.vartype = int(d[1], `${w}.vartype`);
    if (kind === 1 && d.length === 3) out.name = text(d[2], `${w}.name`);
    else if (kind === 2 && d.length === 3) out.oid = oid(d[2], `${w}.oid`);
    else if (kind === 3 && d.length === 4) {
      out.column = text(d[3], `${w}.column`);
      out.rowindex = oid(d[2], `${w}.rowindex`);
    } else bad(`${w}.oid`, `unexpected varbind descriptor of type ${kind} with ${d.length} elements`);
    out.val = varbindValue(value, `${w}.val`);
    return out;
  });
}

function varbindValue(t: Term, where: string): JsonValue {
  if (t === 0) return null;
  if (Buffer.isBuffer(t)) return binaryToJson(t);
  if (typeof t === "number") return t;
  if (typeof t === "bigint") return t.toString();
  if (t instanceof Atom || typeof t === "string") return text(t, where);
  return bad(where, `unexpected varbind value ${kindOf(t)}`);
}

function oid(t: Term, where: string): string {
  return listOf(t, where)
    .map((n, i) => String(bigInt(n, `${where}[${i}]`)))
    .join(".");
}

function agentAddr(t: Term, where: string): string {
  const out: Record<string, unknown> = {};
  setIp(out, t, where);
  return (out.ip4 ?? out.ip6) as string;
}
