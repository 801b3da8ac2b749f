import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import { FlowWatch, withHooks } from "../support/flow-probe";
import sysadmServer from "../../src/nodes/sysadm-server";
import sysadmEvents from "../../src/nodes/sysadm-events";
import { RunningSysadmSimulator, startSysadmSimulator } from "../../src/sim/sysadm";
import { eventFrame } from "../../src/sim/sysadm/envelope";
import type { SysadmClient } from "../../src/sysadm";

helper.init(nodeRedPath);

// Flow control of sysadm-events (issue 11) in Node-RED's real routing, against the simulator:
// a flood into a rate-limited core delay node.
const delayNode = requireCoreNode("function/89-delay.js");
const nodes = [sysadmServer, withHooks(sysadmEvents), delayNode];
const CREDS = { s1: { username: "demo", password: "demo-password" } };

type Msg = { topic: string; payload: { process_id?: string; dropped?: number; [k: string]: unknown }; sysadm: { gap?: boolean } };

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  (helper.getNode(id) as unknown as { on(e: string, fn: (m: Msg) => void): void }).on("input", (m) => got.push(m));
  return got;
}
const clientOf = (id: string): SysadmClient => (helper.getNode(id) as unknown as { hub: { client: SysadmClient } }).hub.client;
const seq = (m: Msg): number => Number(String(m.payload.process_id).slice(1));

describe("sysadm-events flow control", function () {
  this.timeout(30000);
  let sim: RunningSysadmSimulator | undefined;
  let watch: FlowWatch | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    watch?.stop();
    watch = undefined;
    await helper.unload();
    await sim?.close();
    sim = undefined;
  });

  function flow(window: number, rate: number, overflow?: string): never {
    return <never>[
      { id: "s1", type: "sysadm-server", url: sim!.server.wsUrl, keepalive: 60, ...(overflow ? { overflow } : {}) },
      { id: "e1", type: "sysadm-events", server: "s1", events: "dispatcher", routing: "single", window, wires: [["slow"]] },
      { id: "slow", type: "delay", pauseType: "rate", rate: String(rate), nbRateUnits: "1", rateUnits: "second", drop: false, wires: [["h0"]] },
      { id: "h0", type: "helper" },
    ];
  }
  const flood = (n: number) => sim!.server.flood(n, "dispatcher", (i: number) => ({ process_id: `p${i}`, state: "running" }));

  it("hold (default): the window bounds what the flow holds, the socket is paused, every event arrives once, in order", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    await helper.load(nodes, flow(20, 1000), CREDS);
    const got = collect("h0");
    watch = new FlowWatch("e1");
    await waitFor("subscribed", () => sim!.server.subscribers("dispatcher") === 1);
    const n = 600;
    await flood(n);
    await waitFor("all events through the delay node", () => got.length === n, 20000);
    assert.deepEqual(
      got.map(seq),
      Array.from({ length: n }, (_, i) => i),
      "every event once, in order",
    );
    assert.ok(watch.maxInFlight <= 20, `in flight peaked at ${watch.maxInFlight}`);
    assert.ok(watch.maxInFlight >= 10, `the window was used (${watch.maxInFlight})`);
    assert.ok(clientOf("s1").stats.pauses >= 1, "the connection stopped reading");
    await waitFor("reading again once the flow caught up", () => !clientOf("s1").gate.paused && watch!.stats.inFlight === 0);
    assert.equal(watch.stats.dropped, 0);
    assert.equal(watch.stats.mode, "hold");
  });

  it("hold: what waits at the node stays bounded too (at most one socket read beyond the window), not the whole flood", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    await helper.load(nodes, flow(100, 1000), CREDS);
    const got = collect("h0");
    watch = new FlowWatch("e1");
    await waitFor("subscribed", () => sim!.server.subscribers("dispatcher") === 1);
    const n = 3000;
    await flood(n);
    await waitFor("all events", () => got.length === n, 20000);
    // Pausing stops the socket; ws still hands over the rest of the 64 KiB read it is in.
    const frameBytes = eventFrame("dispatcher", { process_id: `p${n - 1}`, state: "running" }).length;
    const perRead = Math.ceil((64 * 1024) / frameBytes);
    assert.equal(watch.stats.window, 100);
    assert.ok(watch.maxQueued > 0, "events did wait at the node");
    assert.ok(watch.maxQueued <= 100 + perRead, `waiting peaked at ${watch.maxQueued} (window 100, ${perRead} frames per read)`);
    assert.ok(watch.maxInFlight <= 100, `in flight peaked at ${watch.maxInFlight}`);
  });

  it("drop-oldest: delivered + dropped = produced, and each drop episode is one gap message carrying `dropped`", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    await helper.load(nodes, flow(10, 2000, "drop-oldest"), CREDS);
    const got = collect("h0");
    watch = new FlowWatch("e1");
    await waitFor("subscribed", () => sim!.server.subscribers("dispatcher") === 1);
    const n = 3000;
    await flood(n);
    const events = () => got.filter((m) => m.topic === "dispatcher");
    const gaps = () => got.filter((m) => m.topic === "gap");
    const announced = () => gaps().reduce((sum, g) => sum + (g.payload.dropped ?? 0), 0);
    await waitFor("every event delivered or announced as dropped", () => events().length + announced() === n, 20000);
    await waitFor("the window drained", () => watch!.stats.inFlight === 0 && watch!.stats.queued === 0);
    assert.equal(events().length + announced(), n);
    assert.equal(announced(), watch.stats.dropped, "the gaps announce exactly what was dropped");
    assert.ok(watch.stats.dropped > n / 2, `${watch.stats.dropped} dropped`);
    assert.ok(watch.maxQueued <= 10, `waiting peaked at ${watch.maxQueued}`);
    assert.ok(watch.maxInFlight <= 10, `in flight peaked at ${watch.maxInFlight}`);
    for (const g of gaps()) {
      assert.equal(g.payload.channel, "sysadm");
      assert.equal(g.payload.filled, false);
      assert.ok((g.payload.dropped ?? 0) >= 1);
      assert.match(String(g.payload.reason), new RegExp(`${g.payload.dropped} events dropped`));
      assert.ok(Date.parse(String(g.payload.since)) <= Date.parse(String(g.payload.until)));
      assert.equal(g.sysadm.gap, true);
    }
    // Episodes do not overlap: each one's events arrived after the previous one's.
    const windows = gaps().map((g) => [Date.parse(String(g.payload.since)), Date.parse(String(g.payload.until))]);
    for (let i = 1; i < windows.length; i++) assert.ok(windows[i][0] >= windows[i - 1][1], "episodes in order");
    // The newest survive, in order; the server was never held back.
    const seqs = events().map(seq);
    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      seqs,
    );
    assert.equal(seqs.at(-1), n - 1);
    // Reading stops for the rest of a turn that dropped (so the flood does not have the event loop), never longer.
    assert.equal(clientOf("s1").gate.paused, false, "drop-oldest never keeps the reader stopped");
  });

  it("a flow that keeps up is not held back", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    await helper.load(
      nodes,
      <never>[
        { id: "s1", type: "sysadm-server", url: sim.server.wsUrl, keepalive: 60 },
        { id: "e1", type: "sysadm-events", server: "s1", events: "dispatcher", routing: "single", wires: [["h0"]] },
        { id: "h0", type: "helper" },
      ],
      CREDS,
    );
    const got = collect("h0");
    watch = new FlowWatch("e1");
    await waitFor("subscribed", () => sim!.server.subscribers("dispatcher") === 1);
    for (let i = 0; i < 20; i++) sim.server.publish("dispatcher", { process_id: `p${i}`, state: "running" });
    await waitFor("20 events", () => got.length === 20);
    assert.equal(watch.stats.window, 100, "the default window");
    assert.equal(clientOf("s1").stats.pauses, 0);
  });
});
