import { asText } from "../../core/describe";

/** A numeric field of a node's editor dialog. */
export interface NumberSpec {
  /** How the message names the field ("ping interval"). */
  name: string;
  /** What a blank field means. */
  default: number;
  min: number;
  max?: number;
  /** Only whole numbers. */
  integer?: boolean;
  /** Said after the range ("s", "KiB"). */
  unit?: string;
  /** "0x…" is read as hexadecimal (NSO's LIB_VSN). */
  hex?: boolean;
}

/**
 * One reading of every numeric setting of every node: blank is the default, anything else must
 * be a number in range or the node refuses it at deploy with one wording, `<name> must be a whole
 * number from <min> to <max> <unit>, got <value>`, never a silent fallback to something the user
 * did not write.
 */
export function numberSetting(v: unknown, spec: NumberSpec): number {
  if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) return spec.default;
  const n = typeof v === "number" ? v : spec.hex && /^\s*0x/i.test(asText(v)) ? parseInt(asText(v), 16) : Number(v);
  const ok = Number.isFinite(n) && (!spec.integer || Number.isInteger(n)) && n >= spec.min && (spec.max === undefined || n <= spec.max);
  if (ok) return n;
  const kind = spec.integer ? "a whole number" : "a number";
  const range = spec.max === undefined ? `of at least ${spec.min}` : `from ${spec.min} to ${spec.max}`;
  throw new RangeError(`${spec.name} must be ${kind} ${range}${spec.unit ? ` ${spec.unit}` : ""}, got ${asText(v)}`);
}
