import { Term } from "../term/types";
import { DATABASE, FORWARD_INFO_TYPE, USER_SESSION_TYPE } from "./enums";
import { int, setEnum, text } from "./fields";
import { decodeUinfo } from "./uinfo";

/** USER_SESSION `{32, Type, Uinfo, Db}` -> type, uinfo, database. */
export function decodeUserSession(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "type", int(f[1], `${where}.type`), USER_SESSION_TYPE);
  out.uinfo = decodeUinfo(f[2], `${where}.uinfo`);
  setEnum(out, "database", int(f[3], `${where}.database`), DATABASE);
  return out;
}

/**
 * FORWARD_INFO `{1024, Type, Target, Uinfo}` -> type, target, uinfo. (Python 6.2.5 overwrites
 * `type` with the target and has no `target` key — a bug we do not copy, §7.)
 */
export function decodeForwardInfo(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "type", int(f[1], `${where}.type`), FORWARD_INFO_TYPE);
  out.target = text(f[2], `${where}.target`);
  out.uinfo = decodeUinfo(f[3], `${where}.uinfo`);
  return out;
}
