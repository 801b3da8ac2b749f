import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import type { Node, NodeAPI, NodeMessage } from "node-red";
import { nodeRedPath } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import { FlowStats, valveNode, valves, withHooks } from "../support/flow-probe";
import { NSO_NODES } from "../support/nso-nodes";
import { FlowWindow, FlowWindowOptions } from "../../src/nodes/lib/flow-window";
import { DEFAULT_WINDOW, WINDOW_OFF, windowSetting } from "../../src/nodes/lib/window-setting";
import sysadmServer from "../../src/nodes/sysadm-server";
import sysadmEvents from "../../src/nodes/sysadm-events";
import { RunningSysadmSimulator, startSysadmSimulator } from "../../src/sim/sysadm";
import { RunningNsoSimulator, startNsoSimulator } from "../../src/sim/nso";
import type { SysadmClient } from "../../src/sysadm";
import type { NsoClient } from "../../src/nso/client";

helper.init(nodeRedPath);

// Window 0 is "off" (issue 11): no flow control, every message straight to node.send as before
// the window existed. The flows here finish nothing (a closed valve), so a window of any size
// would stop at that size; with the window off everything reaches the flow and nothing is paused.

describe("window setting: 0 is off", function () {
  it("0 (number or text) is off; blank, negative, fractional and nonsense fall back to the default, never to off", function () {
    assert.equal(windowSetting(0), WINDOW_OFF);
    assert.equal(windowSetting("0"), WINDOW_OFF);
    assert.equal(windowSetting(" 0 "), WINDOW_OFF);
    assert.equal(windowSetting(25), 25);
    assert.equal(windowSetting("25"), 25);
    for (const v of [undefined, null, "", "  ", -1, "-1", 1.5, "abc", NaN, Infinity]) assert.equal(windowSetting(v), DEFAULT_WINDOW, `${String(v)}`);
    // Nonsense is said (once per node, with what is used instead); a blank field is just the default.
    const said: string[] = [];
    for (const v of [undefined, null, "", "  "] as unknown[]) windowSetting(v, (t) => said.push(t));
    assert.equal(said.length, 0);
    assert.equal(
      windowSetting("abc", (t) => said.push(t)),
      DEFAULT_WINDOW,
    );
    assert.deepEqual(said, [`the window must be a whole number (0: no flow control), got abc; using ${DEFAULT_WINDOW}`]);
  });
});

interface SourceProbe {
  win?: FlowWindow;
  /** node.send calls made before the input handler returned (synchronously with win.send). */
  sentInHandler: number;
  finished: number;
  pauses: number;
}
const probe: SourceProbe = { sentInHandler: 0, finished: 0, pauses: 0 };

function sourceNode(RED: NodeAPI) {
  function OffSource(this: Node, config: { count: number; window: FlowWindowOptions }) {
    RED.nodes.createNode(this, config as never);
    let sends = 0;
    const send = this.send.bind(this);
    this.send = (m: NodeMessage) => {
      sends++;
      send(m);
    };
    const win = new FlowWindow(RED, this, config.window, { pause: () => probe.pauses++, resume: () => undefined });
    probe.win = win;
    this.on("input", (_msg: NodeMessage, _send: unknown, done: () => void) => {
      for (let i = 0; i < config.count; i++) {
        const m = { payload: i } as NodeMessage;
        win.send(m, m, { onFinished: () => probe.finished++ });
      }
      probe.sentInHandler = sends;
      done();
    });
    this.on("close", () => win.close());
  }
  RED.nodes.registerType("off-source", OffSource as never);
}

describe("FlowWindow with window 0 (off) in Node-RED's routing", function () {
  this.timeout(20000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => Object.assign(probe, { win: undefined, sentInHandler: 0, finished: 0, pauses: 0 }));
  afterEach(() => helper.unload());

  it("off: every message goes to node.send at once, the reader is never paused, the flow gets all of them although it finishes none", async () => {
    await helper.load(
      [withHooks(sourceNode), valveNode] as never,
      [
        { id: "src", type: "off-source", count: 500, window: { window: 0, mode: "hold" }, wires: [["valve"]] },
        { id: "valve", type: "fc-valve" },
      ] as never,
    );
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("all 500 at the valve", () => (valves.get("valve")?.held ?? 0) === 500);
    assert.equal(probe.sentInHandler, 500, "sent synchronously, no slices");
    assert.equal(probe.finished, 500, "counted finished as sent (nothing tracked)");
    assert.equal(probe.pauses, 0);
    const s = probe.win!.stats;
    assert.deepEqual(
      { window: s.window, inFlight: s.inFlight, queued: s.queued, paused: s.paused, dropped: s.dropped },
      { window: 0, inFlight: 0, queued: 0, paused: false, dropped: 0 },
    );
  });

  it("the same flow with a window of 20 holds at 20 and pauses the reader (what off turns off)", async () => {
    await helper.load(
      [withHooks(sourceNode), valveNode] as never,
      [
        { id: "src", type: "off-source", count: 500, window: { window: 20, mode: "hold" }, wires: [["valve"]] },
        { id: "valve", type: "fc-valve" },
      ] as never,
    );
    helper.getNode("src").receive({ payload: "go" });
    await waitFor("20 at the valve", () => (valves.get("valve")?.held ?? 0) === 20);
    assert.equal(probe.sentInHandler, 0, "sent in slices after the handler returned");
    assert.ok(probe.pauses >= 1);
    assert.equal(probe.win!.stats.queued, 480);
    valves.get("valve")!.open();
    await waitFor("the rest once the valve opens", () => probe.finished === 500);
  });
});

const flowStats = (id: string): FlowStats => (helper.getNode(id) as unknown as { flowStats(): FlowStats }).flowStats();

describe("sysadm-events with window 0: no flow control, as before", function () {
  this.timeout(30000);
  let sim: RunningSysadmSimulator | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim?.close();
    sim = undefined;
  });

  it("a flood reaches a flow that finishes nothing, the connection never stops reading", async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
    await helper.load(
      [sysadmServer, withHooks(sysadmEvents), valveNode] as never,
      [
        { id: "s1", type: "sysadm-server", url: sim.server.wsUrl, keepalive: 60 },
        { id: "e1", type: "sysadm-events", server: "s1", events: "dispatcher", routing: "single", window: "0", wires: [["valve"]] },
        { id: "valve", type: "fc-valve" },
      ] as never,
      { s1: { username: "demo", password: "demo-password" } },
    );
    await waitFor("subscribed", () => sim!.server.subscribers("dispatcher") === 1);
    const n = 3000;
    await sim.server.flood(n, "dispatcher", (i: number) => ({ process_id: `p${i}`, state: "running" }));
    await waitFor("all events at the valve", () => (valves.get("valve")?.held ?? 0) === n, 20000);
    const client = (helper.getNode("s1") as unknown as { hub: { client: SysadmClient } }).hub.client;
    assert.equal(client.stats.pauses, 0, "never paused");
    assert.equal(flowStats("e1").window, 0);
    assert.equal(flowStats("e1").inFlight, 0);
  });
});

describe("nso-events with window 0: no flow control, as before", function () {
  this.timeout(30000);
  let sim: RunningNsoSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startNsoSimulator({ port: 0 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("a flood reaches a flow that finishes nothing, the socket is never paused, no warning about the setting", async () => {
    const [nsoServerNode, nsoEventsNode] = NSO_NODES;
    await helper.load(
      [nsoServerNode, withHooks(nsoEventsNode), valveNode] as never,
      [
        { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
        { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], window: 0, wires: [["valve"]] },
        { id: "valve", type: "fc-valve" },
      ] as never,
    );
    await sim.server.waitForSubscribers(1);
    const n = 3000;
    const flood = await sim.server.flood((i) => ({ type: "NOTIF_AUDIT", logno: 1, usid: 59, user: "admin", msg: `${i}` }), n);
    await waitFor("all audits at the valve", () => (valves.get("valve")?.held ?? 0) === n, 20000);
    const client = (helper.getNode("srv") as unknown as { client: NsoClient }).client;
    assert.equal(client.readPauses, 0, "never paused");
    assert.equal(flood.written, n);
    assert.equal(flowStats("ev").window, 0);
    const warn = (helper.getNode("ev") as unknown as { warn: { getCalls(): Array<{ args: unknown[] }> } }).warn;
    assert.ok(!warn.getCalls().some((c) => String(c.args[0]).includes("window")), "0 is a valid window");
  });
});
