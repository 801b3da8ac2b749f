import assert from "node:assert/strict";
import type { StateChange } from "../../src/core/lifecycle";
import { RunningSysadmSimulator, SimRequest, startSysadmSimulator } from "../../src/sim/sysadm";
import { GapInfo, SysadmClient, SysadmClientOptions, SysadmEvent } from "../../src/sysadm";
import { FakeClock } from "../support/fake-clock";
import { waitFor } from "../support/wait";
import { pingsForReleases } from "../support/ping-count";

const FAST = { initialMs: 20, maxMs: 200, jitter: 0, holdoffMs: 1500 };
/** Big enough that a few hundred of them fill the loopback socket buffers. */
const PAD = "x".repeat(32 * 1024);

// Flow control on the sysadm connection (issue 11): holding the client's gate stops reading the
// socket, so the server's writes back up (real backpressure); the watchdogs do not blame the
// server for the silence that causes.
describe("sysadm client: flow control against the simulator", function () {
  this.timeout(20000);
  let sim: RunningSysadmSimulator | undefined;
  const clients: SysadmClient[] = [];

  function client(o: Partial<SysadmClientOptions> = {}): SysadmClient {
    const c = new SysadmClient({ url: sim!.server.wsUrl!, username: "demo", password: "demo-password", backoff: FAST, pingMs: 0, keepaliveMs: 0, ...o });
    clients.push(c);
    return c;
  }
  function until(c: SysadmClient, pred: (s: StateChange) => boolean): Promise<StateChange> {
    return new Promise((resolve) => {
      const on = (s: StateChange) => {
        if (!pred(s)) return;
        c.lifecycle.off("state", on);
        resolve(s);
      };
      c.lifecycle.on("state", on);
    });
  }
  const ids = (events: SysadmEvent[]) => events.map((e) => (e.args as { process_id: string }).process_id);

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sim?.close();
    sim = undefined;
  });

  it("a held gate stops reading: the server's writer backs up, then every event arrives once, in order", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    const c = client();
    await c.setSubscriptions(["dispatcher"]);
    const events: SysadmEvent[] = [];
    c.on("event", (e) => events.push(e));
    c.start();
    await until(c, (s) => s.state === "connected");
    c.gate.hold("test");
    const n = 600;
    let flooded = false;
    const flood = sim.server.flood(n, "dispatcher", (i: number) => ({ process_id: `p${i}`, state: "running", pad: PAD })).then(() => (flooded = true));
    // ~20 MB against a socket that is not read: the kernel buffers fill and the server's own queue grows.
    await waitFor("the server's send queue to grow", () => sim!.server.bufferedBytes > 0, 10000);
    assert.equal(events.length, 0, "nothing was read while the gate was held");
    assert.equal(flooded, false, "the server is held back");
    assert.equal(c.stats.pauses, 1);
    c.gate.release("test");
    await flood;
    await waitFor("all events", () => events.length === n, 10000);
    assert.deepEqual(
      ids(events),
      Array.from({ length: n }, (_, i) => `p${i}`),
    );
    assert.equal(c.stats.reconnects, 0);
  });

  it("holding and releasing in quick succession sends one ping at a time, not one per release", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    const c = client();
    await c.setSubscriptions(["dispatcher"]);
    const events: SysadmEvent[] = [];
    c.on("event", (e) => events.push(e));
    c.start();
    await until(c, (s) => s.state === "connected");
    const pings = await pingsForReleases(sim.server.openSockets(), c.gate, 300);
    assert.ok(pings >= 1 && pings <= 2, `${pings} pings for 300 releases`);
    await sim.server.flood(1, "dispatcher", () => ({ process_id: "after", state: "running" }));
    await waitFor("an event after the releases", () => events.length === 1);
    assert.equal(c.stats.reconnects, 0);
  });

  it("while reading is held back, neither the ping watchdog nor the keep-alive's reply timeout ends the connection", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    const clock = new FakeClock();
    // Liveness 2.5 s, a keep-alive query every 4 s that must be answered within 1 s (simulated time).
    const c = client({ clock, pingMs: 1000, keepaliveMs: 4000, requestTimeoutMs: 1000 });
    await c.setSubscriptions(["dispatcher"]);
    const events: SysadmEvent[] = [];
    c.on("event", (e) => events.push(e));
    const states: string[] = [];
    c.lifecycle.on("state", (s) => states.push(s.state));
    const queries: SimRequest[] = [];
    sim.server.on("request", (r) => {
      if (r.name === "query") queries.push(r);
    });
    c.start();
    await until(c, (s) => s.state === "connected");
    c.gate.hold("test");
    sim.server.publish("dispatcher", { process_id: "while-held", state: "running" });
    // A minute of simulated time, 100 ms at a go with real I/O in between: pings go out, the
    // pongs and the keep-alive's replies arrive, and wait unread in the paused socket.
    for (let t = 0; t < 60_000; t += 100) {
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(states, ["connecting", "connected"], "no reconnect while held back");
    // The keep-alive still went out (the server's idle timer and the token's lifetime restart),
    // and its reply waits in the socket with the pongs.
    await waitFor("the server to have seen a keep-alive query", () => queries.length >= 1);
    assert.equal(sim.server.stats.connectionsAccepted, 1);
    assert.equal(events.length, 0);
    const asked = queries.length;
    c.gate.release("test");
    await waitFor("the held event", () => events.length === 1);
    // Reading again: the replies are read and the keep-alive goes on at its pace.
    for (let t = 0; t < 10_000; t += 100) {
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    await waitFor("two more keep-alive queries", () => queries.length >= asked + 2);
    assert.deepEqual(states, ["connecting", "connected"]);
  });

  it("a connection lost while reading was held back reports its gap from when everything was last known read", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    const c = client();
    await c.setSubscriptions(["dispatcher"]);
    const events: SysadmEvent[] = [];
    const gaps: GapInfo[] = [];
    c.on("event", (e) => events.push(e));
    c.on("gap", (g) => gaps.push(g));
    c.start();
    await until(c, (s) => s.state === "connected");
    let readAt = 0;
    c.once("event", () => (readAt = Date.now()));
    sim.server.publish("dispatcher", { process_id: "before", state: "running" });
    await waitFor("the first event", () => events.length === 1);
    c.gate.hold("test");
    sim.server.publish("dispatcher", { process_id: "held", state: "running" });
    sim.server.dropConnections();
    // Only so that "when the close was read" is a later millisecond than the last frame read live.
    await waitFor("the clock to move on", () => Date.now() > readAt + 20);
    c.gate.release("test");
    await waitFor("the gap", () => gaps.length === 1, 5000);
    assert.deepEqual(ids(events), ["before", "held"], "what was sent before the close is still read");
    // The close was read after the backlog, later than the loss could have begun: the gap starts
    // at the last frame read while reading ran.
    assert.ok(gaps[0].from <= readAt, `gap from ${gaps[0].from}, last frame read live at ${readAt}`);
  });
});
