import assert from "node:assert/strict";
import { BUCKET_MS, BUCKETS, RateHistory } from "../../../src/nodes/lib/health-rate";

/** Samples once a second from `from` for `seconds`, adding `perSecond` events each time. */
function run(h: RateHistory, from: { t: number; total: number }, seconds: number, perSecond: number): void {
  for (let i = 0; i < seconds; i++) {
    from.t += 1000;
    from.total += perSecond;
    h.sample(from.t, from.total);
  }
}

describe("nodes/lib/health-rate: events per second, 10 minutes in 10 s buckets", () => {
  it("reports the rate of the last sample and one figure per completed 10 s", () => {
    const at = { t: 0, total: 0 };
    const h = new RateHistory(at.t, at.total);
    run(h, at, 10, 5);
    run(h, at, 10, 50);
    run(h, at, 5, 7);
    assert.equal(h.now, 7);
    assert.deepEqual(h.history(), [5, 50]);
  });

  it("keeps 10 minutes: the oldest bucket goes first", () => {
    const at = { t: 0, total: 0 };
    const h = new RateHistory(at.t, at.total);
    for (let b = 0; b < BUCKETS + 3; b++) run(h, at, BUCKET_MS / 1000, b);
    const hist = h.history();
    assert.equal(hist.length, BUCKETS);
    assert.equal(hist[0], 3);
    assert.equal(hist[BUCKETS - 1], BUCKETS + 2);
  });

  it("leaves the buckets a stalled event loop skipped empty, and never counts a total that went back", () => {
    const at = { t: 0, total: 100 };
    const h = new RateHistory(at.t, at.total);
    run(h, at, 10, 10);
    at.t += 35_000;
    h.sample(at.t, at.total + 30);
    assert.deepEqual(h.history(), [10, 3, 0, 0]);
    h.sample(at.t + 1000, 0);
    assert.equal(h.now, 0);
    assert.ok(h.history().every((v) => v >= 0));
  });

  it("starts empty: no history before a bucket completes", () => {
    const h = new RateHistory(1000, 42);
    assert.deepEqual(h.history(), []);
    assert.equal(h.now, 0);
  });
});
