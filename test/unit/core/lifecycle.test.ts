import assert from "node:assert/strict";
import { Backoff } from "../../../src/core/backoff";
import { Attempt, ConnectionLifecycle, StateChange } from "../../../src/core/lifecycle";
import { FakeClock } from "../../support/fake-clock";

function setup(opts: { handshakeTimeoutMs?: number; livenessTimeoutMs?: number } = {}) {
  const clock = new FakeClock();
  const attempts: Attempt[] = [];
  const states: StateChange[] = [];
  const lc = new ConnectionLifecycle({
    open: (a) => {
      attempts.push(a);
    },
    clock,
    backoff: new Backoff({ jitter: 0 }),
    ...opts,
  });
  lc.on("state", (s) => states.push(s));
  return { clock, attempts, states, lc, seq: () => states.map((s) => s.state) };
}

describe("core/lifecycle", () => {
  it("goes idle -> connecting -> connected when the handshake completes", () => {
    const { lc, attempts, seq } = setup();
    assert.equal(lc.state, "idle");
    lc.start();
    assert.equal(attempts.length, 1);
    attempts[0].established();
    assert.deepEqual(seq(), ["connecting", "connected"]);
  });

  it("retries with exponential backoff after failures, then marks the reconnect as a gap", () => {
    const { lc, attempts, states, clock, seq } = setup();
    lc.start();
    attempts[0].fail(new Error("refused"));
    assert.equal(lc.state, "waiting-to-retry");
    assert.equal(states.at(-1)!.delayMs, 1000);
    clock.advance(999);
    assert.equal(attempts.length, 1, "must wait the full delay");
    clock.advance(1);
    assert.equal(attempts.length, 2);
    attempts[1].fail(new Error("refused"));
    assert.equal(states.at(-1)!.delayMs, 2000);
    clock.advance(2000);
    attempts[2].established();
    assert.equal(states.at(-1)!.reconnected, false, "first connection since start is no gap");
    attempts[2].fail(new Error("reset"));
    clock.advance(clock.nextDelay()!);
    attempts[3].established();
    assert.equal(states.at(-1)!.reconnected, true);
    assert.deepEqual(seq(), [
      "connecting",
      "waiting-to-retry",
      "connecting",
      "waiting-to-retry",
      "connecting",
      "connected",
      "waiting-to-retry",
      "connecting",
      "connected",
    ]);
  });

  it("fails an attempt whose handshake does not complete in time", () => {
    const { lc, attempts, states, clock } = setup({ handshakeTimeoutMs: 5000 });
    lc.start();
    clock.advance(5000);
    assert.equal(lc.state, "waiting-to-retry");
    assert.match(states.at(-1)!.reason!.message, /handshake/);
    assert.equal(attempts[0].active, false);
    assert.equal(attempts[0].signal.aborted, true);
  });

  it("detects a silent peer with the liveness watchdog, and alive() keeps it happy", () => {
    const { lc, attempts, states, clock } = setup({ livenessTimeoutMs: 3000 });
    lc.start();
    attempts[0].established();
    clock.advance(2000);
    attempts[0].alive();
    clock.advance(2000);
    attempts[0].alive();
    clock.advance(2999);
    assert.equal(lc.state, "connected");
    clock.advance(1);
    assert.equal(lc.state, "waiting-to-retry");
    assert.match(states.at(-1)!.reason!.message, /silent/);
  });

  it("ignores reports from an attempt that is already over", () => {
    const { lc, attempts, clock } = setup();
    lc.start();
    const first = attempts[0];
    first.fail(new Error("x"));
    clock.advance(1000);
    attempts[1].established();
    first.fail(new Error("late close of the old socket"));
    first.established();
    assert.equal(lc.state, "connected");
    assert.equal(attempts.length, 2);
  });

  it("runs cleanup once per attempt, also when registered after the end", () => {
    const { lc, attempts } = setup();
    lc.start();
    let n = 0;
    attempts[0].onEnd(() => n++);
    attempts[0].fail(new Error("x"));
    attempts[0].onEnd(() => n++);
    lc.stop();
    assert.equal(n, 2);
  });

  it("reports a throwing cleanup and still runs the others and changes state", () => {
    const { lc, attempts } = setup();
    const errors: Error[] = [];
    lc.on("cleanup-error", (e) => errors.push(e));
    lc.start();
    let ran = 0;
    attempts[0].onEnd(() => {
      throw new Error("listener bug");
    });
    attempts[0].onEnd(() => ran++);
    attempts[0].fail(new Error("lost"));
    assert.equal(ran, 1);
    assert.deepEqual(
      errors.map((e) => e.message),
      ["listener bug"],
    );
    assert.equal(lc.state, "waiting-to-retry");
    lc.stop();
  });

  it("stop() cancels the retry timer and leaves no timer behind", () => {
    const { lc, attempts, clock, seq } = setup({ livenessTimeoutMs: 1000 });
    lc.start();
    attempts[0].fail(new Error("x"));
    assert.equal(clock.pending, 1);
    lc.stop();
    assert.equal(clock.pending, 0);
    clock.advance(120000);
    assert.equal(attempts.length, 1);
    assert.deepEqual(seq(), ["connecting", "waiting-to-retry", "closed"]);
  });

  it("can be started again after stop, with a fresh backoff", () => {
    const { lc, attempts, states, clock } = setup();
    lc.start();
    attempts[0].fail(new Error("x"));
    clock.advance(1000);
    attempts[1].fail(new Error("x"));
    lc.stop();
    lc.start();
    attempts[2].fail(new Error("x"));
    assert.equal(states.at(-1)!.delayMs, 1000);
  });

  it("turns a throwing or rejecting open() into a retry, not a crash", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const lc = new ConnectionLifecycle({
      clock,
      open: () => {
        calls++;
        return Promise.reject(new Error("ENOTFOUND"));
      },
    });
    const seen = new Promise<StateChange>((resolve) => lc.on("state", (s) => s.state === "waiting-to-retry" && resolve(s)));
    lc.start();
    const s = await seen;
    assert.equal(s.reason!.message, "ENOTFOUND");
    assert.equal(calls, 1);
    lc.stop();
  });

  it("restart() drops the connection and retries", () => {
    const { lc, attempts, clock } = setup();
    lc.start();
    attempts[0].established();
    lc.restart(new Error("protocol error"));
    assert.equal(lc.state, "waiting-to-retry");
    clock.advance(clock.nextDelay()!);
    assert.equal(attempts.length, 2);
  });
});

describe("core/lifecycle reconnectNow", () => {
  it("redials at once without counting a failure or waiting for the backoff", () => {
    const { lc, attempts, clock, seq } = setup();
    lc.start();
    attempts[0].established();
    lc.reconnectNow();
    assert.equal(attempts.length, 2, "dialled again without waiting");
    assert.equal(attempts[0].active, false);
    assert.equal(clock.pending, 1, "only the handshake timer is pending");
    attempts[1].established();
    assert.equal(lc.backoff.attempts, 0);
    assert.deepEqual(seq(), ["connecting", "connected", "connecting", "connected"]);
  });

  it("cuts a retry wait short and does nothing once closed", () => {
    const { lc, attempts } = setup();
    lc.start();
    attempts[0].fail(new Error("x"));
    lc.reconnectNow();
    assert.equal(attempts.length, 2);
    lc.stop();
    lc.reconnectNow();
    assert.equal(attempts.length, 2);
    assert.equal(lc.state, "closed");
  });
});
