import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import type { Node, NodeAPI, NodeMessage } from "node-red";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import { DropEpisode, FlowWindow, FlowWindowOptions } from "../../src/nodes/lib/flow-window";

helper.init(nodeRedPath);

// The flow window in Node-RED's real message routing: a test source node floods N messages
// through a FlowWindow into slow core nodes, and the window must bound what the flow holds.
// node-red-node-test-helper's mock runtime gives nodes no RED.hooks (the real runtime does); the
// routing itself runs the real hooks, so the source gets the runtime's own hooks object.
const delayNode = requireCoreNode("function/89-delay.js");
const functionNode = requireCoreNode("function/10-function.js");

interface Probe {
  win?: FlowWindow;
  pauses: number;
  resumes: number;
  paused: boolean;
  maxInFlight: number;
  maxQueued: number;
  episodes: DropEpisode[];
  errors: unknown[];
  /** The window's clock (Date.now unless a test moves time itself). */
  now: () => number;
}
const probe: Probe = { pauses: 0, resumes: 0, paused: false, maxInFlight: 0, maxQueued: 0, episodes: [], errors: [], now: Date.now };

function nested(depth: number): object {
  let o: object = {};
  for (let i = 0; i < depth; i++) o = { o };
  return o;
}

function sourceNode(RED: NodeAPI) {
  const red = RED as unknown as { hooks?: unknown };
  red.hooks ??= (helper as unknown as { _RED: { hooks: unknown } })._RED.hooks;
  function FwSource(this: Node, config: { count: number; window: FlowWindowOptions; poison?: number }) {
    RED.nodes.createNode(this, config as never);
    this.error = (e: unknown) => probe.errors.push(e);
    const win = new FlowWindow(
      RED,
      this,
      { ...config.window, now: () => probe.now() },
      {
        pause() {
          probe.pauses++;
          probe.paused = true;
        },
        resume() {
          probe.resumes++;
          probe.paused = false;
        },
      },
      { dropped: (e) => probe.episodes.push(e) },
    );
    probe.win = win;
    let next = 0;
    this.on("input", (msg: NodeMessage, _send: unknown, done: () => void) => {
      // Like a socket read that hands over a whole burst at once.
      const burst = typeof msg.payload === "number" ? msg.payload : config.count;
      for (let n = 0; n < burst; n++) {
        const i = next++;
        // A message Node-RED cannot clone for a second wire (its clone recurses per level).
        const m = (i === config.poison ? { payload: i, deep: nested(20000) } : { payload: i }) as NodeMessage;
        win.send(m, m);
        const s = win.stats;
        probe.maxQueued = Math.max(probe.maxQueued, s.queued);
      }
      done();
    });
    this.on("close", () => win.close());
  }
  RED.nodes.registerType("fw-source", FwSource as never);
}

/** A node that takes a message and never completes it (done() is never called). */
function holeNode(RED: NodeAPI) {
  function FwHole(this: Node, config: object) {
    RED.nodes.createNode(this, config as never);
    this.on("input", (_msg: NodeMessage, _send: unknown, _done: () => void) => undefined);
  }
  RED.nodes.registerType("fw-hole", FwHole);
}

/** Test flows carry each node type's own properties, which the helper's types do not know. */
const flow = (nodes: Array<Record<string, unknown>>) => nodes as never;

function watchInFlight(): NodeJS.Timeout {
  return setInterval(() => {
    if (probe.win) probe.maxInFlight = Math.max(probe.maxInFlight, probe.win.stats.inFlight);
  }, 1);
}

describe("nodes/lib/flow-window in Node-RED's routing", function () {
  this.timeout(30000);
  let watch: NodeJS.Timeout;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    Object.assign(probe, { win: undefined, pauses: 0, resumes: 0, paused: false, maxInFlight: 0, maxQueued: 0, episodes: [], errors: [], now: Date.now });
    watch = watchInFlight();
  });
  afterEach(async () => {
    clearInterval(watch);
    await helper.unload();
  });

  it("hold: a rate-limited delay node never holds more than the window, the reader is paused and resumed, nothing is lost", async () => {
    await helper.load(
      [sourceNode, delayNode],
      flow([
        { id: "src", type: "fw-source", count: 400, window: { window: 20, mode: "hold" }, wires: [["slow"]] },
        { id: "slow", type: "delay", pauseType: "rate", rate: "1000", nbRateUnits: "1", rateUnits: "second", drop: false, wires: [["out"]] },
        { id: "out", type: "helper" },
      ]),
    );
    const got: number[] = [];
    helper.getNode("out").on("input", (m: NodeMessage) => got.push(m.payload as number));
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("all 400 through the delay node", () => got.length === 400, 20000);
    assert.deepEqual(
      got,
      Array.from({ length: 400 }, (_, i) => i),
      "every message once, in order",
    );
    assert.ok(probe.maxInFlight <= 20, `in flight peaked at ${probe.maxInFlight}`);
    assert.ok(probe.maxInFlight >= 10, `the window was used (${probe.maxInFlight})`);
    assert.ok(probe.pauses >= 1, "the reader was paused");
    await waitFor("reading again once the flow caught up", () => !probe.paused && probe.win!.stats.inFlight === 0);
    assert.equal(probe.win!.stats.dropped, 0);
  });

  it("hold: a busy function node (1 ms a message) gets at most the window at a time", async () => {
    await helper.load(
      [sourceNode, functionNode],
      flow([
        { id: "src", type: "fw-source", count: 300, window: { window: 16, mode: "hold" }, wires: [["busy"]] },
        { id: "busy", type: "function", func: "const t = Date.now() + 1; while (Date.now() < t) {} return msg;", outputs: 1, wires: [["out"]] },
        { id: "out", type: "helper" },
      ]),
    );
    let n = 0;
    helper.getNode("out").on("input", () => n++);
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("all 300", () => n === 300, 20000);
    assert.ok(probe.maxInFlight <= 16, `in flight peaked at ${probe.maxInFlight}`);
  });

  it("drop-oldest: keeps at most window + maxQueued, drops the oldest and reports one episode with their count", async () => {
    await helper.load(
      [sourceNode, delayNode],
      flow([
        { id: "src", type: "fw-source", count: 500, window: { window: 10, mode: "drop-oldest", maxQueued: 10 }, wires: [["slow"]] },
        { id: "slow", type: "delay", pauseType: "rate", rate: "2000", nbRateUnits: "1", rateUnits: "second", drop: false, wires: [["out"]] },
        { id: "out", type: "helper" },
      ]),
    );
    const got: number[] = [];
    helper.getNode("out").on("input", (m: NodeMessage) => got.push(m.payload as number));
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("the episode is reported", () => probe.episodes.length === 1, 20000);
    await waitFor("the window drained", () => probe.win!.stats.inFlight === 0 && probe.win!.stats.queued === 0);
    const dropped = probe.episodes[0].dropped;
    assert.equal(got.length + dropped, 500, `${got.length} delivered + ${dropped} dropped`);
    assert.ok(dropped >= 400, `${dropped} dropped`);
    assert.ok(probe.maxQueued <= 10, `queued peaked at ${probe.maxQueued}`);
    // Never held back across turns: each pause (the rest of a turn that dropped) was lifted.
    assert.equal(probe.resumes, probe.pauses);
    assert.equal(probe.paused, false);
    // The newest survive: the last message is among the delivered ones, in order.
    assert.equal(got.at(-1), 499);
    assert.deepEqual(
      [...got].sort((a, b) => a - b),
      got,
    );
  });

  it("a message on no wire is finished at once", async () => {
    await helper.load([sourceNode], flow([{ id: "src", type: "fw-source", count: 50, window: { window: 5 }, wires: [[]] }]));
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("all sent and finished", () => probe.win!.stats.queued === 0 && probe.win!.stats.inFlight === 0);
    assert.equal(probe.pauses > 0 ? probe.resumes >= probe.pauses : true, true);
  });

  it("writes off messages a node never finishes, so a broken flow cannot stall the reader for ever", async () => {
    await helper.load(
      [sourceNode, holeNode],
      flow([
        { id: "src", type: "fw-source", count: 8, window: { window: 4, maxAgeMs: 200 }, wires: [["hole"]] },
        { id: "hole", type: "fw-hole" },
      ]),
    );
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("the first four held", () => probe.win!.stats.inFlight === 4 && probe.win!.stats.queued === 4);
    await waitFor("all eight written off", () => probe.win!.stats.queued === 0 && probe.win!.stats.inFlight === 0, 5000);
    assert.equal(probe.win!.stats.writtenOff, 8);
  });

  it("drop-oldest: a flow that never catches up still hears of its losses, one gap per second of dropping", async () => {
    let t = 1_000_000;
    probe.now = () => t;
    await helper.load(
      [sourceNode, holeNode],
      flow([
        { id: "src", type: "fw-source", count: 0, window: { window: 5, mode: "drop-oldest", maxQueued: 5, maxAgeMs: 3_600_000 }, wires: [["hole"]] },
        { id: "hole", type: "fw-hole" },
      ]),
    );
    helper.getNode("src").receive({ payload: 5 });
    await waitFor("the window full", () => probe.win!.stats.inFlight === 5);
    helper.getNode("src").receive({ payload: 5 });
    await waitFor("five waiting behind it", () => probe.win!.stats.queued === 5);
    helper.getNode("src").receive({ payload: 50 });
    await waitFor("fifty dropped", () => probe.win!.stats.dropped === 50);
    assert.equal(probe.episodes.length, 0, "dropping began a moment ago: nothing to announce yet");
    t += 1500;
    helper.getNode("src").receive({ payload: 50 });
    await waitFor("the next fifty dropped", () => probe.win!.stats.dropped === 100);
    assert.equal(probe.episodes.length, 1, "announced while the queue is still full");
    assert.equal(probe.episodes[0].dropped, 51, "the first second's drops and the one that announced them");
    t += 1500;
    helper.getNode("src").receive({ payload: 1 });
    await waitFor("the second gap", () => probe.episodes.length === 2);
    assert.equal(
      probe.episodes.reduce((n, e) => n + e.dropped, 0),
      probe.win!.stats.dropped,
      "every dropped event is in one gap",
    );
  });

  it("a message Node-RED cannot send is reported on the node, the runtime survives and the next messages go on", async () => {
    await helper.load(
      [sourceNode],
      flow([
        { id: "src", type: "fw-source", count: 3, poison: 1, window: { window: 10 }, wires: [["a", "b"]] },
        { id: "a", type: "helper" },
        { id: "b", type: "helper" },
      ]),
    );
    const got: number[] = [];
    helper.getNode("b").on("input", (m: NodeMessage) => got.push(m.payload as number));
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("the good messages through", () => got.includes(2));
    assert.equal(probe.errors.length, 1, "one error for the message that could not be sent");
    await waitFor("nothing left in flight", () => probe.win!.stats.inFlight === 0 && probe.win!.stats.queued === 0);
  });

  it("drop-oldest: while dropping, reading stops for the rest of the event-loop turn and goes on in the next", async () => {
    await helper.load(
      [sourceNode, holeNode],
      flow([
        { id: "src", type: "fw-source", count: 0, window: { window: 5, mode: "drop-oldest", maxQueued: 5, maxAgeMs: 3_600_000 }, wires: [["hole"]] },
        { id: "hole", type: "fw-hole" },
      ]),
    );
    helper.getNode("src").receive({ payload: 5 });
    await waitFor("the window full", () => probe.win!.stats.inFlight === 5);
    helper.getNode("src").receive({ payload: 5 });
    await waitFor("five waiting behind it", () => probe.win!.stats.queued === 5);
    assert.equal(probe.pauses, 0, "no drop yet: reading never stopped");
    // A read that drops: the reader is paused in the same turn, reading again by the next.
    helper.getNode("src").receive({ payload: 20 });
    await waitFor("twenty dropped", () => probe.win!.stats.dropped === 20);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.ok(probe.pauses >= 1, "the turn that dropped stopped reading");
    assert.equal(probe.resumes, probe.pauses, "and the next turn read again");
    assert.equal(probe.paused, false);
  });
});
