/**
 * The NSO library's front door for the Node-RED glue (src/nodes): the notification socket's
 * client and hub, the MAAPI client, and the settings the config node reads. Deeper modules are
 * the library's own business.
 */
export { NsoClient } from "./client";
export type { NsoEvent } from "./client";
export { NsoHub } from "./hub";
export type { DiffReader, NsoDelivery, NsoGapInfo, NsoHubUser } from "./hub";
export { DEFAULT_HOST, DEFAULT_NSO_PORT } from "./constants";
export { resolveSecret } from "./handshake";
export type { AccessCheck } from "./handshake";
export { DEFAULT_MAX_FRAME_SIZE } from "./framing";
export { MaapiClient } from "./maapi/client";
export { ACK_KINDS, blockingTypes } from "./acks";
export { DEFAULT_EVENT_REPLY_TIMEOUT_MS, FLAG_BITS, isNotifBitName, VERBOSITY } from "./constants";
export type { NotifBitName } from "./constants";
export type { ConsumerWish } from "./mux";
export { notificationTag } from "./fast-decode";
export { nsoEventId } from "./event-id";
export type { CommitDiffResult } from "./maapi/read-diff";
export type { DiffWish } from "./maapi/diff-share";
export { diffWish, missingDiffRead, StreamValueNamer, withChanges } from "./maapi/enrich";
export type { TagValue } from "./notifications/values";
export { AckFanIn } from "./ack-fanin";
export type { ShareAnswer } from "./ack-fanin";
export { namesOf } from "./constants";
