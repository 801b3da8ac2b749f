import assert from "node:assert/strict";
import { LastHeard, unreadBytes } from "../../../src/core/socket-reading";

describe("core/socket-reading", () => {
  it("LastHeard: frames prove 'now' while reading runs; after a pause only a pong does, up to its ping's send time", () => {
    let t = 100;
    const h = new LastHeard(() => t);
    t = 200;
    h.heard();
    assert.equal(h.at, 200);
    h.paused();
    t = 300;
    h.heard(); // the rest of a chunk read after the pause: may be old
    assert.equal(h.at, 200);
    assert.equal(h.isBehind, true);
    t = 400;
    h.resumed();
    const barrier = h.ping();
    t = 500;
    h.heard(); // backlog
    assert.equal(h.at, 200);
    assert.equal(h.pong(Buffer.from("not ours")), false);
    t = 600;
    assert.equal(h.pong(barrier), true);
    assert.equal(h.at, 400, "everything sent before the ping reached the peer has been read");
    assert.equal(h.isBehind, false);
    t = 700;
    h.heard();
    assert.equal(h.at, 700);
  });

  it("LastHeard: a ping sent while paused marks progress but not the end of the backlog", () => {
    let t = 0;
    const h = new LastHeard(() => t);
    h.paused();
    t = 100;
    const p = h.ping();
    t = 200;
    h.resumed();
    h.pong(p);
    assert.equal(h.at, 100);
    assert.equal(h.isBehind, true);
  });

  it("LastHeard: one barrier ping at a time; a pong to an older ping asks for the next", () => {
    let t = 0;
    const h = new LastHeard(() => t);
    assert.equal(h.wantsBarrier, false, "reading, never paused: nothing to prove");
    h.paused();
    assert.equal(h.wantsBarrier, false, "paused: a ping's pong would wait unread");
    const before = h.ping();
    t = 10;
    h.resumed();
    assert.equal(h.pending, 1);
    assert.equal(h.wantsBarrier, false, "a ping is on its way: no second one");
    h.pong(before);
    assert.equal(h.pending, 0);
    assert.equal(h.isBehind, true, "that ping was sent while paused");
    assert.equal(h.wantsBarrier, true, "now one sent while reading");
    const barrier = h.ping();
    assert.equal(h.wantsBarrier, false);
    t = 20;
    h.pong(barrier);
    assert.equal(h.isBehind, false);
    assert.equal(h.wantsBarrier, false);
  });

  it("unreadBytes reads ws' buffers defensively", () => {
    assert.equal(unreadBytes(undefined), 0);
    assert.equal(unreadBytes({}), 0);
    assert.equal(unreadBytes({ _socket: { readableLength: 5 }, _receiver: { _bufferedBytes: 2 } }), 7);
  });
});
