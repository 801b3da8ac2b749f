/**
 * Enumerations of the notification socket (docs/nso.md), value -> lowercase name.
 * Payloads carry the number under the original key and the name beside it (`database: 2,
 * databaseName: "running"`); a value missing here (a newer NSO) keeps its number, no name.
 */
export type EnumTable = Readonly<Record<number, string>>;

export const DATABASE: EnumTable = {
  0: "no_db",
  1: "candidate",
  2: "running",
  3: "startup",
  4: "operational",
  5: "transaction",
  6: "pre_commit_running",
  7: "intended",
};

export const USER_SESSION_TYPE: EnumTable = {
  1: "start",
  2: "stop",
  3: "lock",
  4: "unlock",
  5: "start_trans",
  6: "stop_trans",
};

export const HA_INFO_TYPE: EnumTable = {
  1: "noprimary",
  2: "secondary_died",
  3: "secondary_arrived",
  4: "secondary_initialized",
  5: "is_primary",
  6: "is_none",
  7: "besecondary_result",
};

export const SUBAGENT_INFO_TYPE: EnumTable = { 1: "up", 2: "down" };

export const FORWARD_INFO_TYPE: EnumTable = { 1: "up", 2: "down", 3: "failed" };

export const COMMIT_FAILED_PROVIDER: EnumTable = { 1: "cdb", 2: "netconf", 3: "external", 4: "snmpgw", 5: "javascript" };

export const SNMP_PDU_TYPE: EnumTable = {
  1: "v1trap",
  2: "v2trap",
  3: "inform",
  4: "get_response",
  5: "get_request",
  6: "get_next_request",
  7: "report",
  8: "get_bulk_request",
  9: "set_request",
};

/** RFC 3416 error-status; NSO sends the OTP atom (`noSuchName`) for non-zero ones (§7 quirk). */
export const SNMP_ERROR_STATUS: EnumTable = {
  0: "noError",
  1: "tooBig",
  2: "noSuchName",
  3: "badValue",
  4: "readOnly",
  5: "genErr",
  6: "noAccess",
  7: "wrongType",
  8: "wrongLength",
  9: "wrongEncoding",
  10: "wrongValue",
  11: "noCreation",
  12: "inconsistentValue",
  13: "resourceUnavailable",
  14: "commitFailed",
  15: "undoFailed",
  16: "authorizationError",
  17: "notWritable",
  18: "inconsistentName",
};

export const SNMP_VARBIND_TYPE: EnumTable = { 1: "variable", 2: "oid", 3: "col_variable" };

export const CONFIRMED_COMMIT_TYPE: EnumTable = { 1: "confirmed", 2: "confirming", 3: "abort" };

/** 6 and 7 are sent by the server but missing from the C enum (§11). */
export const UPGRADE_EVENT: EnumTable = {
  1: "init_started",
  2: "init_succeeded",
  3: "performed",
  4: "commited",
  5: "aborted",
  6: "ha_committed",
  7: "ha_aborted",
};

export const PROGRESS_TYPE: EnumTable = { 1: "start", 2: "stop", 3: "info" };

export const PROGRESS_ATTRIBUTE_TYPE: EnumTable = { 1: "string", 2: "number" };

export const STREAM_EVENT_TYPE: EnumTable = {
  1: "notification_event",
  2: "notification_complete",
  3: "replay_complete",
  4: "replay_failed",
};

export const CQ_PROGRESS_TYPE: EnumTable = {
  1: "waiting",
  2: "executing",
  3: "locked",
  4: "completed",
  5: "failed",
  6: "deleted",
};

/** DEVICE_DISCONNECTED exists in newer NSO but its value is unknown (§11): left unnamed. */
export const CALL_HOME_TYPE: EnumTable = { 1: "device_connected", 2: "unknown_device" };

export const COMPACTION_DBFILE: EnumTable = { 1: "A.cdb", 2: "O.cdb", 3: "S.cdb" };

export const COMPACTION_TYPE: EnumTable = { 1: "automatic", 2: "manual" };

export const PROTO: EnumTable = {
  0: "unknown",
  1: "tcp",
  2: "ssh",
  3: "system",
  4: "console",
  5: "ssl",
  6: "http",
  7: "https",
  8: "udp",
  9: "tls",
};

export const SYSLOG_PRIORITY: EnumTable = {
  0: "emerg",
  1: "alert",
  2: "crit",
  3: "err",
  4: "warning",
  5: "notice",
  6: "info",
  7: "debug",
};

/** Bit names of commit `flags` (§7 COMMIT_SIMPLE: 1 confirmed, 3 confirmed + extended). */
export const COMMIT_FLAGS: EnumTable = { 1: "confirmed", 2: "confirmed_extended" };

/** Bit names of uinfo `flags` (`CONFD_USESS_FLAG_*`). */
export const USESS_FLAGS: EnumTable = { 1: "forward", 2: "has_identification", 4: "has_opaque" };

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_UNSPEC = 0;
