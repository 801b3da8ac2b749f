import { strict as assert } from "node:assert";
import { Handover, Hold, leaveHandoff, takeHandoff } from "../../../src/nso/handover";
import { FakeClock } from "../../support/fake-clock";

describe("nso/handover: what a consumer misses while its node is replaced", () => {
  it("holds deliveries in order for the successor, up to the bound; the rest is counted with its window", () => {
    const clock = new FakeClock();
    const h = new Handover<number>({ clock, maxHeld: 3, expired: () => assert.fail("not expired") });
    const hold = h.open("ev");
    for (let i = 1; i <= 3; i++) assert.equal(hold.add(i, 100 + i), true);
    assert.equal(hold.add(4, 200), false);
    hold.add(5, 250);
    h.arm("ev");
    clock.advance(1000);
    const got = h.take("ev")!;
    assert.deepEqual(got.events, [1, 2, 3]);
    assert.deepEqual(got.missed, { count: 2, first: 200, last: 250 });
    assert.equal(h.size, 0);
    assert.equal(clock.pending, 0, "the expiry timer is gone");
  });

  it("lets a hold go when no successor comes within the hold time", () => {
    const clock = new FakeClock();
    const expired: Array<Hold<string>> = [];
    const h = new Handover<string>({ clock, holdMs: 5000, expired: (x) => expired.push(x) });
    h.open("ev").add("commit", 0);
    h.arm("ev");
    clock.advance(4999);
    assert.equal(expired.length, 0);
    clock.advance(1);
    assert.deepEqual(
      expired.map((x) => x.events),
      [["commit"]],
    );
    assert.equal(h.get("ev"), undefined);
  });

  it("the note a replaced owner leaves is for a successor on the same endpoint, once, and not for long", () => {
    leaveHandoff("srvA", { endpoint: "127.0.0.1:4569", at: 1000, since: new Map([["ev", 900]]) });
    assert.equal(takeHandoff("srvA", "10.0.0.1:4569", 1001), undefined, "connected elsewhere: inherits nothing");
    leaveHandoff("srvA", { endpoint: "127.0.0.1:4569", at: 1000, since: new Map([["ev", 900]]) });
    assert.deepEqual([...takeHandoff("srvA", "127.0.0.1:4569", 1001)!], [["ev", 900]]);
    assert.equal(takeHandoff("srvA", "127.0.0.1:4569", 1002), undefined, "taken once");
    leaveHandoff("srvB", { endpoint: "e", at: 0, since: new Map([["ev", 0]]) });
    assert.equal(takeHandoff("srvB", "e", 120000), undefined, "too old");
  });
});
