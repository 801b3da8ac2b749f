/**
 * Erlang External Term Format codec for the NSO notification socket .
 * `decodeTerm` is the hot path; `encodeTerm` writes what the client and the simulator send.
 */
export * from "./types";
export { decodeTerm, DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE, DEFAULT_MAX_BIG_BYTES, DEFAULT_MAX_EXPANSION } from "./decode";
export type { DecodeOptions } from "./decode";
export { encodeTerm } from "./encode";
export type { EncodeOptions } from "./encode";
export { formatTerm } from "./format";
export { termToJson } from "./json";
export type { JsonValue } from "./json";
