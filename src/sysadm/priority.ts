import type { Priority } from "./types";

// §4.2: n is clamped to 0..10 by the server; the category is derived from the same table.
const CATEGORY_BY_LEVEL = [
  "Information",
  "Information",
  "Information",
  "Warning",
  "Warning",
  "Warning",
  "Critical",
  "Critical",
  "Critical",
  "Urgent",
  "Urgent",
];

export function categoryFor(level: number): string {
  return CATEGORY_BY_LEVEL[Math.min(10, Math.max(0, level))];
}

/**
 * Parse `"2 - Warning"` into `{level: 2, category: "Warning"}` the way the official client
 * does: the integer before " - ". The later docs' `"2/Warning"` form is accepted too (a
 * server built from those docs would be wrong, but the meaning is unambiguous). Anything
 * else gives null: a missing or odd priority is not a reason to lose the event.
 */
export function parsePriority(value: unknown): Priority | null {
  if (typeof value !== "string" || value.length > 200) return null;
  const m = /^\s*(\d{1,3})\s*(?:-|\/)\s*(.*?)\s*$/s.exec(value);
  if (!m) {
    const bare = /^\s*(\d{1,3})\s*$/.exec(value);
    if (!bare) return null;
    const level = Math.min(10, Number(bare[1]));
    return { level, category: categoryFor(level) };
  }
  const level = Math.min(10, Number(m[1]));
  return { level, category: m[2] || categoryFor(level) };
}
