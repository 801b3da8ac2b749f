import assert from "node:assert/strict";
import { connectedStatus, NodeStatus, shortCount, statusForState, StatusThrottle } from "../../../src/nodes/lib/status";
import { FakeClock } from "../../support/fake-clock";

describe("core/status", () => {
  it("maps lifecycle states to the usual colours and shapes", () => {
    assert.deepEqual(statusForState({ state: "connecting" }), { fill: "yellow", shape: "ring", text: "node-red:common.status.connecting" });
    assert.equal(statusForState({ state: "connected" }).fill, "green");
    assert.equal(statusForState({ state: "connected" }).shape, "dot");
    const w = statusForState({ state: "waiting-to-retry", reason: new Error("ECONNREFUSED"), delayMs: 4000 });
    assert.equal(w.fill, "red");
    assert.equal(w.shape, "ring");
    assert.match(w.text!, /ECONNREFUSED.*retry in 4 s/);
  });

  it("uses a bare message key only where the editor can translate the whole text", () => {
    assert.equal(connectedStatus().text, "node-red:common.status.connected");
    assert.equal(connectedStatus("12").text, "connected: 12");
    assert.ok(!/node-red:/.test(statusForState({ state: "waiting-to-retry", reason: new Error("x"), delayMs: 1000 }).text!));
  });

  it("shortens counts for the status line", () => {
    assert.deepEqual([0, 999, 1234, 45678, 1234567, 98765432].map(shortCount), ["0", "999", "1.2k", "45k", "1.2M", "98M"]);
  });

  it("sends at most one update per second and always delivers the latest", () => {
    const clock = new FakeClock();
    const sent: NodeStatus[] = [];
    const t = new StatusThrottle((s) => sent.push(s), 1000, clock);
    for (let i = 1; i <= 500; i++) {
      t.set(connectedStatus(String(i)));
      clock.advance(4);
    }
    clock.advance(1000);
    assert.ok(sent.length <= 3, `sent ${sent.length} updates in 2 s`);
    assert.equal(sent[0].text, "connected: 1");
    assert.equal(sent.at(-1)!.text, "connected: 500");
  });

  it("does not resend an unchanged status and stops its timer on dispose", () => {
    const clock = new FakeClock();
    const sent: NodeStatus[] = [];
    const t = new StatusThrottle((s) => sent.push(s), 1000, clock);
    t.set(connectedStatus());
    clock.advance(2000);
    t.set(connectedStatus());
    assert.equal(sent.length, 1);
    t.set(connectedStatus("x"));
    t.set(connectedStatus("y"));
    assert.equal(clock.pending, 1);
    t.dispose();
    assert.equal(clock.pending, 0);
  });
});
