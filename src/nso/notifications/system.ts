import { Term } from "../term/types";
import { COMPACTION_DBFILE, COMPACTION_TYPE, SUBAGENT_INFO_TYPE, UPGRADE_EVENT } from "./enums";
import { bigInt, int, microsIso, setEnum, text, tupleOf } from "./fields";

/** HEARTBEAT `{8192}`, HEALTH_CHECK `{262144}`, PACKAGE_RELOAD, REOPEN_LOGS: the type says it all. */
export function decodeBare(): Record<string, unknown> {
  return {};
}

/** UPGRADE_EVENT `{32768, Event}` -> event. */
export function decodeUpgrade(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "event", int(f[1], `${where}.event`), UPGRADE_EVENT);
  return out;
}

/** SUBAGENT_INFO `{128, {Type, Name}}` -> type, name. */
export function decodeSubagent(f: Term[], where: string): Record<string, unknown> {
  const [type, name] = tupleOf(f[1], [2], `${where}[1]`);
  const out: Record<string, unknown> = {};
  setEnum(out, "type", int(type, `${where}.type`), SUBAGENT_INFO_TYPE);
  out.name = text(name, `${where}.name`);
  return out;
}

/**
 * COMPACTION `{1073741824, DbFile, Type, FsizeStart, FsizeEnd, FsizeLast, TimeStart(µs),
 * Duration(µs), NTrans}` -> the seed's names; time_start also as ISO 8601 (time_startIso).
 */
export function decodeCompaction(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "dbfile", int(f[1], `${where}.dbfile`), COMPACTION_DBFILE);
  setEnum(out, "type", int(f[2], `${where}.type`), COMPACTION_TYPE);
  out.fsize_start = bigInt(f[3], `${where}.fsize_start`);
  out.fsize_end = bigInt(f[4], `${where}.fsize_end`);
  out.fsize_last = bigInt(f[5], `${where}.fsize_last`);
  const start = bigInt(f[6], `${where}.time_start`);
  out.time_start = start;
  if (typeof start === "number") out.time_startIso = microsIso(start);
  out.duration = bigInt(f[7], `${where}.duration`);
  out.ntrans = bigInt(f[8], `${where}.ntrans`);
  return out;
}
