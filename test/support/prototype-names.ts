import { strict as assert } from "node:assert";
import { runInNewContext } from "node:vm";

/**
 * Every name Object.prototype has (constructor, toString, __proto__, hasOwnProperty, …): as an
 * element, attribute or key name in hostile input, each must come out as plain data. Taken from a
 * fresh realm: in the full suite node-red-node-test-helper's should.js has added a `should`
 * accessor to this realm's Object.prototype, which is a test library's doing, not input's.
 */
export const PROTOTYPE_NAMES: readonly string[] = runInNewContext("Object.getOwnPropertyNames(Object.prototype)") as string[];

/** `obj` is still a plain object and holds `name` as its own data property with `value`. */
export function assertOwnData(obj: unknown, name: string, value: unknown, where = ""): void {
  assert.ok(typeof obj === "object" && obj !== null, `${where}: not an object`);
  assert.equal(Object.getPrototypeOf(obj), Object.prototype, `${where}: prototype changed by "${name}"`);
  const d = Object.getOwnPropertyDescriptor(obj, name);
  assert.ok(d && "value" in d, `${where}: "${name}" is not an own data property`);
  assert.deepEqual(d.value, value, `${where}: "${name}"`);
}

/** Nothing reached Object.prototype. */
export function assertNotPolluted(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
  for (const n of PROTOTYPE_NAMES)
    assert.notEqual(typeof (Object.prototype as unknown as Record<string, unknown>)[n], "string", `Object.prototype.${n} replaced`);
}
