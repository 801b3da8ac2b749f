import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import { FlowWatch, valveNode, valves, withHooks } from "../support/flow-probe";
import controllerNode from "../../src/nodes/apic-controller";
import eventsNode from "../../src/nodes/apic-events";
import type { ApicClient } from "../../src/apic/client";
import { startApicSimulator, StartedApicSimulator } from "../../src/sim/apic";

helper.init(nodeRedPath);

// Flow control of apic-events (issue 11) in Node-RED's real routing, against the simulator.
const delayNode = requireCoreNode("function/89-delay.js");
const nodes = [controllerNode, withHooks(eventsNode), delayNode, valveNode];
const creds = { ctl: { username: "admin", password: "demo-password" } };

type Msg = { topic: string; payload: Record<string, unknown>; apic: { status: string; dn?: string } };

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  (helper.getNode(id) as unknown as { on(e: string, fn: (m: Msg) => void): void }).on("input", (m) => got.push(m));
  return got;
}
const clientOf = (id: string): ApicClient => (helper.getNode(id) as unknown as { client: ApicClient }).client;
const changes = (got: Msg[]) => got.filter((m) => m.apic.status === "modified");
const descrs = (got: Msg[]) => changes(got).map((m) => String(m.payload.descr));
const gaps = (got: Msg[]) => got.filter((m) => m.topic === "gap");

describe("apic-events flow control", function () {
  this.timeout(30000);
  let sim: StartedApicSimulator | undefined;
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

  /** apic-events on uni/tn-flood -> `next` (a rate-limited delay node or a valve) -> out. */
  function flow(window: number, next: Record<string, unknown>, ctl: Record<string, unknown> = {}): never {
    return <never>[
      { id: "ctl", type: "apic-controller", hosts: sim!.url, domain: "", tls: "", refreshTimeout: "", pingInterval: "5", maxFrameSize: "", ...ctl },
      {
        id: "ev",
        type: "apic-events",
        controller: "ctl",
        routing: "single",
        classes: "",
        outputs: 1,
        window,
        subscriptions: [{ kind: "dn", target: "uni/tn-flood", options: "" }],
        wires: [["next"]],
      },
      { id: "next", ...next, wires: [["out"]] },
      { id: "out", type: "helper" },
    ];
  }
  const delay = (rate: number) => ({ type: "delay", pauseType: "rate", rate: String(rate), nbRateUnits: "1", rateUnits: "second", drop: false });

  async function started(o: Parameters<typeof startApicSimulator>[0] = {}): Promise<StartedApicSimulator> {
    sim = await startApicSimulator(o);
    sim.sim.create("fvTenant", "uni/tn-flood", { name: "flood" });
    return sim;
  }

  it("hold (default): the window bounds what the flow holds, the socket is paused, every change arrives once, in order", async () => {
    const s = await started();
    await helper.load(nodes, flow(20, delay(1000)), creds);
    const got = collect("out");
    watch = new FlowWatch("ev");
    await waitFor("the snapshot", () => got.length === 1);
    const n = 600;
    await s.sim.flood(n);
    await waitFor("every change through the delay node", () => changes(got).length === n, 20000);
    assert.deepEqual(
      descrs(got),
      Array.from({ length: n }, (_, i) => `change ${i}`),
      "every change once, in order",
    );
    assert.ok(watch.maxInFlight <= 20, `in flight peaked at ${watch.maxInFlight}`);
    assert.ok(watch.maxInFlight >= 10, `the window was used (${watch.maxInFlight})`);
    assert.ok(clientOf("ctl").stats.pauses >= 1, "the socket stopped reading");
    await waitFor("reading again once the flow caught up", () => !clientOf("ctl").gate.paused && watch!.stats.inFlight === 0);
    assert.equal(watch.stats.dropped, 0);
    assert.equal(gaps(got).length, 0);
    assert.equal(s.sim.stats.logins, 1);
  });

  it("drop-oldest: delivered + dropped = produced, and each drop episode is one gap message carrying `dropped`", async () => {
    const s = await started();
    await helper.load(nodes, flow(10, delay(2000), { overflow: "drop-oldest" }), creds);
    const got = collect("out");
    watch = new FlowWatch("ev");
    await waitFor("the snapshot", () => got.length === 1);
    const n = 3000;
    await s.sim.flood(n);
    const announced = () => gaps(got).reduce((sum, g) => sum + Number(g.payload.dropped ?? 0), 0);
    await waitFor("every change delivered or announced as dropped", () => changes(got).length + announced() === n, 20000);
    await waitFor("the window drained", () => watch!.stats.inFlight === 0 && watch!.stats.queued === 0);
    assert.equal(announced(), watch.stats.dropped, "the gaps announce exactly what was dropped");
    assert.ok(watch.stats.dropped > n / 2, `${watch.stats.dropped} dropped`);
    assert.ok(watch.maxQueued <= 10, `waiting peaked at ${watch.maxQueued}`);
    for (const g of gaps(got)) {
      assert.equal(g.payload.channel, "apic");
      assert.equal(g.payload.filled, false, "nothing re-read for dropped changes");
      assert.ok(Number(g.payload.dropped) >= 1);
      assert.match(String(g.payload.reason), new RegExp(`${Number(g.payload.dropped)} events dropped`));
      assert.equal(g.apic.status, "gap");
    }
    const seqs = descrs(got).map((d) => Number(d.split(" ")[1]));
    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      seqs,
      "the survivors in order",
    );
    assert.equal(seqs.at(-1), n - 1, "the newest survive");
    // Reading stops for the rest of a turn that dropped (so the flood does not have the event loop), never longer.
    assert.equal(clientOf("ctl").gate.paused, false, "drop-oldest never keeps the reader stopped");
  });

  it("a blocked flow holds the socket paused for many ping periods without a reconnect; opened, everything arrives", async () => {
    const s = await started();
    // Pings every 100 ms: two periods without a pong would end a socket that is read.
    await helper.load(nodes, flow(10, { type: "fc-valve" }, { pingInterval: "0.1" }), creds);
    const got = collect("out");
    watch = new FlowWatch("ev");
    await waitFor("subscribed", () => s.sim.liveStats().liveSubscriptions === 1);
    const n = 30;
    await s.sim.flood(n);
    const gate = clientOf("ctl").gate;
    await waitFor("the window full and reading held back", () => watch!.stats.inFlight === 10 && gate.paused);
    // The flow stays blocked for ten liveness periods.
    await waitFor("reading held back for 2 s", () => gate.paused && Date.now() - gate.since >= 2000, 5000);
    assert.equal(s.sim.stats.logins, 1, "no reconnect");
    assert.equal(clientOf("ctl").lifecycle.state, "connected");
    valves.get("next")!.open();
    await waitFor("every change", () => changes(got).length === n, 10000);
    assert.deepEqual(
      descrs(got),
      Array.from({ length: n }, (_, i) => `change ${i}`),
    );
    assert.equal(gaps(got).length, 0);
    assert.equal(s.sim.stats.logins, 1);
  });

  it("APIC dropping the held-back socket costs a gap from when reading was held back, and a re-read that repairs the state", async () => {
    // Like a controller that gives up on a client that stops reading.
    const s = await started({ policy: { maxSocketBacklogBytes: 256 * 1024 } });
    await helper.load(nodes, flow(10, { type: "fc-valve" }, { pingInterval: "1" }), creds);
    const got = collect("out");
    watch = new FlowWatch("ev");
    await waitFor("subscribed", () => s.sim.liveStats().liveSubscriptions === 1);
    const gate = clientOf("ctl").gate;
    const n = 2000;
    // 32 MB of changes: more than the socket buffers hold.
    const flood = s.sim.flood(n, "modify", 16 * 1024);
    await waitFor("reading held back", () => gate.paused);
    const heldAt = gate.since;
    await waitFor("the simulator to drop the slow socket", () => s.sim.stats.slowSocketsDropped === 1, 15000);
    await flood;
    valves.get("next")!.open();
    await waitFor("a gap, then the re-read", () => got.some((m, i) => m.apic.status === "sync" && got.slice(0, i).some((g) => g.topic === "gap")), 15000);
    const gi = got.findIndex((m) => m.topic === "gap");
    const gap = got[gi];
    assert.equal(gap.payload.channel, "apic");
    assert.equal(gap.payload.filled, "re-read");
    assert.deepEqual(gap.payload.queries, ["/api/mo/uni/tn-flood.json"]);
    assert.ok(
      Date.parse(String(gap.payload.since)) <= heldAt,
      `the gap starts ${String(gap.payload.since)}, reading was held back at ${new Date(heldAt).toISOString()}`,
    );
    // What was read before the loss came in order, without duplicates; the re-read has the latest state.
    const before = descrs(got.slice(0, gi)).map((d) => Number(d.split(" ")[1]));
    assert.deepEqual(
      before,
      Array.from({ length: before.length }, (_, i) => i),
    );
    assert.ok(before.length < n, `${before.length} changes read before the socket was dropped`);
    const resync = got.slice(gi + 1).find((m) => m.apic.status === "sync" && m.apic.dn === "uni/tn-flood");
    assert.equal(resync?.payload.descr, `change ${n - 1}`, "the re-read has the latest state");
    assert.equal(s.sim.stats.logins, 2);
  });
});
