/**
 * The flow window an input node's editor sets (issue 11): how many of the node's messages the
 * flow may hold unfinished. 0 is "off": no window, messages go straight to node.send as before
 * flow control existed (the flow must keep up). Blank or nonsense falls back to the default,
 * never to "unbounded": only an explicit 0 turns the bound off.
 */
export const DEFAULT_WINDOW = 100;
/** The window value that means "no flow control". */
export const WINDOW_OFF = 0;
const MAX_WINDOW = 100_000;

export function windowSetting(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (n === WINDOW_OFF) return WINDOW_OFF;
  return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_WINDOW) : DEFAULT_WINDOW;
}
