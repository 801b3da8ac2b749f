/**
 * MAAPI side of the NSO simulator: blocked-commit store (fed by the notification server),
 * diff scenarios, hash table, and the MAAPI listener/handler.
 */
export { MaapiSimServer } from "./server";
export type { MaapiSimOptions, MaapiSimEvents } from "./server";
export { BlockedCommitStore, trackCommit } from "./commit-store";
export type { BlockedCommit, ReleaseReason } from "./commit-store";
export { compileDiff, bulkDiffSpec, DEMO_DIFF, valueTerm } from "./diff-spec";
export type { DiffSpecItem, SimDiffItem } from "./diff-spec";
export { SimHashTable, REAL_HASHES, simHash } from "./schema";
