import { Term } from "../term/types";
import { COMMIT_FAILED_PROVIDER, COMMIT_FLAGS, CONFIRMED_COMMIT_TYPE, DATABASE } from "./enums";
import { bad, bitNames, int, kindOf, optText, setEnum, setIp, setOpt, text } from "./fields";
import { decodeUinfo } from "./uinfo";

function setFlags(out: Record<string, unknown>, t: Term, where: string): void {
  const flags = int(t, where);
  out.flags = flags;
  out.flagsNames = bitNames(flags, COMMIT_FLAGS);
}

/**
 * COMMIT_SIMPLE `{8, Db, Uinfo, DiffAvailable, Flags}` -> database, diff_available, flags, uinfo.
 * diff_available stays the integer 1/0 NSO sends, as the Python API hands it over.
 */
export function decodeCommitSimple(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "database", int(f[1], `${where}.database`), DATABASE);
  const diff = int(f[3], `${where}.diff_available`);
  if (diff !== 0 && diff !== 1) bad(`${where}.diff_available`, "expected 0 or 1");
  out.diff_available = diff;
  setFlags(out, f[4], `${where}.flags`);
  out.uinfo = decodeUinfo(f[2], `${where}.uinfo`);
  return out;
}

/**
 * COMMIT_DIFF `{16, Db, Uinfo, Thandle, Flags[, Comment, Label]}` -> database, flags, uinfo,
 * tctx `{th}` (what `diff_notification_done` needs), comment/label when non-empty.
 * The 5-tuple form (no comment/label) is what older servers send.
 */
export function decodeCommitDiff(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "database", int(f[1], `${where}.database`), DATABASE);
  setFlags(out, f[4], `${where}.flags`);
  out.uinfo = decodeUinfo(f[2], `${where}.uinfo`);
  out.tctx = { th: int(f[3], `${where}.tctx.th`) };
  if (f.length === 7) {
    setOpt(out, "comment", optText(f[5], `${where}.comment`));
    setOpt(out, "label", optText(f[6], `${where}.label`));
  }
  return out;
}

/**
 * COMMIT_FAILED `{256, Provider, Db, ...}`: NETCONF adds `IpTuple, Port`, EXTERNAL adds
 * `DaemonName`, CDB/SNMPGW nothing -> provider, dbname, and port/af/ip4|ip6 or daemon_name.
 */
export function decodeCommitFailed(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const provider = int(f[1], `${where}.provider`);
  setEnum(out, "provider", provider, COMMIT_FAILED_PROVIDER);
  setEnum(out, "dbname", int(f[2], `${where}.dbname`), DATABASE);
  if (provider === 2) {
    if (f.length !== 5) bad(where, `a NETCONF commit failure has 5 elements, got ${f.length}`);
    setIp(out, f[3], `${where}.ip`);
    out.port = int(f[4], `${where}.port`);
  } else if (provider === 3) {
    if (f.length !== 4) bad(where, `an external commit failure has 4 elements, got ${f.length}`);
    out.daemon_name = text(f[3], `${where}.daemon_name`);
  } else if (f.length !== 3) {
    bad(where, `provider ${provider} carries no more than the database, got ${kindOf(f[3])} after it`);
  }
  return out;
}

/** CONFIRMED_COMMIT `{16384, Type, TimeoutSecs, Uinfo}` -> type, timeout, uinfo. */
export function decodeConfirmedCommit(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "type", int(f[1], `${where}.type`), CONFIRMED_COMMIT_TYPE);
  out.timeout = int(f[2], `${where}.timeout`);
  out.uinfo = decodeUinfo(f[3], `${where}.uinfo`);
  return out;
}
