import { createHash } from "node:crypto";

/**
 * Stable event ids (issue 16, docs/scale-out.md): the same event gives the same id in every
 * process that sees it, so two ingest Node-REDs subscribed to one source, and a redelivery,
 * can be recognised downstream. Made only of what the event says (no clock, no counter, no
 * random): sha-256 over a canonical JSON rendering, the first 32 hex digits (128 bits).
 */
export const EVENT_ID_HEX_DIGITS = 32;

/** JSON with object keys sorted at every level, so key order never changes an id. */
export function canonicalJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(String(v));
  if (typeof v === "bigint") return JSON.stringify(v.toString());
  if (Buffer.isBuffer(v)) return JSON.stringify({ $bytes: v.toString("base64") });
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return "null"; // functions, symbols: not event data
}

/** sha-256 of the canonical rendering of `parts`, truncated to 32 hex digits. */
export function stableId(parts: readonly unknown[]): string {
  return createHash("sha256").update(canonicalJson(parts)).digest("hex").slice(0, EVENT_ID_HEX_DIGITS);
}

/** A full sha-256 (hex) of bytes or text, for ids made of a body. */
export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
