/**
 * MAAPI subset for "what changed in this commit" (docs/nso-maapi.md): a lazily
 * dialled, reused MAAPI socket per NSO, the bounded diff reader that always lets the caller
 * ack, and the schema hash table for naming stream-event tags.
 */
export * from "./constants";
export { encodeRequest, encodeDiffIter, encodeIterReply, parseReply, MaapiError } from "./wire";
export type { MaapiReply } from "./wire";
export { MaapiConnection, MaapiClosed, maapiHeader } from "./connection";
export type { MaapiConnectOptions, IterVisitor } from "./connection";
export { MaapiClient } from "./client";
export type { MaapiClientOptions } from "./client";
export { readCommitDiff, readCommitDiffAndAck, DEFAULT_BUDGET_MS, DEFAULT_MAX_CHANGES } from "./read-diff";
export type { CommitDiffRequest, CommitDiffResult, AckedCommitDiffResult, TruncationReason } from "./read-diff";
export { decodeDiffItem, diffValue } from "./change";
export type { Change, DecodedItem } from "./change";
export { renderKeypath, parseSubtree, topFirst, schemaKey, keyText, prefixOf, WELL_KNOWN_PREFIXES, WELL_KNOWN_TOP_NODES } from "./keypath";
export { HashDb, HashDbReader } from "./hash-db";
export { YangSchema, YangSchemaReader, schemaPathKey } from "./yang-schema";
export type { SchemaStep } from "./yang-schema";
export { nameTagValues, needsSchema, renderNotificationXml } from "./stream-names";
export type { NamedTagValue } from "./stream-names";
