import assert from "node:assert/strict";
import { OTHER_TYPE, TypeCounts } from "../../../src/core/type-counts";

describe("core/type-counts: events by type on a connection", () => {
  it("counts each type and the total", () => {
    const c = new TypeCounts();
    for (const t of ["a", "b", "a", "a", "c"]) c.add(t);
    assert.equal(c.total, 5);
    assert.deepEqual(c.snapshot(), { a: 3, b: 1, c: 1 });
  });

  it("caps the number of types: past the cap the rest count under (other), the total stays exact", () => {
    const c = new TypeCounts(2);
    for (const t of ["a", "b", "x", "y", "a", "x"]) c.add(t);
    assert.equal(c.total, 6);
    assert.deepEqual(c.snapshot(), { a: 2, b: 1, [OTHER_TYPE]: 3 });
  });

  it("hands out a copy: changing the snapshot changes no count", () => {
    const c = new TypeCounts();
    c.add("a");
    const s = c.snapshot();
    s.a = 100;
    assert.deepEqual(c.snapshot(), { a: 1 });
  });
});
