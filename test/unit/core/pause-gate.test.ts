import assert from "node:assert/strict";
import { PauseGate } from "../../../src/core/pause-gate";

describe("core/pause-gate", () => {
  it("pauses on the first holder and resumes when the last one lets go", () => {
    const calls: boolean[] = [];
    let t = 100;
    const g = new PauseGate(
      (p) => calls.push(p),
      () => t,
    );
    g.hold("a");
    g.hold("b");
    g.hold("a");
    assert.equal(g.paused, true);
    assert.equal(g.since, 100);
    t = 250;
    g.release("a");
    assert.equal(g.paused, true, "b still holds it");
    g.release("x");
    g.release("b");
    assert.equal(g.paused, false);
    assert.equal(g.since, 250);
    assert.deepEqual(calls, [true, false]);
  });
});
