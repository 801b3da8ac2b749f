/**
 * The flow window an input node's editor sets (issue 11): how many of the node's messages the
 * flow may hold unfinished. Blank or nonsense falls back to the default, never to "unbounded".
 */
export const DEFAULT_WINDOW = 100;
const MAX_WINDOW = 100_000;

export function windowSetting(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_WINDOW) : DEFAULT_WINDOW;
}
