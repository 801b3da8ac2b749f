/**
 * Fast payloads of the fixed-shape hot types, read straight from the term bytes: AUDIT, the
 * syslog types, USER_SESSION, COMMIT_SIMPLE, COMMIT_DIFF. Each builds exactly what its decoder
 * in ../notifications builds (same keys in the same order, same values) or bails; an enum value
 * without a name bails too, so every object here has one fixed shape.
 */
import * as enums from "../notifications/enums";
import * as fields from "../notifications/fields";
import * as types from "../term/types";
import { BAIL, Cursor } from "./cursor";

const { COMMIT_FLAGS, DATABASE, PROTO, SYSLOG_PRIORITY, USER_SESSION_TYPE, USESS_FLAGS, AF_INET } = enums;
const { bitNames, ipText } = fields;
const { Tuple } = types;

/** `table[value]`, or bail: the generic decoders omit the name key for an unknown value. */
export function named(table: enums.EnumTable, value: number): string {
  const name = table[value];
  if (name === undefined) throw BAIL;
  return name;
}

/** AUDIT `{1, Logno, User, Usid, Msg}` (audit.ts). */
export function audit(c: Cursor): Record<string, unknown> {
  return { logno: c.int(), user: c.text(), usid: c.int(), msg: c.text() };
}

/** DAEMON / NETCONF / DEVEL / JSONRPC / WEBUI `{T, Logno, Prio, Msg}` (syslog.ts). */
export function syslog(c: Cursor): Record<string, unknown> {
  const logno = c.int();
  const prio = c.int();
  return { logno, prio, prioName: named(SYSLOG_PRIORITY, prio), msg: c.text() };
}

/** USER_SESSION `{32, Type, Uinfo, Db}` (session.ts). */
export function userSession(c: Cursor): Record<string, unknown> {
  const type = c.int();
  const typeName = named(USER_SESSION_TYPE, type);
  const uinfo = readUinfo(c);
  const database = c.int();
  return { type, typeName, uinfo, database, databaseName: named(DATABASE, database) };
}

/** COMMIT_SIMPLE `{8, Db, Uinfo, DiffAvailable, Flags}` (commit.ts). */
export function commitSimple(c: Cursor): Record<string, unknown> {
  const database = c.int();
  const databaseName = named(DATABASE, database);
  const uinfo = readUinfo(c);
  const diff = c.int();
  if (diff !== 0 && diff !== 1) throw BAIL;
  const flags = c.int();
  return { database, databaseName, diff_available: diff, flags, flagsNames: flagNames(flags, COMMIT_FLAGS), uinfo };
}

/** COMMIT_DIFF `{16, Db, Uinfo, Thandle, Flags[, Comment, Label]}` (commit.ts); `arity` 7 or 5. */
export function commitDiff(c: Cursor, arity: number): Record<string, unknown> {
  const database = c.int();
  const databaseName = named(DATABASE, database);
  const uinfo = readUinfo(c);
  const th = c.int();
  const flags = c.int();
  const out: Record<string, unknown> = { database, databaseName, flags, flagsNames: flagNames(flags, COMMIT_FLAGS), uinfo, tctx: { th } };
  if (arity === 7) {
    const comment = c.optText();
    if (comment !== undefined) out.comment = comment;
    const label = c.optText();
    if (label !== undefined) out.label = label;
  }
  return out;
}

/** A fresh array each time: payloads belong to the flow, which may change them. */
function flagNames(flags: number, table: enums.EnumTable): string[] {
  return flags === 0 ? [] : bitNames(flags, table);
}

/**
 * The uinfo 10-tuple (uinfo.ts) `{Usid, Username, Clearpass, Context, Proto, Ip, Port,
 * Logintime, SnmpV3Ctx, Flags}`. Clearpass is skipped unread, as the generic decoder leaves it.
 */
function readUinfo(c: Cursor): Record<string, unknown> {
  c.tuple(10);
  const usid = c.int();
  const username = c.text();
  c.skipBinary();
  const context = c.text();
  const proto = c.int();
  const protoName = named(PROTO, proto);
  const addr = readIp(c);
  const af = readAf;
  const port = c.int();
  const logintime = c.int();
  const snmp = c.text();
  const flags = c.int();
  return {
    usid,
    username,
    context,
    proto,
    protoName,
    addr,
    af,
    port,
    logintime,
    snmp_v3_ctx: snmp,
    flags,
    flagsNames: flagNames(flags, USESS_FLAGS),
  };
}

// The last IPv4 address read, by its 32 bits: sessions come from a handful of hosts.
let lastIp4Key = -1;
let lastIp4 = "";
/** The address family of the last address readIp returned. */
let readAf = AF_INET;

/** The address family of the address ipBody read last. */
export function lastAf(): number {
  return readAf;
}

function readIp(c: Cursor): string {
  return ipBody(c, c.anyTuple());
}

/**
 * The elements of an IP tuple whose header said `arity`: `{A,B,C,D}` dotted or the 8-tuple as
 * RFC 5952 text (fields.ts ipText); its family in `readAf`.
 */
export function ipBody(c: Cursor, arity: number): string {
  if (arity === 4) {
    const a = c.int();
    const b = c.int();
    const d2 = c.int();
    const d3 = c.int();
    if (!(a >= 0 && a <= 255 && b >= 0 && b <= 255 && d2 >= 0 && d2 <= 255 && d3 >= 0 && d3 <= 255)) throw BAIL;
    const key = a * 16777216 + b * 65536 + d2 * 256 + d3;
    if (key !== lastIp4Key) {
      lastIp4Key = key;
      lastIp4 = `${a}.${b}.${d2}.${d3}`;
    }
    readAf = AF_INET;
    return lastIp4;
  }
  if (arity !== 8) throw BAIL;
  const parts: number[] = [];
  for (let i = 0; i < 8; i++) {
    const p = c.int();
    if (!(p >= 0 && p <= 0xffff)) throw BAIL;
    parts.push(p);
  }
  // Rare here: the generic renderer, on the parts as a term.
  const { af, addr } = ipText(new Tuple(parts), "uinfo.addr");
  readAf = af;
  return addr;
}
