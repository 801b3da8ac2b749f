import assert from "node:assert/strict";
import { SubscriptionSet } from "../../../src/sysadm/subscriptions";

describe("sysadm/subscriptions", () => {
  it("subscribes the union of what every owner wants, sorted", () => {
    const s = new SubscriptionSet();
    s.set("a", ["system-state"]);
    s.set("b", ["dispatcher", "system-state"]);
    assert.deepEqual(s.union(), ["dispatcher", "system-state"]);
    s.delete("b");
    assert.deepEqual(s.union(), ["system-state"]);
  });

  it("adds and removes per owner without touching the others", () => {
    const s = new SubscriptionSet();
    s.set("a", ["dispatcher"]);
    s.set("b", ["dispatcher"]);
    s.add("a", ["life-preserver"]);
    s.remove("b", ["dispatcher"]);
    assert.equal(s.wants("a", "dispatcher"), true);
    assert.equal(s.wants("b", "dispatcher"), false);
    assert.deepEqual(s.of("a").sort(), ["dispatcher", "life-preserver"]);
    assert.deepEqual(s.union(), ["dispatcher", "life-preserver"]);
    s.remove("nobody", ["x"]);
    assert.deepEqual(s.of("nobody"), []);
  });
});
