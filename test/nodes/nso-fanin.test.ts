import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { DEMO_DIFF } from "../../src/sim/nso/maapi";
import { called, load, nextMsg, node, text } from "../support/nso-nodes";

/**
 * Several nso-events nodes on one nso-server selecting a blocking type (issue 10, item 2):
 * each message carries its own token, NSO gets one ack once every node that received the
 * notification has answered (nso-ack or its own auto-ack), and a commit's diff is read once
 * over MAAPI and handed to every node that reads it. "acked" from the simulator means our ack
 * released the commit, not its event-reply-timeout.
 */
helper.init(nodeRedPath);

/** Warnings logged by node `id` itself (the helper's spies are shared by all nodes). */
const warnings = (id: string): string[] =>
  (node(id).warn.getCalls() as Array<{ args: unknown[]; thisValue?: unknown }>).filter((c) => c.thisValue === node(id)).map((c) => text(c.args[0]));

const server = (port: number) => ({ id: "srv", type: "nso-server", host: "127.0.0.1", port, heartbeat: 0 });

describe("nso-events: several nodes on one server and one blocking notification", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;
  let acks: number;

  const start = async (eventReplyTimeoutMs: number): Promise<void> => {
    sim = await startNsoSimulator({ port: 0, eventReplyTimeoutMs });
    acks = 0;
    sim.server.on("ack", () => acks++);
  };

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("two nodes reading what changed, two nso-acks: both messages carry the full change list, MAAPI is read once, NSO gets one ack", async () => {
    await start(8000);
    await load([
      server(sim.port),
      { id: "e1", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, readDiff: true, wires: [["a1"]] },
      { id: "e2", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, readDiff: true, wires: [["a2"]] },
      { id: "a1", type: "nso-ack", wires: [["o1"]] },
      { id: "a2", type: "nso-ack", wires: [["o2"]] },
      { id: "o1", type: "helper" },
      { id: "o2", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const items = sim.server.maapi!.itemsSent;
    const got = Promise.all([nextMsg(node("o1")), nextMsg(node("o2"))]);
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 }, diff: DEMO_DIFF });
    const [m1, m2] = await got;
    assert.deepEqual(await r.done, ["acked"]);
    for (const m of [m1, m2]) {
      assert.equal(m.payload.truncated, false, JSON.stringify(m.payload.diffError));
      assert.equal(m.payload.changes.length, DEMO_DIFF.length);
    }
    assert.deepEqual(m1.payload.changes, m2.payload.changes);
    assert.notEqual(m1.payload.changes, m2.payload.changes, "each message has its own copy");
    assert.notDeepEqual(m1.ack, m2.ack, "each message has its own token");
    assert.equal(sim.server.maapi!.itemsSent - items, DEMO_DIFF.length, "the diff was read once");
    assert.equal(acks, 1);
    assert.equal(node("a1").error.getCalls().length + node("a2").error.getCalls().length, 0);
  });

  it("NSO is not released while one of the two nodes has not answered", async () => {
    await start(1500);
    await load([
      server(sim.port),
      { id: "e1", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, wires: [["a1"]] },
      { id: "e2", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, wires: [["hold"]] },
      { id: "a1", type: "nso-ack", wires: [["o1"]] },
      { id: "o1", type: "helper" },
      { id: "hold", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const answered = nextMsg(node("o1"));
    const held = nextMsg(node("hold"));
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    await answered;
    await held;
    // e2 never answers and has no auto-ack: only NSO's own event-reply-timeout ends the wait.
    assert.deepEqual(await r.done, ["timeout"]);
    assert.equal(acks, 0);
  });

  it("one node with nso-ack, one relying on its auto-ack: NSO is released after both, the auto-ack is told to its own node only", async () => {
    await start(8000);
    await load([
      server(sim.port),
      { id: "e1", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, wires: [["a1"]] },
      { id: "e2", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0.3, wires: [[]] },
      { id: "a1", type: "nso-ack", wires: [["o1"]] },
      { id: "o1", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const order: string[] = [];
    sim.server.on("ack", () => order.push("NSO released"));
    const answered = nextMsg(node("o1")).then(() => order.push("e1 acked"));
    const warned = called(node("e2"), "warn", () => warnings("e2").some((w) => /auto-acked NOTIF_COMMIT_DIFF/.test(w))).then(() => order.push("e2 auto-acked"));
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    assert.deepEqual(await r.done, ["acked"]);
    await answered;
    await warned;
    assert.deepEqual(order, ["e1 acked", "e2 auto-acked", "NSO released"]);
    assert.deepEqual(warnings("e1"), []);
    assert.equal(acks, 1);
  });

  it("synced audit on two nodes: each has its own token, NSO gets one audit sync after both", async () => {
    await start(8000);
    await load([
      server(sim.port),
      { id: "e1", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT", "NOTIF_AUDIT_SYNC"], autoAck: 0, wires: [["a1"]] },
      { id: "e2", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT", "NOTIF_AUDIT_SYNC"], autoAck: 0, wires: [["a2"]] },
      { id: "a1", type: "nso-ack", wires: [["o1"]] },
      { id: "a2", type: "nso-ack", wires: [["o2"]] },
      { id: "o1", type: "helper" },
      { id: "o2", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = Promise.all([nextMsg(node("o1")), nextMsg(node("o2"))]);
    const r = sim.server.inject({ type: "NOTIF_AUDIT", usid: 59, msg: "audit line" });
    const [m1, m2] = await got;
    assert.deepEqual(await r.done, ["acked"]);
    assert.equal(m1.ack.kind, "audit");
    assert.notDeepEqual(m1.ack, m2.ack);
    assert.equal(acks, 1);
  });
});
