import { asText } from "../../core/describe";

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

/** The window to use; nonsense (not blank) is said through `warn`, with what is used instead. */
export function windowSetting(v: unknown, warn?: (text: string) => void): number {
  const blank = v === undefined || v === null || (typeof v === "string" && v.trim() === "");
  const n = typeof v === "number" ? v : typeof v === "string" && !blank ? Number(v) : NaN;
  if (n === WINDOW_OFF) return WINDOW_OFF;
  if (Number.isInteger(n) && n >= 1) return Math.min(n, MAX_WINDOW);
  if (!blank) warn?.(`the window must be a whole number (0: no flow control), got ${asText(v)}; using ${DEFAULT_WINDOW}`);
  return DEFAULT_WINDOW;
}
