import { strict as assert } from "node:assert";
import { Backoff } from "../../src/core/backoff";
import type { Clock } from "../../src/core/clock";
import type { StateChange } from "../../src/core/lifecycle";
import { FRAMES_PER_TURN, NsoClient, NsoClientOptions } from "../../src/nso/client";
import { maskOf } from "../../src/nso/constants";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { FakeClock } from "../support/fake-clock";
import { waitFor } from "../support/wait";

/**
 * Flow control in the NSO client against the simulator (issue 11): the gate pauses the socket
 * (the simulator's writer sees the backpressure), frames already read are not handed out while
 * paused, and the heartbeat watchdog does not blame NSO for silence that is ours. The watchdog
 * runs on a fake clock; the sockets are real.
 */
let sim: RunningNsoSimulator;
let clients: NsoClient[] = [];

/** A fake clock whose `now` can jump ahead of its timers, as after a blocked event loop. */
class SkewClock implements Clock {
  skew = 0;
  readonly fake = new FakeClock();
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

function client(extra: Partial<NsoClientOptions> = {}): NsoClient {
  const c = new NsoClient({
    host: "127.0.0.1",
    port: sim.port,
    backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }),
    subscription: () => ({ mask: maskOf(["NOTIF_AUDIT", "NOTIF_HEARTBEAT"]), heartbeatMs: 20 }),
    ...extra,
  });
  clients.push(c);
  return c;
}

/** The states the client went through, from now on. */
function states(c: NsoClient): StateChange[] {
  const seen: StateChange[] = [];
  c.lifecycle.on("state", (s) => seen.push(s));
  return seen;
}

async function connected(c: NsoClient): Promise<void> {
  const up = new Promise<void>((resolve) => c.lifecycle.on("state", (s) => s.state === "connected" && resolve()));
  c.start();
  await up;
  await sim.server.waitForSubscribers(1);
}

/** Audit notifications numbered in `msg`, padded so a flood fills the socket buffers. */
const audit = (i: number, pad = 0) => ({ type: "NOTIF_AUDIT", logno: 1, usid: 59, user: "admin", msg: `${i} ${"x".repeat(pad)}` });
const numberOf = (msg: unknown): number => Number(String(msg).split(" ")[0]);

describe("nso integration: flow control in the client", function () {
  this.timeout(30000);

  beforeEach(async () => {
    sim = await startNsoSimulator({ port: 0, minIntervalMs: 20 });
  });
  afterEach(async () => {
    for (const c of clients) c.stop();
    clients = [];
    await sim.close();
  });

  it("a held gate stops handing out frames at once, even those already read in the same chunk; NSO's writer blocks; release continues in order", async () => {
    const c = client();
    await connected(c);
    const got: number[] = [];
    c.on("notification", (ev) => {
      if (ev.notification.type !== "NOTIF_AUDIT") return;
      got.push(numberOf((ev.notification.payload as { msg: string }).msg));
      if (got.length === 10) c.gate.hold("slow-flow");
    });
    const total = 20000;
    let floodDone = false;
    const flood = sim.server.flood((i) => audit(i, 1000), total).finally(() => (floodDone = true));
    await waitFor("the gate held, frames waiting unread behind it", () => got.length === 10 && c.unread);
    // From here the simulator's writer blocks for good: the socket's buffers fill and it waits for 'drain'.
    await waitFor("the simulator's writer to block", () => sim.server.waitingForDrain, 10000);
    assert.equal(floodDone, false, "NSO's writer is held back");
    assert.equal(got.length, 10, "nothing handed out while the gate is held");
    assert.equal(c.readPauses, 1);
    c.gate.release("slow-flow");
    const r = await flood;
    await waitFor("every notification", () => got.length === total, 20000);
    assert.deepEqual(
      got,
      Array.from({ length: total }, (_, i) => i),
      "each once, in order",
    );
    assert.ok(r.drainWaits > 0, "the simulator had to wait for the paused reader");
    assert.ok(r.maxBuffered > 0);
    assert.equal(c.lifecycle.state, "connected");
  });

  it("frames are handed out in slices: a chunk of thousands yields to the event loop between them", async () => {
    const c = client();
    await connected(c);
    let n = 0;
    let maxPerTurn = 0;
    let thisTurn = 0;
    let turnTimer: NodeJS.Immediate | undefined;
    c.on("notification", (ev) => {
      if (ev.notification.type !== "NOTIF_AUDIT") return;
      n++;
      thisTurn++;
      maxPerTurn = Math.max(maxPerTurn, thisTurn);
      turnTimer ??= setImmediate(() => {
        thisTurn = 0;
        turnTimer = undefined;
      });
    });
    await sim.server.flood((i) => audit(i), 5000);
    await waitFor("every notification", () => n === 5000, 20000);
    assert.ok(maxPerTurn <= FRAMES_PER_TURN, `at most ${FRAMES_PER_TURN} frames per event-loop turn, saw ${maxPerTurn}`);
  });

  it("the watchdog does not fire while the gate is held, however long; it counts again from the release", async () => {
    const clock = new SkewClock();
    const c = client({ clock, livenessTimeoutMs: 300 });
    const seen = states(c);
    await connected(c);
    sim.server.setHung(true); // no heartbeats from here on: all silence is real
    c.gate.hold("slow-flow");
    clock.fake.advance(30_000);
    assert.equal(c.lifecycle.state, "connected", "silence while paused is ours, not NSO's");
    c.gate.release("slow-flow");
    clock.fake.advance(299);
    assert.equal(c.lifecycle.state, "connected");
    clock.fake.advance(2);
    assert.equal(c.lifecycle.state, "waiting-to-retry", "a hung NSO is still noticed once reading again");
    assert.equal((seen.at(-1)!.reason as Error & { code?: string }).code, "liveness-timeout");
  });

  it("the watchdog does not fire while frames wait unread", async () => {
    const clock = new SkewClock();
    const c = client({ clock, livenessTimeoutMs: 300 });
    await connected(c);
    sim.server.setHung(true);
    c.gate.hold("slow-flow");
    let n = 0;
    c.on("notification", (ev) => ev.notification.type === "NOTIF_AUDIT" && n++);
    // Injected while hung would be dropped by the simulator: write them first, then hang it.
    sim.server.setHung(false);
    for (let i = 0; i < 100; i++) sim.server.inject(audit(i));
    sim.server.setHung(true);
    await waitFor("the audits waiting unread", () => c.unread);
    // Reading resumes on the next turn; a watchdog check before that finds NSO's frames waiting.
    c.gate.release("slow-flow");
    assert.equal(c.unread, true);
    clock.fake.advance(3000);
    assert.equal(c.lifecycle.state, "connected", "NSO spoke; we had not listened yet");
    await waitFor("the audits", () => n === 100);
    assert.equal(c.lifecycle.state, "connected");
  });

  it("a watchdog check made late by a blocked event loop re-arms once instead of dropping a healthy connection", async () => {
    const clock = new SkewClock();
    const c = client({ clock, livenessTimeoutMs: 300 });
    await connected(c);
    const seen = states(c);
    let beats = 0;
    c.on("notification", (ev) => ev.notification.type === "NOTIF_HEARTBEAT" && beats++);
    // The event loop was blocked for 43 s: the timer runs that late, before the heartbeats that
    // arrived meanwhile are read.
    clock.skew += 43_000;
    clock.fake.advance(300);
    assert.equal(c.lifecycle.state, "connected", "a late check re-arms");
    // Time goes on normally and NSO's heartbeats are read: the watchdog stays quiet.
    for (let i = 0; i < 3; i++) {
      clock.fake.advance(150);
      const before = beats;
      await waitFor("the next heartbeat", () => beats > before);
    }
    clock.fake.advance(150);
    assert.equal(c.lifecycle.state, "connected", "NSO is alive");
    assert.deepEqual(
      seen.map((x) => x.state),
      [],
      "no reconnect",
    );
  });

  it("heardUpTo stays at the last caught-up moment while reading is held back, and moves on once caught up", async () => {
    const clock = new SkewClock();
    const c = client({ clock, subscription: () => ({ mask: maskOf(["NOTIF_AUDIT"]) }) });
    await connected(c);
    let n = 0;
    c.on("notification", () => n++);
    clock.skew += 1000;
    sim.server.inject(audit(0));
    await waitFor("one audit", () => n === 1);
    const caughtUp = c.heardUpTo;
    assert.equal(caughtUp, clock.now());
    c.gate.hold("slow-flow");
    for (let i = 1; i <= 50; i++) sim.server.inject(audit(i));
    await waitFor("the audits waiting unread", () => c.unread);
    clock.skew += 5000;
    assert.equal(c.heardUpTo, caughtUp, "what waits may have been sent any time since");
    c.gate.release("slow-flow");
    await waitFor("all audits", () => n === 51);
    await waitFor("caught up", () => c.heardUpTo === clock.now());
  });
});
