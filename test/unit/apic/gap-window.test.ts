import assert from "node:assert/strict";
import { Backoff } from "../../../src/core/backoff";
import type { ApicClient } from "../../../src/apic/client";
import { FakeClock } from "../../support/fake-clock";
import { waitFor } from "../../support/wait";
import { Collector, Rig, untilState } from "./helpers";

/**
 * The window of an APIC gap message starts when the socket was last known good (its last frame
 * or pong), not when the loss was noticed: a half-open socket is only noticed two ping periods
 * later, and changes made in between must fall inside [since, until]. Time is the fake clock's
 * (ms from 0); the simulator and the sockets are real.
 */
describe("apic client: where a gap window starts", function () {
  this.timeout(15000);
  const rig = new Rig();
  afterEach(() => rig.close());

  const PING_MS = 1000;

  async function connected(): Promise<{ c: ApicClient; col: Collector; clock: FakeClock; sim: Awaited<ReturnType<Rig["sim"]>>["sim"] }> {
    const s = await rig.sim();
    const clock = new FakeClock();
    const c = rig.client({ hosts: [s.url], clock, pingIntervalMs: PING_MS, backoff: new Backoff({ initialMs: 100, maxMs: 100, jitter: 0 }) });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    return { c, col, clock, sim: s.sim };
  }

  /** Silence the socket, make a change at `changeAt` while it is silent, let the watchdog notice, and collect the gap. */
  async function silentLoss(x: Awaited<ReturnType<typeof connected>>, changeAt: number) {
    x.sim.killSockets("silent");
    x.clock.advance(changeAt - x.clock.now());
    x.sim.create("fvTenant", "uni/tn-lost", { name: "lost" });
    // The watchdog fires two ping periods after the last sign of life; the retry follows 100 ms later.
    x.clock.advance(3 * PING_MS);
    await x.col.until((y) => y.gaps.length === 1 && y.events.some((e) => e.status === "sync" && e.dn === "uni/tn-lost"), "gap and re-read");
    return x.col.gaps[0];
  }

  it("since is the last frame received before the silence; a change made during it falls inside the window", async () => {
    const x = await connected();
    x.clock.advance(400);
    x.sim.create("fvTenant", "uni/tn-before", { name: "before" });
    await x.col.until((y) => y.live().length === 1, "the last frame before the silence");
    const lastFrameAt = x.clock.now();
    const gap = await silentLoss(x, 700);
    assert.equal(gap.since, lastFrameAt, "since = the last frame received");
    assert.ok(gap.since <= 700 && 700 <= gap.until, `the change at 700 lies in [${gap.since}, ${gap.until}]`);
  });

  it("with no change at all, since is the last pong received", async () => {
    const x = await connected();
    x.clock.advance(PING_MS); // the first ping goes out
    await waitFor("the pong", () => x.c.lastHeardAt === PING_MS);
    const gap = await silentLoss(x, PING_MS + 300);
    assert.equal(gap.since, PING_MS, "since = the last pong received");
    assert.ok(gap.since <= PING_MS + 300 && PING_MS + 300 <= gap.until);
  });

  it("a query that had lapsed before the connection went keeps the earlier start of its gap", async () => {
    const s = await rig.sim();
    const clock = new FakeClock();
    const c = rig.client({
      hosts: [s.url],
      clock,
      pingIntervalMs: 0,
      queryRetryInitialMs: 60_000,
      backoff: new Backoff({ initialMs: 100, maxMs: 100, jitter: 0 }),
    });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant", options: "refresh-timeout=10" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot"); // subscribed (and last refreshed) at 0
    clock.advance(3000);
    s.sim.create("fvTenant", "uni/tn-a", {});
    await col.until((x) => x.live().length === 1, "a frame at 3000");
    // The refresh at 5000 finds the subscription gone and APIC refuses it again: lapsed since its last refresh.
    s.sim.refuseQueries("/api/class/fvTenant.json");
    s.sim.lapseSubscriptions();
    clock.advance(2000);
    await col.until((x) => x.errors.length === 1, "resubscribe refused");
    clock.advance(1000);
    s.sim.create("fvTenant", "uni/tn-b", {}); // at 6000, lost: the query is not subscribed
    s.sim.refuseQueries(undefined);
    s.sim.killSockets("reset");
    await untilState(c, (x) => x.state === "waiting-to-retry", "socket lost");
    clock.advance(200);
    await col.until((x) => x.gaps.length === 1 && x.events.some((e) => e.status === "sync" && e.dn === "uni/tn-b"), "gap and re-read");
    assert.equal(col.gaps[0].since, 0, "since = the lapsed query's last refresh, not the socket's last frame (3000)");
    assert.equal(col.gaps.length, 1);
  });
});
