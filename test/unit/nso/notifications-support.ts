import { strict as assert } from "node:assert";

/**
 * Fails unless `v` is plain JSON data all the way down: no Buffer, bigint, undefined, function,
 * class instance (Atom, Tuple, Date...), non-finite number — what survives Node-RED's msg
 * cloning and JSON.stringify unchanged.
 */
export function assertJsonSafe(v: unknown, where = "payload"): void {
  if (v === null || typeof v === "string" || typeof v === "boolean") return;
  if (typeof v === "number") {
    assert.ok(Number.isFinite(v), `${where}: non-finite number`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => assertJsonSafe(x, `${where}[${i}]`));
    return;
  }
  assert.equal(typeof v, "object", `${where}: ${typeof v} is not JSON`);
  const proto = Object.getPrototypeOf(v);
  assert.ok(proto === Object.prototype || proto === null, `${where}: ${(v as object).constructor?.name} instance is not plain data`);
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    assert.notEqual(x, undefined, `${where}.${k} is undefined`);
    assertJsonSafe(x, `${where}.${k}`);
  }
}
