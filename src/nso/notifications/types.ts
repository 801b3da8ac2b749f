/**
 * Notification types as delivered to flows: the `_ncs.events` NOTIF_* constant names (§5) of
 * every bit that can be a message type, plus NOTIF_UNKNOWN for a tag we do not know. The four
 * NSO-only types are spelled without Python's `NCS_` prefix (Python: `NCS_NOTIF_CQ_PROGRESS`,
 * Java/ConfD-neutral: `NOTIF_CQ_PROGRESS`) so they match the mask names in ../constants.ts.
 */
export const NOTIFICATION_TYPES = [
  "NOTIF_AUDIT",
  "NOTIF_DAEMON",
  "NOTIF_COMMIT_SIMPLE",
  "NOTIF_COMMIT_DIFF",
  "NOTIF_USER_SESSION",
  "NOTIF_HA_INFO",
  "NOTIF_SUBAGENT_INFO",
  "NOTIF_COMMIT_FAILED",
  "NOTIF_SNMPA",
  "NOTIF_FORWARD_INFO",
  "NOTIF_NETCONF",
  "NOTIF_DEVEL",
  "NOTIF_HEARTBEAT",
  "NOTIF_CONFIRMED_COMMIT",
  "NOTIF_UPGRADE_EVENT",
  "NOTIF_COMMIT_PROGRESS",
  "NOTIF_HEALTH_CHECK",
  "NOTIF_STREAM_EVENT",
  "NOTIF_PACKAGE_RELOAD",
  "NOTIF_CQ_PROGRESS",
  "NOTIF_REOPEN_LOGS",
  "NOTIF_PROGRESS",
  "NOTIF_CALL_HOME_INFO",
  "NOTIF_JSONRPC",
  "NOTIF_WEBUI",
  "NOTIF_AUDIT_NETWORK",
  "NOTIF_COMPACTION",
  "NOTIF_UNKNOWN",
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** Message tag (the single type bit, first element of every notification tuple) -> type. */
export const TAG_TYPES: ReadonlyMap<number, NotificationType> = new Map<number, NotificationType>([
  [1, "NOTIF_AUDIT"],
  [2, "NOTIF_DAEMON"],
  [8, "NOTIF_COMMIT_SIMPLE"],
  [16, "NOTIF_COMMIT_DIFF"],
  [32, "NOTIF_USER_SESSION"],
  [64, "NOTIF_HA_INFO"],
  [128, "NOTIF_SUBAGENT_INFO"],
  [256, "NOTIF_COMMIT_FAILED"],
  [512, "NOTIF_SNMPA"],
  [1024, "NOTIF_FORWARD_INFO"],
  [2048, "NOTIF_NETCONF"],
  [4096, "NOTIF_DEVEL"],
  [8192, "NOTIF_HEARTBEAT"],
  [16384, "NOTIF_CONFIRMED_COMMIT"],
  [32768, "NOTIF_UPGRADE_EVENT"],
  [65536, "NOTIF_COMMIT_PROGRESS"],
  [262144, "NOTIF_HEALTH_CHECK"],
  [524288, "NOTIF_STREAM_EVENT"],
  [2097152, "NOTIF_PACKAGE_RELOAD"],
  [4194304, "NOTIF_CQ_PROGRESS"],
  [8388608, "NOTIF_REOPEN_LOGS"],
  [16777216, "NOTIF_PROGRESS"],
  [33554432, "NOTIF_CALL_HOME_INFO"],
  [67108864, "NOTIF_JSONRPC"],
  [134217728, "NOTIF_WEBUI"],
  [268435456, "NOTIF_AUDIT_NETWORK"],
  [1073741824, "NOTIF_COMPACTION"],
]);

/** The answer NSO waits for (§8): `{Th, done}`, `{Usid, synced}`, `{Usid, audit_network_sync}`, `ha_synced`. */
export type AckKind = "diff" | "audit" | "audit_network" | "ha";

export interface NsoNotification {
  type: NotificationType;
  /** Plain JSON-safe data: no Buffers, no bigints, no class instances. */
  payload: Record<string, unknown>;
  /**
   * Set when this notification blocks NSO until acked. COMMIT_DIFF always; AUDIT,
   * AUDIT_NETWORK and HA_INFO only with their *_SYNC flag — when `mask` is given to
   * decodeNotification it decides, without a mask these three always carry it (an ack NSO
   * is not waiting for is silently ignored by the server, §8).
   */
  ackKind?: AckKind;
}

export interface DecodeNotificationOptions {
  /** The LIB_VSN announced in the handshake: the server picks progress/CQ formats by it (§10.1). */
  libVsn: number;
  /** The subscription mask; decides ackKind for the *_SYNC flags (see NsoNotification.ackKind). */
  mask?: number;
}
