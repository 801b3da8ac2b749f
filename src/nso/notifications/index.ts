/**
 * Notification payload decoders (docs/nso.md): a decoded notification term -> a plain
 * JSON-safe object with the key names of the newest `_ncs.events` Python API doc.
 */
import { hasBit } from "../constants";
import { Term, Tuple } from "../term/types";
import { decodeAudit, decodeAuditNetwork } from "./audit";
import { decodeCallHome } from "./call-home";
import { decodeCommitDiff, decodeCommitFailed, decodeCommitSimple, decodeConfirmedCommit } from "./commit";
import { decodeCqProgress } from "./cq-progress";
import { bad, kindOf } from "./fields";
import { decodeHaInfo } from "./ha";
import { decodeProgress } from "./progress";
import { decodeForwardInfo, decodeUserSession } from "./session";
import { decodeSnmpa } from "./snmpa";
import { decodeStreamEvent } from "./stream";
import { decodeSyslog } from "./syslog";
import { decodeBare, decodeCompaction, decodeSubagent, decodeUpgrade } from "./system";
import { AckKind, DecodeNotificationOptions, NotificationType, NsoNotification, TAG_TYPES } from "./types";
import { decodeUnknown } from "./unknown";

export * from "./types";
export type { TagValue } from "./values";

type Decoder = (f: Term[], where: string) => Record<string, unknown>;

interface Layout {
  /** Tuple arities (tag included) this type arrives in. */
  arities: readonly number[];
  decode: Decoder;
}

const LAYOUTS: Readonly<Record<Exclude<NotificationType, "NOTIF_UNKNOWN">, Layout>> = {
  NOTIF_AUDIT: { arities: [5], decode: decodeAudit },
  NOTIF_DAEMON: { arities: [4], decode: decodeSyslog },
  NOTIF_NETCONF: { arities: [4], decode: decodeSyslog },
  NOTIF_DEVEL: { arities: [4], decode: decodeSyslog },
  NOTIF_JSONRPC: { arities: [4], decode: decodeSyslog },
  NOTIF_WEBUI: { arities: [4], decode: decodeSyslog },
  NOTIF_COMMIT_SIMPLE: { arities: [5], decode: decodeCommitSimple },
  NOTIF_COMMIT_DIFF: { arities: [7, 5], decode: decodeCommitDiff },
  NOTIF_COMMIT_FAILED: { arities: [3, 4, 5], decode: decodeCommitFailed },
  NOTIF_CONFIRMED_COMMIT: { arities: [4], decode: decodeConfirmedCommit },
  NOTIF_USER_SESSION: { arities: [4], decode: decodeUserSession },
  NOTIF_FORWARD_INFO: { arities: [4], decode: decodeForwardInfo },
  NOTIF_HA_INFO: { arities: [2], decode: decodeHaInfo },
  NOTIF_SUBAGENT_INFO: { arities: [2], decode: decodeSubagent },
  NOTIF_SNMPA: { arities: [2], decode: decodeSnmpa },
  NOTIF_HEARTBEAT: { arities: [1], decode: decodeBare },
  NOTIF_HEALTH_CHECK: { arities: [1], decode: decodeBare },
  NOTIF_PACKAGE_RELOAD: { arities: [1], decode: decodeBare },
  NOTIF_REOPEN_LOGS: { arities: [1], decode: decodeBare },
  NOTIF_UPGRADE_EVENT: { arities: [2], decode: decodeUpgrade },
  NOTIF_COMMIT_PROGRESS: { arities: [2], decode: decodeProgress },
  NOTIF_PROGRESS: { arities: [2], decode: decodeProgress },
  NOTIF_STREAM_EVENT: { arities: [2], decode: decodeStreamEvent },
  NOTIF_CQ_PROGRESS: { arities: [11, 10], decode: decodeCqProgress },
  NOTIF_CALL_HOME_INFO: { arities: [6, 7], decode: decodeCallHome },
  NOTIF_AUDIT_NETWORK: { arities: [2], decode: decodeAuditNetwork },
  NOTIF_COMPACTION: { arities: [9], decode: decodeCompaction },
};

/** Which ack each blocking type takes, and the sync flag that makes it block (none: always). */
const ACKS: Partial<Record<NotificationType, { kind: AckKind; flag?: "NOTIF_AUDIT_SYNC" | "NOTIF_AUDIT_NETWORK_SYNC" | "NOTIF_HA_INFO_SYNC" }>> = {
  NOTIF_COMMIT_DIFF: { kind: "diff" },
  NOTIF_AUDIT: { kind: "audit", flag: "NOTIF_AUDIT_SYNC" },
  NOTIF_AUDIT_NETWORK: { kind: "audit_network", flag: "NOTIF_AUDIT_NETWORK_SYNC" },
  NOTIF_HA_INFO: { kind: "ha", flag: "NOTIF_HA_INFO_SYNC" },
};

/** Tag -> type, layout and ack in one lookup (one Map hit per frame instead of three lookups). */
const BY_TAG = new Map([...TAG_TYPES].map(([tag, type]) => [tag, { type, layout: LAYOUTS[type as keyof typeof LAYOUTS], ack: ACKS[type] }] as const));

/**
 * Decodes one notification term. A tag this version does not know gives NOTIF_UNKNOWN (with
 * the raw term); a known tag in an unexpected shape, or a term that is not a notification
 * at all, throws ProtocolError "nso-bad-notification" naming the slot — the client counts and
 * drops it and keeps the connection.
 */
export function decodeNotification(term: Term, opts: DecodeNotificationOptions): NsoNotification {
  if (!(term instanceof Tuple) || term.elements.length === 0) {
    return bad("notification", `expected a tuple {Type, ...}, got ${kindOf(term)}`);
  }
  const f = term.elements;
  const tag = f[0];
  if (typeof tag !== "number" && typeof tag !== "bigint") {
    return bad("notification", `expected an integer type tag, got ${kindOf(tag)}`);
  }
  const entry = typeof tag === "number" ? BY_TAG.get(tag) : undefined;
  if (entry === undefined) {
    return { type: "NOTIF_UNKNOWN", payload: decodeUnknown(typeof tag === "bigint" ? tag.toString() : tag, term) };
  }
  const { type, layout, ack } = entry;
  if (layout.arities[0] !== f.length && !layout.arities.includes(f.length)) {
    bad(type, `expected a tuple of ${layout.arities.join(" or ")} elements, got ${f.length}`);
  }
  const n: NsoNotification = { type, payload: layout.decode(f, type) };
  if (ack && (ack.flag === undefined || opts.mask === undefined || hasBit(opts.mask, ack.flag))) n.ackKind = ack.kind;
  return n;
}
