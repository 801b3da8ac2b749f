/**
 * Any value as text, for messages and for config fields that may hold a non-string:
 * what String() gives, except that an object String() would render as "[object Object]"
 * (a plain object, or a class instance without its own toString) becomes its JSON.
 */
export function asText(v: unknown): string {
  if (typeof v === "string") return v;
  let s: string | undefined;
  try {
    s = String(v);
  } catch {
    // An object without a prototype has no toString: JSON below still shows it.
  }
  if (s !== undefined && (s !== "[object Object]" || typeof v !== "object" || v === null)) return s;
  try {
    return JSON.stringify(v) ?? s ?? "[object Object]";
  } catch {
    // Circular or holding a bigint: keep what String() gave.
    return s ?? "[object Object]";
  }
}
