import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import type { NodeAPI } from "node-red";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { NSO_NODES } from "../support/nso-nodes";
import { waitFor } from "../support/wait";
import { HealthCard, HealthRegistry, HealthReport } from "../../src/nodes/lib/health";

/**
 * The health view of a real nso-server on the simulator (docs/health.md): its counters agree
 * with what the flow received, survive a deploy that restarts only the input node (the
 * connection stays, and so do its counters), count the gap the input node announces after the
 * connection was lost, and go with the config node.
 */
helper.init(nodeRedPath);

const seen: Array<{ topic: string; payload: any }> = [];
let red: NodeAPI | undefined;

/** A sink that outlives redeploys; it also hands the test the runtime's API. */
function recorderNode(RED: NodeAPI): void {
  red = RED;
  RED.nodes.registerType("recorder", function (this: any, config: any) {
    RED.nodes.createNode(this, config);
    this.on("input", (msg: { topic: string; payload: unknown }) => seen.push({ topic: msg.topic, payload: msg.payload }));
  } as never);
}

const flow = (port: number, name = "audit") => [
  { id: "srv", type: "nso-server", name: "sim", host: "127.0.0.1", port, heartbeat: 0 },
  { id: "ev", type: "nso-events", name, server: "srv", notifications: ["NOTIF_AUDIT"], wires: [["rec"]] },
  { id: "rec", type: "recorder" },
];

const cards = (): HealthCard[] => HealthRegistry.of(red!).report().connections;
const audits = (): number => seen.filter((m) => m.topic === "NOTIF_AUDIT").length;

describe("health view: an nso-server's counters on the simulator", function () {
  this.timeout(30000);
  let sim: RunningNsoSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    seen.length = 0;
    sim = await startNsoSimulator({ port: 0 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  const inject = (n: number): void => {
    for (let i = 0; i < n; i++) sim.server.inject({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: `m${i}` });
  };

  it("counts what the flow received, by type, and shows the node's window", async () => {
    await helper.load([...NSO_NODES, recorderNode] as never, flow(sim.port));
    await sim.server.waitForSubscribers(1);
    inject(50);
    await waitFor("50 notifications at the sink", () => audits() === 50);
    const [c] = cards();
    assert.equal(c.id, "srv");
    assert.equal(c.channel, "nso");
    assert.equal(c.name, "sim");
    assert.equal(c.state, "connected");
    assert.equal(c.peer, `127.0.0.1:${sim.port}`);
    assert.ok(c.connectedSince);
    assert.deepEqual(c.events, { total: 50, byType: { NOTIF_AUDIT: 50 } });
    assert.deepEqual((c.details.subscriptions as { types: string[] }).types, ["NOTIF_AUDIT"]);
    assert.deepEqual(c.details.acks, { pending: 0, answered: { flow: 0, auto: 0, evicted: 0, unwanted: 0 } });
    assert.equal(c.flow.length, 1);
    assert.equal(c.flow[0].id, "ev");
    assert.equal(c.flow[0].window, 100);
    assert.equal(c.flow[0].inFlight, 0);
  });

  it("keeps the counters across a deploy that restarts only the input node", async () => {
    await helper.load([...NSO_NODES, recorderNode] as never, flow(sim.port));
    await sim.server.waitForSubscribers(1);
    inject(30);
    await waitFor("30 notifications at the sink", () => audits() === 30);
    await helper.setFlows(flow(sim.port, "audit, renamed"), "nodes");
    inject(20);
    await waitFor("50 notifications at the sink", () => audits() === 50);
    const [c] = cards();
    assert.equal(cards().length, 1);
    assert.equal(c.events.total, 50);
    assert.equal(c.reconnects, 0);
    assert.equal(c.flow[0].name, "audit, renamed");
  });

  it("counts the gap its input node announces after the connection was lost", async () => {
    await helper.load([...NSO_NODES, recorderNode] as never, flow(sim.port));
    await sim.server.waitForSubscribers(1);
    sim.server.dropConnections();
    await waitFor("the gap message", () => seen.some((m) => m.topic === "gap"), 15000);
    const [c] = cards();
    assert.equal(c.gaps.count, 1);
    assert.equal(c.gaps.last?.filled, false);
    assert.equal(c.reconnects, 1);
    assert.match(c.lastError?.message ?? "", /closed/);
  });

  it("publishes once per tick, never per event: a flood of 2000 notifications", async () => {
    await helper.load([...NSO_NODES, recorderNode] as never, flow(sim.port));
    await sim.server.waitForSubscribers(1);
    const registry = HealthRegistry.of(red!);
    const published: HealthReport[] = [];
    let ticks = 0;
    // What the editor plugin installs, and the registry's own tick (called by its timer), counted.
    registry.publish = (r) => published.push(r);
    registry.tick = (now?: number) => {
      ticks++;
      HealthRegistry.prototype.tick.call(registry, now);
    };
    try {
      const start = Date.now();
      inject(2000);
      await waitFor("2000 notifications at the sink", () => audits() === 2000, 15000);
      const after = ticks;
      // Three more ticks: long enough that a doubled timer would show in the bound below.
      await waitFor("three ticks after the flood", () => ticks >= after + 3, 10000);
      const elapsed = Date.now() - start;
      // Every publish came from a tick; none from the 2000 events.
      assert.equal(published.length, ticks);
      // A tick is re-armed 1 s after the previous one started, so N ticks span at least N - 1
      // seconds (1 % allowed for a timer firing a millisecond early by Date.now): a bound on the
      // count that a slow machine can only make looser, never break.
      assert.ok(published.length <= Math.floor(elapsed / 990) + 1, `${published.length} publishes in ${elapsed} ms`);
      assert.equal(published.at(-1)!.connections[0].events.total, 2000);
    } finally {
      delete (registry as { tick?: unknown }).tick;
      registry.publish = undefined;
    }
  });

  it("has no card once the config node is gone", async () => {
    await helper.load([...NSO_NODES, recorderNode] as never, flow(sim.port));
    assert.equal(cards().length, 1);
    await helper.unload();
    assert.equal(cards().length, 0);
  });
});
