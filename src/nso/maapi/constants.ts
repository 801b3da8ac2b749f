/**
 * Numbers of the MAAPI subset we speak (docs/nso-maapi.md). Op codes
 * are from econfd_maapi_proto.hrl as verified on the wire against NSO 6.2.5; they are internal
 * to NSO and protected only by the protocol version check of the handshake.
 */

/** Client id byte of the MAAPI service (the event socket uses 11). */
export const CLIENT_ID_MAAPI = 7;

export const OP = {
  ATTACH: 220,
  DETACH: 221,
  DIFF_ITER: 183,
  DIFF_IKP_ITER: 184,
  SET_FLAGS: 185,
  XPATH_EVAL_EXPR: 247,
  LOAD_HASH_DB: 231,
  LOAD_ALL_NS: 232,
  HKP2IKP: 230,
} as const;

/** Bit 31 of an op echo marks an error reply (§2.2). */
export const ERROR_BIT = 0x80000000;

/** Iterator replies: bare 4-byte frames, no op, no thandle (§4.2). Nothing else is valid. */
export const ITER_STOP = 1;
export const ITER_RECURSE = 2;
export const ITER_CONTINUE = 3;

/** DIFF_ITER mode: 1 = YANG names (atoms), 0 = hashes. We always ask for names. */
export const MODE_NAMES = 1;
export const MODE_HASHES = 0;

/** DIFF_ITER flags (confd_lib.h). */
export const ITER_WANT_ATTR = 4;
export const ITER_WANT_P_CONTAINER = 256;

/** MOP_* operation codes of a diff item, and the names our messages use for them. */
export const DIFF_OPS: Readonly<Record<number, ChangeOp>> = {
  1: "created",
  2: "deleted",
  3: "modified",
  4: "value_set",
  5: "moved_after",
  6: "attr_set",
};
export type ChangeOp = "created" | "deleted" | "modified" | "value_set" | "moved_after" | "attr_set";

/** CONFD_ERR_* codes seen in MAAPI error replies (§4.1, §4.7, §3). */
export const ERR = {
  NOEXISTS: 1,
  BADPATH: 8,
  INTERNAL: 18,
  UNKNOWN_OP: 51,
  NOTRANS: 61,
} as const;

export const ERR_NAMES: Readonly<Record<number, string>> = {
  1: "CONFD_ERR_NOEXISTS",
  8: "CONFD_ERR_BADPATH",
  18: "CONFD_ERR_INTERNAL",
  51: "CONFD_ERR_UNKNOWN_OP",
  61: "CONFD_ERR_NOTRANS",
};

/** Value types whose integer/hash only a schema can name (§4.5): enum, bits, identityref. */
export const LABELLED_VTYPES: ReadonlySet<number> = new Set([28, 29, 30, 44, 50]);

/** Well-known attribute ids of MOP_ATTR_SET (§4.4), as they arrive (SMALL_BIG_EXT). */
export const ATTR_NAMES: Readonly<Record<string, string>> = {
  "2147483648": "tags",
  "2147483649": "annotation",
  "2147483650": "inactive",
};
