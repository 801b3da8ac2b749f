import assert from "node:assert/strict";
import { Watchdog } from "../../../src/core/watchdog";
import { FakeClock } from "../../support/fake-clock";

/** A clock whose timers can fire late, as when the event loop was blocked. */
class LaggyClock extends FakeClock {
  lag = 0;
  override now(): number {
    return super.now() + this.lag;
  }
}

describe("core/watchdog", () => {
  it("fires after the timeout of silence; proof of life starts the count again", () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const w = new Watchdog({ clock, timeoutMs: 1000, fire: (ms) => fired.push(ms) });
    clock.advance(800);
    w.alive();
    clock.advance(800);
    assert.deepEqual(fired, [], "heard 800 ms ago");
    clock.advance(200);
    assert.deepEqual(fired, [1000]);
    clock.advance(5000);
    assert.equal(fired.length, 1, "fires once");
  });

  it("never fires while the reader is paused, and counts from when it reads again", () => {
    const clock = new FakeClock();
    const reader = { paused: false, since: 0 };
    const fired: number[] = [];
    new Watchdog({ clock, timeoutMs: 1000, reader, fire: (ms) => fired.push(ms) });
    clock.advance(500);
    Object.assign(reader, { paused: true, since: clock.now() });
    clock.advance(60_000);
    assert.deepEqual(fired, [], "paused a minute");
    Object.assign(reader, { paused: false, since: clock.now() });
    clock.advance(999);
    assert.deepEqual(fired, [], "reading again for less than the timeout");
    clock.advance(1000);
    assert.equal(fired.length, 1);
  });

  it("never fires while bytes wait unread", () => {
    const clock = new FakeClock();
    let unread = true;
    const fired: number[] = [];
    new Watchdog({ clock, timeoutMs: 1000, unread: () => unread, fire: (ms) => fired.push(ms) });
    clock.advance(10_000);
    assert.deepEqual(fired, []);
    unread = false;
    clock.advance(1000);
    assert.equal(fired.length, 1, "silence with nothing waiting is silence");
  });

  it("a check that runs late (a blocked event loop) re-arms once instead of failing", () => {
    const clock = new LaggyClock();
    const fired: number[] = [];
    const w = new Watchdog({ clock, timeoutMs: 1000, fire: (ms) => fired.push(ms) });
    clock.lag = 20_000; // the loop was blocked 20 s: the timer fires that late
    clock.advance(1000);
    assert.deepEqual(fired, [], "the answer may be waiting right behind the timer");
    w.alive(); // it was: read in the same turn, and the peer keeps talking
    clock.advance(500);
    w.alive();
    clock.advance(500);
    assert.deepEqual(fired, []);
    clock.advance(1000);
    assert.equal(fired.length, 1, "then silent for a whole timeout, on time: fires");
  });

  it("a late check that finds the peer still silent on the next, timely check fires", () => {
    const clock = new LaggyClock();
    const fired: number[] = [];
    new Watchdog({ clock, timeoutMs: 1000, fire: (ms) => fired.push(ms) });
    clock.lag = 20_000;
    clock.advance(1000);
    assert.deepEqual(fired, []);
    clock.advance(1000);
    assert.equal(fired.length, 1);
  });

  it("stop() ends it for good", () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const w = new Watchdog({ clock, timeoutMs: 1000, fire: (ms) => fired.push(ms) });
    w.stop();
    clock.advance(10_000);
    assert.deepEqual(fired, []);
    assert.equal(clock.pending, 0);
  });
});
