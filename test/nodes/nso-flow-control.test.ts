import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import type { NodeAPI } from "node-red";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import type { FloodResult } from "../../src/sim/nso";
import type { FlowWindowStats } from "../../src/nodes/lib/flow-window";
import type { NsoClient } from "../../src/nso/client";
import { waitFor } from "../support/wait";
import { NSO_NODES } from "../support/nso-nodes";

/**
 * Flow control of nso-events (issue 11) in Node-RED's routing, against the simulator's flood:
 * the flow never holds more than the node's window, NSO is held back through the socket (hold)
 * or the oldest notifications are dropped and announced (drop-oldest), blocking notifications
 * are never dropped, and the heartbeat watchdog does not drop a connection we paused ourselves.
 *
 * node-red-node-test-helper's mock runtime gives nodes no RED.hooks (the real runtime does), and
 * without them a window cannot see when the flow finished a message: nso-events gets the
 * helper runtime's own hooks object, which the routing runs.
 */
helper.init(nodeRedPath);

const [nsoServerNode, nsoEventsNode, nsoAckNode] = NSO_NODES;
const delayNode = requireCoreNode("function/89-delay.js");
const functionNode = requireCoreNode("function/10-function.js");

function eventsWithHooks(RED: NodeAPI): void {
  const red = RED as unknown as { hooks?: unknown };
  red.hooks ??= (helper as unknown as { _RED: { hooks: unknown } })._RED.hooks;
  nsoEventsNode(RED);
}

/** Holds every message (and its done) until opened: a flow that has stopped for a while. */
function valveNode(RED: NodeAPI): void {
  RED.nodes.registerType("valve", function (this: any, config: any) {
    RED.nodes.createNode(this, config);
    const held: Array<() => void> = [];
    let open = false;
    this.on("input", (msg: object, send: (m: object) => void, done: () => void) => {
      const pass = (): void => {
        send(msg);
        done();
      };
      if (open) pass();
      else held.push(pass);
    });
    this.open = () => {
      open = true;
      for (const f of held.splice(0)) f();
    };
  } as never);
}

const NODES = [nsoServerNode, eventsWithHooks, nsoAckNode, delayNode, functionNode, valveNode];

type AnyNode = any;
const get = (id: string): AnyNode => helper.getNode(id) as AnyNode;
const stats = (id: string): FlowWindowStats => (get(id).flowStats as () => FlowWindowStats)();
const clientOf = (id: string): NsoClient => get(id).client as NsoClient;

/** Audit notifications numbered in `msg` (padded: a flood fills the socket buffers). */
const audit = (i: number) => ({ type: "NOTIF_AUDIT", logno: 1, usid: 59, user: "admin", msg: `${i} ${"x".repeat(400)}` });
const numberOf = (m: any): number => Number(String(m.payload.msg).split(" ")[0]);
const ascending = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const rateLimited = (id: string, rate: number, wires: string[][]) => ({
  id,
  type: "delay",
  pauseType: "rate",
  rate: String(rate),
  nbRateUnits: "1",
  rateUnits: "second",
  drop: false,
  wires,
});

/** Samples the windows of `ids` every millisecond: the largest in-flight count each one had. */
function sampler(ids: string[], also?: () => void) {
  const max = new Map(ids.map((id) => [id, 0]));
  const t = setInterval(() => {
    for (const id of ids) max.set(id, Math.max(max.get(id)!, stats(id).inFlight));
    also?.();
  }, 1);
  return { max, stop: () => clearInterval(t) };
}

/** Every state the server's connection leaves "connected" for, and every socket the simulator saw closed. */
function reconnects(srv: string, sim: RunningNsoSimulator): { count: () => number } {
  let lost = 0;
  clientOf(srv).lifecycle.on("state", (s) => s.previous === "connected" && lost++);
  sim.server.on("closed", () => lost++);
  return { count: () => lost };
}

describe("nso-events: flow control (window, hold back NSO, drop the oldest)", function () {
  this.timeout(90000);
  let sim: RunningNsoSimulator;
  let stop: (() => void) | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startNsoSimulator({ port: 0, minIntervalMs: 20 });
  });
  afterEach(async () => {
    stop?.();
    stop = undefined;
    await helper.unload();
    await sim.close();
  });

  it("hold: 10 000 audits into a delay node at 2000/s: in flight never above the window, NSO held back through the socket, every one delivered once and in order, no reconnect", async () => {
    await helper.load(NODES, [
      // The watchdog on (3 x 0.2 s): the socket is paused far longer than that.
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0.2 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], window: 100, wires: [["slow"]] },
      rateLimited("slow", 2000, [["out"]]),
      { id: "out", type: "helper" },
    ] as never);
    await sim.server.waitForSubscribers(1);
    const lost = reconnects("srv", sim);
    let sawPaused = false;
    const s = sampler(["ev"], () => (sawPaused ||= clientOf("srv").gate.paused));
    stop = s.stop;
    const got: number[] = [];
    get("out").on("input", (m: any) => got.push(numberOf(m)));
    const total = 10000;
    const flood: FloodResult = await sim.server.flood(audit, total);
    await waitFor("every audit through the delay node", () => got.length === total, 60000);
    s.stop();
    assert.deepEqual(got, ascending(total), "every notification once, in order");
    assert.ok(s.max.get("ev")! <= 100, `in flight peaked at ${String(s.max.get("ev"))}`);
    assert.ok(s.max.get("ev")! >= 50, `the window was used (${String(s.max.get("ev"))})`);
    assert.ok(sawPaused && clientOf("srv").readPauses > 0, "the socket was paused");
    assert.ok(flood.drainWaits > 0, "the simulator's writer was held back");
    assert.equal(stats("ev").dropped, 0);
    assert.equal(lost.count(), 0, "no reconnect");
    await waitFor("reading again", () => !clientOf("srv").gate.paused);
  });

  it("drop-oldest: delivered + dropped = produced, one gap message per episode with payload.dropped, a commit diff in the middle is never dropped and is acked", async () => {
    await helper.load(NODES, [
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0.2, overflow: "drop-oldest" },
      {
        id: "ev",
        type: "nso-events",
        server: "srv",
        notifications: ["NOTIF_AUDIT", "NOTIF_COMMIT_DIFF"],
        routing: "type",
        outputs: 3,
        window: 50,
        autoAck: 0,
        wires: [["slow"], ["ack"], ["gaps"]],
      },
      rateLimited("slow", 2000, [["out"]]),
      { id: "ack", type: "nso-ack", wires: [["diffs"]] },
      { id: "out", type: "helper" },
      { id: "diffs", type: "helper" },
      { id: "gaps", type: "helper" },
    ] as never);
    await sim.server.waitForSubscribers(1);
    const lost = reconnects("srv", sim);
    const s = sampler(["ev"]);
    stop = s.stop;
    const got: number[] = [];
    const gaps: any[] = [];
    const diffs: any[] = [];
    get("out").on("input", (m: any) => got.push(numberOf(m)));
    get("gaps").on("input", (m: any) => gaps.push(m));
    get("diffs").on("input", (m: any) => diffs.push(m));
    const total = 20000;
    const diffAt = 10000;
    const flood = await sim.server.flood((i) => (i === diffAt ? { type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } } : audit(i)), total);
    assert.deepEqual(await flood.done, ["acked"], "the commit diff was acked by the flow's nso-ack");
    await waitFor("the window drained", () => stats("ev").inFlight === 0 && stats("ev").queued === 0, 30000);
    s.stop();
    const dropped = stats("ev").dropped;
    assert.equal(got.length + dropped, total - 1, `${got.length} delivered + ${dropped} dropped = ${total - 1} audits produced`);
    assert.ok(dropped > 0, "the flow fell behind");
    for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], `out of order or twice: ${got[i - 1]} then ${got[i]}`);
    assert.equal(got.at(-1), total - 1, "the newest survive");
    assert.ok(gaps.length >= 1);
    for (const g of gaps) {
      assert.equal(g.topic, "gap");
      assert.equal(g.payload.channel, "nso");
      assert.equal(g.payload.filled, false);
      assert.ok(g.payload.dropped > 0, JSON.stringify(g.payload));
      assert.match(g.payload.reason, new RegExp(`${g.payload.dropped} events dropped`));
      assert.ok(Date.parse(g.payload.since) <= Date.parse(g.payload.until));
    }
    assert.equal(
      gaps.reduce((n, g) => n + g.payload.dropped, 0),
      dropped,
      "each episode announced once, with its count",
    );
    assert.equal(diffs.length, 1, "the commit diff was delivered");
    assert.equal(diffs[0].topic, "NOTIF_COMMIT_DIFF");
    assert.ok(s.max.get("ev")! <= 50, `in flight peaked at ${String(s.max.get("ev"))}`);
    // Reading stops for the rest of a turn that dropped (so the flood does not have the event loop), never longer.
    assert.equal(clientOf("srv").gate.paused, false, "drop-oldest never keeps NSO held back");
    assert.equal(lost.count(), 0, "no reconnect");
  });

  it("several nodes on one server: each its own window; the socket is paused while any of them is a window behind", async () => {
    await helper.load(NODES, [
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "slowEv", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], window: 20, wires: [["slow"]] },
      { id: "fastEv", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], window: 50, wires: [["fast"]] },
      rateLimited("slow", 1000, [["slowOut"]]),
      { id: "slowOut", type: "helper" },
      { id: "fast", type: "helper" },
    ] as never);
    await sim.server.waitForSubscribers(1);
    let unpausedWhileBehind = 0;
    const s = sampler(["slowEv", "fastEv"], () => {
      if (stats("slowEv").paused && !clientOf("srv").gate.paused) unpausedWhileBehind++;
    });
    stop = s.stop;
    const slow: number[] = [];
    const fast: number[] = [];
    get("slowOut").on("input", (m: any) => slow.push(numberOf(m)));
    get("fast").on("input", (m: any) => fast.push(numberOf(m)));
    const total = 2000;
    await sim.server.flood(audit, total);
    await waitFor("both flows have everything", () => slow.length === total && fast.length === total, 30000);
    s.stop();
    assert.deepEqual(slow, ascending(total));
    assert.deepEqual(fast, ascending(total));
    assert.ok(s.max.get("slowEv")! <= 20, `slow node in flight peaked at ${String(s.max.get("slowEv"))}`);
    assert.ok(s.max.get("fastEv")! <= 50, `fast node in flight peaked at ${String(s.max.get("fastEv"))}`);
    assert.ok(clientOf("srv").readPauses > 0, "the slow flow held the socket");
    assert.equal(unpausedWhileBehind, 0, "the socket read while the slow node held the gate");
  });

  it("the heartbeat watchdog does not reconnect while reading is paused for longer than 3 heartbeat intervals", async () => {
    // Flow nodes of a custom type need a tab and a position, or the runtime takes them for config nodes.
    const at = { z: "tab", x: 0, y: 0 };
    await helper.load(NODES, [
      { id: "tab", type: "tab" },
      // Heartbeats every 50 ms: the watchdog gives up after 150 ms of silence it blames on NSO.
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0.05 },
      { id: "ev", type: "nso-events", ...at, server: "srv", notifications: ["NOTIF_AUDIT"], window: 5, wires: [["valve"]] },
      { id: "valve", type: "valve", ...at, wires: [["out"]] },
      { id: "out", type: "helper", ...at },
    ] as never);
    await sim.server.waitForSubscribers(1);
    const lost = reconnects("srv", sim);
    const got: number[] = [];
    get("out").on("input", (m: any) => got.push(numberOf(m)));
    for (let i = 0; i < 40; i++) sim.server.inject(audit(i));
    const gate = clientOf("srv").gate;
    await waitFor("the window full, reading paused", () => gate.paused);
    // Time has to pass here: four watchdog timeouts while NSO's heartbeats wait unread.
    await waitFor("paused for four watchdog timeouts", () => Date.now() - gate.since > 4 * 150, 5000);
    assert.equal(gate.paused, true, "still paused");
    assert.equal(clientOf("srv").lifecycle.state, "connected");
    get("valve").open();
    await waitFor("every audit", () => got.length === 40);
    assert.deepEqual(got, ascending(40));
    assert.equal(lost.count(), 0, "no reconnect");
  });

  it("a busy function node (1 ms per message): at most the window at a time, heartbeats read in between, no reconnect", async () => {
    await helper.load(NODES, [
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0.1 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], window: 100, wires: [["busy"]] },
      { id: "busy", type: "function", func: "const t = Date.now() + 1; while (Date.now() < t) {} return msg;", outputs: 1, wires: [["out"]] },
      { id: "out", type: "helper" },
    ] as never);
    await sim.server.waitForSubscribers(1);
    const lost = reconnects("srv", sim);
    const s = sampler(["ev"]);
    stop = s.stop;
    let n = 0;
    get("out").on("input", () => n++);
    const total = 3000;
    await sim.server.flood(audit, total);
    await waitFor("every audit through the busy node", () => n === total, 30000);
    s.stop();
    assert.ok(s.max.get("ev")! <= 100, `in flight peaked at ${String(s.max.get("ev"))}`);
    assert.equal(lost.count(), 0, "no reconnect");
  });
});
