import { strict as assert } from "node:assert";
import { PauseGate } from "../../../src/core/pause-gate";
import type { Clock } from "../../../src/core/clock";
import { Watchdog, WatchdogOptions } from "../../../src/core/watchdog";
import { FakeClock } from "../../support/fake-clock";

/**
 * The watchdog as the NSO socket uses it for NSO's heartbeats (issue 11): it fires after `timeoutMs` of silence it
 * can blame on NSO, and only then: not while reading is paused, not while frames wait unread,
 * not on a check the blocked event loop made late.
 */

/** A fake clock whose `now` can jump ahead of its timers, as after a blocked event loop. */
class SkewClock implements Clock {
  skew = 0;
  constructor(readonly fake: FakeClock) {}
  now(): number {
    return this.fake.now() + this.skew;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return this.fake.setTimeout(fn, ms);
  }
  clearTimeout(h: unknown): void {
    this.fake.clearTimeout(h);
  }
}

function setup(extra: Partial<WatchdogOptions> = {}) {
  const fake = new FakeClock();
  const clock = new SkewClock(fake);
  const fired: number[] = [];
  const gate = new PauseGate(
    () => undefined,
    () => clock.now(),
  );
  const w = new Watchdog({ clock, timeoutMs: 300, reader: gate, fire: (ms) => fired.push(ms), ...extra });
  return { fake, clock, fired, gate, w };
}

describe("core/watchdog on a heartbeat: a watchdog that does not lie", () => {
  it("fires after the timeout of silence; a frame starts the count again", () => {
    const { fake, fired, w } = setup();
    fake.advance(200);
    w.alive();
    fake.advance(299);
    assert.deepEqual(fired, []);
    fake.advance(1);
    assert.deepEqual(fired, [300]);
    fake.advance(5000);
    assert.equal(fired.length, 1, "once");
  });

  it("does not fire while reading is paused, however long; counts again from the resume", () => {
    const { fake, fired, gate } = setup();
    fake.advance(100);
    gate.hold("ev1");
    fake.advance(10_000);
    assert.deepEqual(fired, [], "silence while paused is ours, not NSO's");
    gate.release("ev1");
    fake.advance(299);
    assert.deepEqual(fired, []);
    fake.advance(300);
    assert.equal(fired.length, 1);
    assert.ok(fired[0] >= 300 && fired[0] < 600, `counted from the resume: ${String(fired)}`);
  });

  it("does not fire while frames wait unread", () => {
    let unread = true;
    const { fake, fired } = setup({ unread: () => unread });
    fake.advance(10_000);
    assert.deepEqual(fired, []);
    unread = false;
    fake.advance(300);
    assert.equal(fired.length, 1);
  });

  it("a check made late by a blocked event loop re-arms once; a second late one in a row without a frame fires", () => {
    const { fake, clock, fired, w } = setup();
    clock.skew += 20_000; // the loop was blocked for 20 s: the timer runs far behind its time
    fake.advance(300);
    assert.deepEqual(fired, [], "the first late check re-arms");
    w.alive(); // the heartbeat that was waiting behind the timer is read
    clock.skew += 20_000;
    fake.advance(300);
    assert.deepEqual(fired, [], "a frame in between: forgiven again");
    clock.skew += 20_000;
    fake.advance(300);
    assert.equal(fired.length, 1, "late twice in a row with no frame: NSO is silent");
  });

  it("an on-time check after the late one fires when NSO stayed silent", () => {
    const { fake, clock, fired } = setup();
    clock.skew += 5000;
    fake.advance(300);
    assert.deepEqual(fired, []);
    fake.advance(300);
    assert.equal(fired.length, 1);
  });

  it("stop() ends it", () => {
    const { fake, fired, w } = setup();
    w.stop();
    fake.advance(10_000);
    assert.deepEqual(fired, []);
    assert.equal(fake.pending, 0);
  });
});
