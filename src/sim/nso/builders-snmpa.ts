import { atom, Term, Tuple, tuple } from "../../nso/term/types";
import { SNMP_ERROR_STATUS } from "../../nso/notifications/enums";
import { ipTerm } from "./builders";
import { asText } from "../../core/describe";

/**
 * SNMPA `{512, Inner}` as NSO 6.2.5's agent sends it (BEAM
 * `confd_snmpa_lib:event_struct`), from a scenario spec:
 *
 *   {"type": "NOTIF_SNMPA", "pdu_type": 5, "request_id": 42, "ip": "192.0.2.9", "port": 161,
 *    "error_status": 0 | "genErr", "error_index": 0,
 *    "vb": [{"name": "sysDescr", "vartype": 4, "value": "NSO"},
 *           {"oid": "1.3.6.1.2.1.1.3.0", "vartype": 67, "value": "4242"},
 *           {"column": "ifDescr", "rowindex": "1", "vartype": 4, "value": null}]}
 *
 * A v1 trap (`pdu_type` 1) adds time_stamp, generic_trap, specific_trap, agent_addr and
 * enterprise (an OID string); its layout has no request_id/error_status/error_index slots (a
 * client reports them as 0), so a spec that sets them to anything else is refused rather than
 * silently dropped. A non-zero error status goes out as the OTP atom (`genErr`),
 * as the real agent does; 0 stays the integer. A `null` value is the NULL 0.
 */
const STATUS_BY_NAME = new Map(Object.entries(SNMP_ERROR_STATUS).map(([k, v]) => [v, Number(k)]));

const int = (v: unknown, dflt: number, what: string): number => {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`SNMPA ${what}: expected an integer, got ${JSON.stringify(v)}`);
  return n;
};

function oidList(v: unknown, what: string): number[] {
  const parts = asText(v ?? "")
    .split(".")
    .filter((x) => x !== "")
    .map(Number);
  if (parts.length === 0 || parts.some((p) => !Number.isSafeInteger(p) || p < 0))
    throw new RangeError(`SNMPA ${what}: expected a dotted OID, got ${JSON.stringify(v)}`);
  return parts;
}

function varbind(v: unknown, i: number): Tuple {
  if (!v || typeof v !== "object") throw new RangeError(`SNMPA vb[${i}]: expected an object`);
  const o = v as Record<string, unknown>;
  const vartype = int(o.vartype, 4, `vb[${i}].vartype`);
  let desc: Tuple;
  if (typeof o.name === "string") desc = tuple(1, vartype, atom(o.name));
  else if (o.oid !== undefined) desc = tuple(2, vartype, oidList(o.oid, `vb[${i}].oid`));
  else if (typeof o.column === "string") desc = tuple(3, vartype, oidList(o.rowindex, `vb[${i}].rowindex`), atom(o.column));
  else throw new RangeError(`SNMPA vb[${i}]: needs name, oid, or column + rowindex`);
  const value: Term = o.value === null || o.value === undefined ? 0 : Buffer.from(asText(o.value), "utf8");
  return tuple(desc, value);
}

export function snmpaTerm(tag: number, s: Record<string, unknown>): Tuple {
  const vbs = (Array.isArray(s.vb) ? s.vb : []).map(varbind);
  const pdu = int(s.pdu_type, 2, "pdu_type");
  if (pdu === 1) {
    for (const k of ["request_id", "error_status", "error_index"]) {
      const v = s[k];
      if (v !== undefined && v !== 0 && v !== "noError")
        throw new RangeError(`SNMPA v1 trap: ${k} cannot be sent (the v1 trap layout has no slot for it), got ${JSON.stringify(v)}`);
    }
    return tuple(
      tag,
      tuple(
        1,
        int(s.time_stamp, 4242, "time_stamp"),
        ipTerm(s.ip ?? "192.0.2.9"),
        int(s.port, 162, "port"),
        int(s.generic_trap, 6, "generic_trap"),
        int(s.specific_trap, 1, "specific_trap"),
        vbs.length,
        vbs,
        ipTerm(s.agent_addr ?? s.ip ?? "192.0.2.9"),
        oidList(s.enterprise ?? "1.3.6.1.4.1.24961", "enterprise"),
      ),
    );
  }
  let status: Term;
  if (typeof s.error_status === "string") {
    if (!STATUS_BY_NAME.has(s.error_status)) throw new RangeError(`SNMPA error_status: unknown name ${JSON.stringify(s.error_status)}`);
    status = s.error_status === "noError" ? 0 : atom(s.error_status);
  } else {
    const n = int(s.error_status, 0, "error_status");
    // The agent sends the OTP atom for every non-zero status (§7 quirk).
    status = n === 0 ? 0 : atom(SNMP_ERROR_STATUS[n] ?? "genErr");
  }
  return tuple(
    tag,
    tuple(
      pdu,
      int(s.request_id, 1, "request_id"),
      ipTerm(s.ip ?? "192.0.2.9"),
      int(s.port, 161, "port"),
      status,
      int(s.error_index, 0, "error_index"),
      vbs.length,
      vbs,
    ),
  );
}
