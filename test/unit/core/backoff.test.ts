import assert from "node:assert/strict";
import { Backoff } from "../../../src/core/backoff";

describe("core/backoff", () => {
  it("doubles from 1 s to a 60 s cap without jitter", () => {
    const b = new Backoff({ jitter: 0 });
    const delays = Array.from({ length: 9 }, () => b.next(0));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it("draws the jittered delay from [base*(1-jitter), base]", () => {
    let r = 0;
    const b = new Backoff({ jitter: 0.5, random: () => r });
    assert.equal(b.next(0), 1000); // random 0 -> full base
    r = 1;
    assert.equal(b.next(0), 1000); // base 2000 * (1 - 0.5)
    r = 0.999999;
    const d = b.next(0); // base 4000
    assert.ok(d >= 2000 && d <= 4000, String(d));
  });

  it("spreads clients apart: 100 clients never all pick the same delay", () => {
    const delays = new Set(Array.from({ length: 100 }, () => new Backoff().next(0)));
    assert.ok(delays.size > 50, `only ${delays.size} distinct delays`);
  });

  it("resets after a connection that stayed up for stableMs", () => {
    const b = new Backoff({ jitter: 0, stableMs: 30000 });
    b.next(0);
    b.next(0);
    b.next(0);
    b.connected(1000);
    assert.equal(b.next(31000), 1000);
  });

  it("keeps backing off when the connection flaps right after connecting", () => {
    const b = new Backoff({ jitter: 0, stableMs: 30000 });
    b.next(0);
    b.next(0);
    b.connected(1000);
    assert.equal(b.next(2000), 4000);
    assert.equal(b.attempts, 3);
  });

  it("never overflows after thousands of failures", () => {
    const b = new Backoff({ jitter: 0 });
    for (let i = 0; i < 5000; i++) b.next(0);
    assert.equal(b.next(0), 60000);
  });

  it("rejects nonsense settings", () => {
    assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 5000, maxMs: 1000 }), RangeError);
    assert.throws(() => new Backoff({ jitter: 2 }), RangeError);
  });
});
