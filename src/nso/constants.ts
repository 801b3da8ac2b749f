/**
 * Numbers of the NSO/ConfD event-notification socket (handshake, mask bits, acks; docs/nso.md).
 * Names follow the Python `_ncs.events` constants so a user who knows that API recognises them.
 */

/** Client id byte of the event manager service (`CLIENT_EVENT_MGR`). */
export const CLIENT_ID_EVENT_MGR = 11;
/** Header flag bits on the id byte asking for the IPC access check (§2). */
export const ACCESS_FLAG_MD5 = 0x80;
export const ACCESS_FLAG_SHA256 = 0xc0;
/** First byte of the server's challenge and of the client's answer (§2). */
export const ACCESS_CHALLENGE_TAG = 11;
export const ACCESS_RESPONSE_TAG = 12;
export const ACCESS_OK = 0;
export const ACCESS_WRONG_SECRET = 3;

/** NSO 6.2.5 (ConfD core 8.2.5): what we announce unless told otherwise. */
export const DEFAULT_LIB_PROTO_VSN = 82;
export const DEFAULT_LIB_VSN = 0x08020500;
/** The server's compatibility list for its own proto version (§1.2, observed in §15). */
export const NSO_62_COMPAT_PROTO_VSNS: readonly number[] = [82, 81];

export const DEFAULT_NSO_PORT = 4569;
export const DEFAULT_CONFD_PORT = 4565;
export const DEFAULT_HOST = "127.0.0.1";

/** Version reply codes (§1.2). */
export const VSN_OK = 0;
export const VSN_PROTO_INCOMPATIBLE = 1;
export const VSN_MODEL_TOO_SMALL = 2;

/** Server default for `/ncs-config/japi/event-reply-timeout` (§8). */
export const DEFAULT_EVENT_REPLY_TIMEOUT_MS = 120_000;
/** The server closes a handshaken socket that has not subscribed within this (§4.1). */
export const SUBSCRIPTION_DEADLINE_MS = 5000;
/** Server clamps heartbeat/health-check intervals to at least this (§4.1). */
export const MIN_INTERVAL_MS = 1000;
/** confd_vtype C_DATETIME, the tag of `{19, {Y,Mo,D,H,Mi,S,Micro,TZ,TZMin}}`. */
export const C_DATETIME = 19;

/** Every mask bit, Python name -> value (§5). Flags are bits that never appear as a message type. */
export const NOTIF_BITS = {
  NOTIF_AUDIT: 1,
  NOTIF_DAEMON: 2,
  NOTIF_TAKEOVER_SYSLOG: 4,
  NOTIF_COMMIT_SIMPLE: 8,
  NOTIF_COMMIT_DIFF: 16,
  NOTIF_USER_SESSION: 32,
  NOTIF_HA_INFO: 64,
  NOTIF_SUBAGENT_INFO: 128,
  NOTIF_COMMIT_FAILED: 256,
  NOTIF_SNMPA: 512,
  NOTIF_FORWARD_INFO: 1024,
  NOTIF_NETCONF: 2048,
  NOTIF_DEVEL: 4096,
  NOTIF_HEARTBEAT: 8192,
  NOTIF_CONFIRMED_COMMIT: 16384,
  NOTIF_UPGRADE_EVENT: 32768,
  NOTIF_COMMIT_PROGRESS: 65536,
  NOTIF_AUDIT_SYNC: 131072,
  NOTIF_HEALTH_CHECK: 262144,
  NOTIF_STREAM_EVENT: 524288,
  NOTIF_HA_INFO_SYNC: 1048576,
  NOTIF_PACKAGE_RELOAD: 2097152,
  NOTIF_CQ_PROGRESS: 4194304,
  NOTIF_REOPEN_LOGS: 8388608,
  NOTIF_PROGRESS: 16777216,
  NOTIF_CALL_HOME_INFO: 33554432,
  NOTIF_JSONRPC: 67108864,
  NOTIF_WEBUI: 134217728,
  NOTIF_AUDIT_NETWORK: 268435456,
  NOTIF_AUDIT_NETWORK_SYNC: 536870912,
  NOTIF_COMPACTION: 1073741824,
} as const;

export type NotifBitName = keyof typeof NOTIF_BITS;

/** Bits that modify others and are never a message type. */
export const FLAG_BITS: readonly NotifBitName[] = ["NOTIF_TAKEOVER_SYSLOG", "NOTIF_AUDIT_SYNC", "NOTIF_HA_INFO_SYNC", "NOTIF_AUDIT_NETWORK_SYNC"];

/** A sync flag only takes effect together with its base bit (§5, BEAM `mk_eventer`). */
export const SYNC_FLAG_BASE: Readonly<Record<string, NotifBitName>> = {
  NOTIF_AUDIT_SYNC: "NOTIF_AUDIT",
  NOTIF_HA_INFO_SYNC: "NOTIF_HA_INFO",
  NOTIF_AUDIT_NETWORK_SYNC: "NOTIF_AUDIT_NETWORK",
};

/** Message types a user can subscribe to (every bit that is not a flag). */
export const MESSAGE_TYPE_NAMES: readonly NotifBitName[] = (Object.keys(NOTIF_BITS) as NotifBitName[]).filter((n) => !FLAG_BITS.includes(n));

export function isNotifBitName(s: string): s is NotifBitName {
  return Object.prototype.hasOwnProperty.call(NOTIF_BITS, s);
}

/**
 * The mask for a list of constant names. Unknown names throw (a typo must not silently
 * subscribe to less than the user asked for). Numbers up to 2^31 stay plain; the sum never
 * exceeds 2^31 with the bits known today, so a JS number is exact.
 */
export function maskOf(names: readonly string[]): number {
  let m = 0;
  for (const n of names) {
    if (!isNotifBitName(n)) throw new RangeError(`unknown NSO notification type ${JSON.stringify(n)}`);
    m |= NOTIF_BITS[n];
  }
  return m >>> 0;
}

/** The constant names of every bit in `mask`, lowest bit first. */
export function namesOf(mask: number): NotifBitName[] {
  const out: NotifBitName[] = [];
  for (const [k, v] of Object.entries(NOTIF_BITS) as Array<[NotifBitName, number]>) if ((mask & v) !== 0) out.push(k);
  return out;
}

export function hasBit(mask: number, name: NotifBitName): boolean {
  return (mask & NOTIF_BITS[name]) !== 0;
}

/** Progress verbosity (`enum confd_progress_verbosity`). */
export const VERBOSITY = { normal: 0, verbose: 1, very_verbose: 2, debug: 3 } as const;
export type VerbosityName = keyof typeof VERBOSITY;

/** Subscription error codes the server is known to send (§4.2). */
export const SUB_ERROR_NAMES: Readonly<Record<number, string>> = {
  1: "CONFD_ERR_NOEXISTS",
  18: "CONFD_ERR_INTERNAL",
  22: "CONFD_ERR_NOSESSION",
  50: "CONFD_ERR_XPATH",
};
