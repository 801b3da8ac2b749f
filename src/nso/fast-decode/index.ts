/**
 * Notification payloads straight from the term bytes, for the hot types (audit, the syslog
 * types, user session, commit simple/diff, progress, stream events) and the small ones that
 * share their connections (CQ progress, SNMP, HA, audit network, compaction, upgrade, the bare
 * ones), without building the generic term first (docs/nso.md, "Payloads straight from the
 * bytes"). The generic path (decodeTerm + decodeNotification, with ackFor) stays the
 * reference: fastNotification gives exactly its result, or undefined when the frame is of
 * another type or anything about it is unusual (another encoding, a value the generic decoder
 * would refuse, a limit it would enforce), and the caller then takes the generic path, which
 * also gives the ProtocolError for a bad frame. test/unit/nso/fast-decode*.test.ts hold the two
 * paths to the same answer on every golden frame and on hostile ones.
 */
import type { AckHandle } from "../acks";
import { NOTIF_BITS } from "../constants";
import type { NotificationType, NsoNotification } from "../notifications/types";
import * as decode from "../term/decode";
import type { DecodeOptions } from "../term/decode";
import * as tags from "../term/tags";
import * as types from "../term/types";
import type { Term } from "../term/types";
import { BAIL, Cursor } from "./cursor";
import * as payloads from "./payloads";
import * as progressMod from "./progress";
import * as cqMod from "./cq-progress";
import * as snmpaMod from "./snmpa";
import * as streamMod from "./stream";
import * as systemMod from "./system";

export { lazyRawEvent, notificationTag } from "./event";

const { DEFAULT_MAX_BIG_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE } = decode;
const { VERSION, SMALL_TUPLE_EXT } = tags;
const { Tuple } = types;
const { audit, syslog, userSession, commitSimple, commitDiff } = payloads;
const { progress } = progressMod;
const { streamEvent } = streamMod;
const { cqProgress } = cqMod;
const { snmpa } = snmpaMod;
const { upgrade, compaction, haInfo, auditNetwork } = systemMod;
const { NOTIF_AUDIT_SYNC: AUDIT_SYNC, NOTIF_HA_INFO_SYNC: HA_SYNC, NOTIF_AUDIT_NETWORK_SYNC: AUDIT_NETWORK_SYNC } = NOTIF_BITS;

/**
 * Containers the fixed shapes nest (notification, body, list, item, tag, value, datetime...): with
 * a smaller maxDepth the generic decoder may refuse a frame, so this path leaves it to it.
 * Values of open depth (stream event values) are checked against maxDepth as they are read.
 */
const FIXED_DEPTH = 8;

export interface FastDecodeOptions extends DecodeOptions {
  /** As DecodeNotificationOptions.libVsn (the fast types' layouts do not depend on it). */
  libVsn: number;
  /** As DecodeNotificationOptions.mask: decides `notification.ackKind` of AUDIT. */
  mask?: number;
  /** The connection's subscription mask: `ack` is what ackFor(raw, ackMask) gives; none without it. */
  ackMask?: number;
}

export interface FastDecoded {
  /** What decodeNotification(decodeTerm(frame), {libVsn, mask}) returns. */
  notification: NsoNotification;
  /** What ackFor(decodeTerm(frame), ackMask) returns. */
  ack: AckHandle | undefined;
  /**
   * The part of the term the client looks at before delivery (StreamResume.classify): `{Tag}`,
   * or for a stream event `{524288, Body}` with an event's values list left empty (its EventTime
   * kept exactly: it becomes the resume point) and a failed replay's error as a binary.
   */
  head: Term;
}

const cursor = new Cursor();

/** The notification in `frame` (a term, version byte first), or undefined: take the generic path. */
export function fastNotification(frame: Uint8Array, opts: FastDecodeOptions): FastDecoded | undefined {
  const n = frame.length;
  // Size limit, compressed terms (their expansion budget), small depth limits: the generic path's.
  if (n < 5 || n > (opts.maxSize ?? DEFAULT_MAX_SIZE) || frame[0] !== VERSION || frame[1] !== SMALL_TUPLE_EXT) return undefined;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (maxDepth < FIXED_DEPTH) return undefined;
  const buf = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const arity = buf[2];
  const c = cursor;
  c.reset(buf, 3, opts.maxBigBytes ?? DEFAULT_MAX_BIG_BYTES);
  try {
    const tag = c.int();
    let type: NotificationType;
    let payload: Record<string, unknown>;
    let body: Term | undefined;
    switch (tag) {
      case 1:
        if (arity !== 5) return undefined;
        type = "NOTIF_AUDIT";
        payload = audit(c);
        break;
      case 2:
      case 2048:
      case 4096:
      case 67108864:
      case 134217728:
        if (arity !== 4) return undefined;
        type = SYSLOG_TYPES.get(tag)!;
        payload = syslog(c);
        break;
      case 8:
        if (arity !== 5) return undefined;
        type = "NOTIF_COMMIT_SIMPLE";
        payload = commitSimple(c);
        break;
      case 16:
        if (arity !== 7 && arity !== 5) return undefined;
        type = "NOTIF_COMMIT_DIFF";
        payload = commitDiff(c, arity);
        break;
      case 32:
        if (arity !== 4) return undefined;
        type = "NOTIF_USER_SESSION";
        payload = userSession(c);
        break;
      case 65536:
      case 16777216:
        if (arity !== 2) return undefined;
        type = tag === 65536 ? "NOTIF_COMMIT_PROGRESS" : "NOTIF_PROGRESS";
        payload = progress(c);
        break;
      case 524288: {
        if (arity !== 2) return undefined;
        type = "NOTIF_STREAM_EVENT";
        const s = streamEvent(c, maxDepth);
        payload = s.payload;
        body = s.body;
        break;
      }
      case 4194304:
        if (arity !== 11 && arity !== 10) return undefined;
        type = "NOTIF_CQ_PROGRESS";
        payload = cqProgress(c, arity);
        break;
      case 512:
        if (arity !== 2) return undefined;
        type = "NOTIF_SNMPA";
        payload = snmpa(c);
        break;
      case 64:
        if (arity !== 2) return undefined;
        type = "NOTIF_HA_INFO";
        payload = haInfo(c);
        break;
      case 268435456:
        if (arity !== 2) return undefined;
        type = "NOTIF_AUDIT_NETWORK";
        payload = auditNetwork(c);
        break;
      case 1073741824:
        if (arity !== 9) return undefined;
        type = "NOTIF_COMPACTION";
        payload = compaction(c);
        break;
      case 32768:
        if (arity !== 2) return undefined;
        type = "NOTIF_UPGRADE_EVENT";
        payload = upgrade(c);
        break;
      case 8192:
      case 262144:
      case 2097152:
      case 8388608:
        if (arity !== 1) return undefined;
        type = BARE_TYPES.get(tag)!;
        payload = {};
        break;
      default:
        return undefined;
    }
    // Trailing bytes: the generic decoder refuses the frame.
    if (c.pos !== c.end) return undefined;
    const notification: NsoNotification = { type, payload };
    let ack: AckHandle | undefined;
    if (tag === 16) {
      notification.ackKind = "diff";
      if (opts.ackMask !== undefined) ack = { kind: "diff", id: (payload.tctx as { th: number }).th };
    } else if (tag === 1) {
      if (opts.mask === undefined || (opts.mask & AUDIT_SYNC) !== 0) notification.ackKind = "audit";
      if (opts.ackMask !== undefined && (opts.ackMask & AUDIT_SYNC) !== 0) ack = { kind: "audit", id: payload.usid as number };
    } else if (tag === 268435456) {
      if (opts.mask === undefined || (opts.mask & AUDIT_NETWORK_SYNC) !== 0) notification.ackKind = "audit_network";
      if (opts.ackMask !== undefined && (opts.ackMask & AUDIT_NETWORK_SYNC) !== 0) ack = { kind: "audit_network", id: payload.usid as number };
    } else if (tag === 64) {
      if (opts.mask === undefined || (opts.mask & HA_SYNC) !== 0) notification.ackKind = "ha";
      if (opts.ackMask !== undefined && (opts.ackMask & HA_SYNC) !== 0) ack = { kind: "ha", id: 0 };
    }
    return { notification, ack, head: body === undefined ? headOf(tag) : new Tuple([tag, body]) };
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  } finally {
    // Not kept until the next frame: the frame is a view of a socket chunk.
    c.release();
  }
}

/** `{Tag}` of each type, by bit number (tags are single bits), made once: the client only reads it. */
const HEADS: readonly types.Tuple[] = Array.from({ length: 32 }, (_, bit) => new Tuple([2 ** bit]));
function headOf(tag: number): types.Tuple {
  return HEADS[31 - Math.clz32(tag)];
}

const BARE_TYPES: ReadonlyMap<number, NotificationType> = new Map<number, NotificationType>([
  [8192, "NOTIF_HEARTBEAT"],
  [262144, "NOTIF_HEALTH_CHECK"],
  [2097152, "NOTIF_PACKAGE_RELOAD"],
  [8388608, "NOTIF_REOPEN_LOGS"],
]);

const SYSLOG_TYPES: ReadonlyMap<number, NotificationType> = new Map<number, NotificationType>([
  [2, "NOTIF_DAEMON"],
  [2048, "NOTIF_NETCONF"],
  [4096, "NOTIF_DEVEL"],
  [67108864, "NOTIF_JSONRPC"],
  [134217728, "NOTIF_WEBUI"],
]);
