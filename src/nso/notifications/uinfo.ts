import { Term } from "../term/types";
import { PROTO, USESS_FLAGS } from "./enums";
import { bitNames, int, ipText, setEnum, text, tupleOf } from "./fields";

/**
 * User info, the 10-tuple `{Usid, Username, Clearpass, Context, Proto, Ip, Port, Logintime,
 * SnmpV3Ctx, Flags}` (§6), with the `_ncs.UserInfo` attribute names. `clearpass` is never
 * read: a real NSO puts web users' clear-text passwords there (§15).
 */
export function decodeUinfo(t: Term, where: string): Record<string, unknown> {
  const f = tupleOf(t, [10], where);
  const { af, addr } = ipText(f[5], `${where}.addr`);
  const out: Record<string, unknown> = {
    usid: int(f[0], `${where}.usid`),
    username: text(f[1], `${where}.username`),
    context: text(f[3], `${where}.context`),
  };
  setEnum(out, "proto", int(f[4], `${where}.proto`), PROTO);
  out.addr = addr;
  out.af = af;
  out.port = int(f[6], `${where}.port`);
  out.logintime = int(f[7], `${where}.logintime`);
  out.snmp_v3_ctx = text(f[8], `${where}.snmp_v3_ctx`);
  const flags = int(f[9], `${where}.flags`);
  out.flags = flags;
  out.flagsNames = bitNames(flags, USESS_FLAGS);
  return out;
}
