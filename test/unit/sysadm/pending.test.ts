import assert from "node:assert/strict";
import { InfraError } from "../../../src/core/errors";
import { PendingRequests } from "../../../src/sysadm/pending";
import { FakeClock } from "../../support/fake-clock";

describe("sysadm/pending", () => {
  it("matches replies by id in any order", async () => {
    const p = new PendingRequests(1000, new FakeClock());
    const a = p.nextId("subscribe");
    const b = p.nextId("subscribe");
    assert.notEqual(a, b);
    const pa = p.add(a, "events/subscribe");
    const pb = p.add(b, "events/subscribe");
    assert.equal(p.resolve(b, "B"), true);
    assert.equal(p.resolve(a, "A"), true);
    assert.deepEqual(await Promise.all([pa, pb]), ["A", "B"]);
    assert.equal(p.size, 0);
  });

  it("says when a reply matches nothing (late or foreign)", () => {
    const p = new PendingRequests(1000, new FakeClock());
    assert.equal(p.resolve("nope", 1), false);
  });

  it("times a request out and forgets it, so a late reply is unmatched", async () => {
    const clock = new FakeClock();
    const p = new PendingRequests(500, clock);
    const id = p.nextId("auth_clear");
    const pr = p.add(id, "rpc/auth_clear");
    clock.advance(499);
    assert.equal(p.size, 1);
    clock.advance(1);
    await assert.rejects(pr, (e: InfraError) => e.code === "request-timeout" && /rpc\/auth_clear/.test(e.message));
    assert.equal(p.resolve(id, "late"), false);
  });

  it("rejects everything waiting when the connection goes, and clears the timers", async () => {
    const clock = new FakeClock();
    const p = new PendingRequests(500, clock);
    const all = [p.add(p.nextId("a"), "a"), p.add(p.nextId("b"), "b")];
    p.rejectAll(new Error("gone"));
    for (const pr of all) await assert.rejects(pr, /gone/);
    assert.equal(clock.pending, 0);
  });

  it("gives ids unique across instances (two clients on one server)", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add(new PendingRequests(1).nextId("auth"));
    assert.ok(ids.size >= 49);
  });
});
