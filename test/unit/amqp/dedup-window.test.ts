import assert from "node:assert/strict";
import { DedupWindow } from "../../../src/amqp/dedup-window";
import { FakeClock } from "../../support/fake-clock";

describe("amqp/dedup-window", () => {
  it("an id counts as seen only once a copy was finished; later copies are duplicates", () => {
    const w = new DedupWindow<string>({ size: 10, maxAgeMs: 60000 });
    assert.equal(w.admit("a"), "new");
    assert.equal(w.admit("a"), "wait", "a second copy while the first is in the flow waits");
    w.park("a", "copy2");
    assert.deepEqual(w.finished("a"), ["copy2"]);
    assert.equal(w.admit("a"), "duplicate");
    assert.equal(w.removed, 2);
  });

  it("a copy given back is not seen: the waiting copy goes to the flow instead", () => {
    const w = new DedupWindow<string>({ size: 10, maxAgeMs: 60000 });
    w.admit("a");
    w.admit("a");
    w.park("a", "copy2");
    assert.equal(w.gaveBack("a"), "copy2");
    assert.equal(w.admit("a"), "wait", "copy2 is in the flow now");
    assert.deepEqual(w.finished("a"), []);
    assert.equal(w.gaveBack("b"), undefined);
    w.admit("c");
    assert.equal(w.gaveBack("c"), undefined);
    assert.equal(w.admit("c"), "new", "a redelivery of a released copy is processed");
    assert.equal(w.removed, 0);
  });

  it("forgets the oldest beyond its size, and ids older than its age", () => {
    const clock = new FakeClock();
    const w = new DedupWindow<string>({ size: 2, maxAgeMs: 1000, clock });
    for (const id of ["a", "b", "c"]) {
      w.admit(id);
      w.finished(id);
    }
    assert.equal(w.remembered, 2);
    assert.equal(w.admit("a"), "new", "a was pushed out by c");
    w.finished("a");
    clock.advance(1001);
    assert.equal(w.admit("c"), "new", "c is older than the age");
  });

  it("a lost link forgets what was in the flow (redeliveries are processed), not what was finished", () => {
    const w = new DedupWindow<string>({ size: 10, maxAgeMs: 60000 });
    w.admit("done");
    w.finished("done");
    w.admit("busy");
    w.admit("busy");
    w.park("busy", "p");
    assert.deepEqual(w.forgetInFlight(), ["p"]);
    assert.equal(w.admit("busy"), "new");
    assert.equal(w.admit("done"), "duplicate");
  });
});
