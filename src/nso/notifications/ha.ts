import { Atom, Term, Tuple } from "../term/types";
import { AF_UNSPEC, HA_INFO_TYPE } from "./enums";
import { bad, int, kindOf, setEnum, setIp, text, tupleOf } from "./fields";

/**
 * HA_INFO `{64, {HaType, Data}}` -> type plus, by type (§7, `_ncs.events` doc): noprimary (reason
 * code), secondary_died / secondary_arrived (`{nodeid, af, ip4|ip6|str}`),
 * cdb_initialized_by_copy, besecondary_result. Is-primary / is-none (5, 6) carry a Data slot
 * (0 on a real NSO) that means nothing. The legacy names (nomaster, slave_died, ...) that
 * Python 6.2.5 also sets are not repeated.
 */
export function decodeHaInfo(f: Term[], where: string): Record<string, unknown> {
  const [typeTerm, data] = tupleOf(f[1], [2], `${where}[1]`);
  const type = int(typeTerm, `${where}.type`);
  const out: Record<string, unknown> = {};
  setEnum(out, "type", type, HA_INFO_TYPE);
  switch (type) {
    case 1:
      out.noprimary = int(data, `${where}.noprimary`);
      break;
    case 2:
      out.secondary_died = haNode(data, `${where}.secondary_died`);
      break;
    case 3:
      out.secondary_arrived = haNode(data, `${where}.secondary_arrived`);
      break;
    case 4:
      out.cdb_initialized_by_copy = int(data, `${where}.cdb_initialized_by_copy`);
      break;
    case 7:
      out.besecondary_result = int(data, `${where}.besecondary_result`);
      break;
    default:
      break; // 5, 6 and types newer than this decoder: nothing more to say
  }
  return out;
}

/** `{NodeId, IpTuple}`; an address that is not a tuple is kept as text with af AF_UNSPEC. */
function haNode(t: Term, where: string): Record<string, unknown> {
  const [nodeid, addr] = tupleOf(t, [2], where);
  const out: Record<string, unknown> = { nodeid: text(nodeid, `${where}.nodeid`) };
  if (addr instanceof Tuple) setIp(out, addr, `${where}.ip`);
  else if (Buffer.isBuffer(addr) || addr instanceof Atom || typeof addr === "string") {
    out.af = AF_UNSPEC;
    out.str = text(addr, `${where}.str`);
  } else bad(`${where}.ip`, `expected an address, got ${kindOf(addr)}`);
  return out;
}
