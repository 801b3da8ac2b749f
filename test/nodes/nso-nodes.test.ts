import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { tuple } from "../../src/nso/term/types";
import { AnyNode, called, load, nextMsg, NSO_NODES, text } from "../support/nso-nodes";

helper.init(nodeRedPath);

function flow(port: number, events: Record<string, unknown> = {}, extra: object[] = []): object[] {
  return [
    { id: "srv", type: "nso-server", host: "127.0.0.1", port, protoVsn: "auto", heartbeat: 0 },
    { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], routing: "single", autoAck: 0, wires: [["out"]], ...events },
    { id: "out", type: "helper" },
    ...extra,
  ];
}

/** Resolves once the simulator has no subscriber left. */
function noSubscribers(sim: RunningNsoSimulator): Promise<void> {
  if (sim.server.subscribers().length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (): void => {
      if (sim.server.subscribers().length === 0) {
        sim.server.off("closed", on);
        resolve();
      }
    };
    sim.server.on("closed", on);
  });
}

/**
 * Bounded wait for a condition that has no event: only used for the process's handle count,
 * which drops when libuv has closed a destroyed socket (asynchronously, with no callback to us).
 */
function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe("nso nodes (node-red-node-test-helper)", function () {
  this.timeout(20000);
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

  it("nso-events sends one message per notification: topic, payload, msg.nso", async () => {
    await load(flow(sim.port));
    await sim.server.waitForSubscribers(1);
    const out = helper.getNode("out") as unknown as AnyNode;
    const got = nextMsg(out);
    sim.server.inject({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: "hello" });
    const msg = await got;
    assert.equal(msg.topic, "NOTIF_AUDIT");
    assert.equal(msg.payload.msg, "hello");
    assert.deepEqual(msg.nso, { type: 1, typeName: "NOTIF_AUDIT", server: `127.0.0.1:${sim.port}` });
    assert.equal(msg.ack, undefined);
  });

  it("a web session's clear-text password (uinfo clearpass) never reaches the message", async () => {
    await load(flow(sim.port, { notifications: ["NOTIF_USER_SESSION"] }));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(helper.getNode("out") as unknown as AnyNode);
    sim.server.inject({ type: "NOTIF_USER_SESSION", session_type: 1, uinfo: { usid: 61, username: "oper", clearpass: "hunter2", context: "webui", proto: 7 } });
    const msg = await got;
    assert.equal(msg.topic, "NOTIF_USER_SESSION");
    assert.ok(!JSON.stringify(msg).includes("hunter2"));
  });

  it("two nso-events nodes on one server share one subscription and each get only their types", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "e1", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], routing: "single", wires: [["o1"]] },
      { id: "e2", type: "nso-events", server: "srv", notifications: ["NOTIF_USER_SESSION"], routing: "single", wires: [["o2"]] },
      { id: "o1", type: "helper" },
      { id: "o2", type: "helper" },
    ]);
    const [sub] = await sim.server.waitForSubscribers(1);
    assert.equal(sub.mask, 1 | 32);
    const got1: string[] = [];
    const got2: string[] = [];
    (helper.getNode("o1") as unknown as AnyNode).on("input", (m: { topic: string }) => got1.push(m.topic));
    (helper.getNode("o2") as unknown as AnyNode).on("input", (m: { topic: string }) => got2.push(m.topic));
    sim.server.inject({ type: "NOTIF_AUDIT" });
    sim.server.inject({ type: "NOTIF_USER_SESSION" });
    sim.server.inject({ type: "NOTIF_AUDIT" });
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (got1.length === 2 && got2.length === 1) resolve();
      };
      (helper.getNode("o1") as unknown as AnyNode).on("input", check);
      (helper.getNode("o2") as unknown as AnyNode).on("input", check);
      check();
    });
    assert.deepEqual([got1, got2], [["NOTIF_AUDIT", "NOTIF_AUDIT"], ["NOTIF_USER_SESSION"]]);
    assert.equal(sim.server.subscribers().length, 1);
  });

  it("routing by type: one labelled output per type, plus other", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      {
        id: "ev",
        type: "nso-events",
        server: "srv",
        notifications: ["NOTIF_AUDIT", "NOTIF_USER_SESSION"],
        routing: "type",
        outputs: 3,
        wires: [["a"], ["u"], ["o"]],
      },
      { id: "a", type: "helper" },
      { id: "u", type: "helper" },
      { id: "o", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const u = nextMsg(helper.getNode("u") as unknown as AnyNode);
    const a = nextMsg(helper.getNode("a") as unknown as AnyNode);
    const o = nextMsg(helper.getNode("o") as unknown as AnyNode);
    sim.server.inject({ type: "NOTIF_USER_SESSION", session_type: 1 });
    sim.server.inject({ type: "NOTIF_AUDIT" });
    sim.server.injectTerm(tuple(777777));
    assert.equal((await u).topic, "NOTIF_USER_SESSION");
    assert.equal((await a).topic, "NOTIF_AUDIT");
    assert.equal((await o).topic, "NOTIF_UNKNOWN");
  });

  it("commit diff -> nso-ack: the ack reaches NSO and the message is passed on", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], routing: "single", autoAck: 0, wires: [["ack"]] },
      { id: "ack", type: "nso-ack", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(helper.getNode("out") as unknown as AnyNode);
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th: 77 });
    assert.deepEqual(await r.done, ["acked"]);
    const msg = await got;
    assert.equal(msg.topic, "NOTIF_COMMIT_DIFF");
    assert.equal(msg.ack.kind, "diff");
  });

  it("auto-ack fires when the flow does not ack, and warns", async () => {
    await load(flow(sim.port, { notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0.05 }));
    await sim.server.waitForSubscribers(1);
    const ev = helper.getNode("ev") as unknown as AnyNode;
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF" });
    assert.deepEqual(await r.done, ["acked"]);
    await called(ev, "warn", (a) => /auto-acked NOTIF_COMMIT_DIFF/.test(text(a[0])));
  });

  it("an ack for a connection that is gone is a clear error, and the message is not passed on", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], routing: "single", autoAck: 0, wires: [["hold"]] },
      { id: "hold", type: "helper" },
      { id: "ack", type: "nso-ack", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const held = nextMsg(helper.getNode("hold") as unknown as AnyNode);
    sim.server.inject({ type: "NOTIF_COMMIT_DIFF" });
    const msg = await held;
    const srv = helper.getNode("srv") as unknown as AnyNode;
    sim.server.dropConnections();
    await noSubscribers(sim);
    if (srv.client!.lifecycle.state === "connected")
      await new Promise((r) => (srv.client as unknown as { lifecycle: NodeJS.EventEmitter }).lifecycle.once("state", r));
    const ackNode = helper.getNode("ack") as unknown as AnyNode;
    let passed = false;
    (helper.getNode("out") as unknown as AnyNode).on("input", () => (passed = true));
    ackNode.receive(msg);
    await called(ackNode, "error", () => true);
    assert.match(String((ackNode.error.getCalls()[0].args[0] as Error).message ?? ackNode.error.getCalls()[0].args[0]), /no longer exists/);
    assert.equal(passed, false);
    ackNode.receive({ payload: 1 });
    await called(ackNode, "error", (a) => /not an ack token/.test(text(a[0])));
    assert.match(String((ackNode.error.getCalls()[1].args[0] as Error).message ?? ackNode.error.getCalls()[1].args[0]), /not an ack token/);
  });

  it("twenty redeploys leak no sockets, subscribers, listeners or timers", async () => {
    const resources = (): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    const f = flow(sim.port, { notifications: ["NOTIF_AUDIT", "NOTIF_COMMIT_DIFF"], autoAck: 5 });
    await load(f);
    await sim.server.waitForSubscribers(1);
    await helper.unload();
    await noSubscribers(sim);
    const before = resources();
    for (let i = 0; i < 20; i++) {
      await load(f);
      await sim.server.waitForSubscribers(1);
      const srv = helper.getNode("srv") as unknown as AnyNode & { client: { listenerCount(e: string): number } };
      assert.equal(srv.client.listenerCount("notification"), 1);
      await helper.unload();
      await noSubscribers(sim);
    }
    await until(() => (resources().TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0), "sockets to close");
    const after = resources();
    assert.ok((after.TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0), `sockets: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
    assert.ok((after.Timeout ?? 0) <= (before.Timeout ?? 0) + 2, `timers: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
  });

  it("the IPC secret comes from the credentials; a wrong one shows a red status with the reason", async () => {
    await sim.close();
    sim = await startNsoSimulator({ port: 0, secret: Buffer.from("s3cret\n") });
    const f = [
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0, accessCheck: "sha256" },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], wires: [[]] },
    ];
    await helper.load(NSO_NODES, f, { srv: { secret: "s3cret\n" } });
    await sim.server.waitForSubscribers(1);
    await helper.unload();
    await helper.load(NSO_NODES, f, { srv: { secret: "wrong" } });
    const ev = helper.getNode("ev") as unknown as AnyNode & { status: { getCalls(): Array<{ args: Array<{ fill?: string; text?: string }> }> } };
    await called(ev, "status", (a) => a[0]?.fill === "red" && /wrong secret/.test(a[0]?.text ?? ""));
    assert.equal(sim.server.subscribers().length, 0);
  });

  it("a bad nso-server setting is a clear error on the node and its users, not a crash", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: "not-a-port" },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], wires: [[]] },
    ]);
    const srv = helper.getNode("srv") as unknown as AnyNode;
    assert.ok(srv.error.calledWithMatch(/port must be a whole number/));
    const ev = helper.getNode("ev") as unknown as AnyNode & { status: { getCalls(): Array<{ args: Array<{ fill?: string; text?: string }> }> } };
    await called(ev, "status", (a) => a[0]?.fill === "red" && /port must/.test(a[0]?.text ?? ""));
  });

  it("a malformed frame from NSO is reported to Catch nodes with a message, and the flow keeps running", async () => {
    await load(flow(sim.port));
    await sim.server.waitForSubscribers(1);
    const ev = helper.getNode("ev") as unknown as AnyNode;
    sim.server.injectBytes(Buffer.from([0, 0, 0, 3, 131, 104, 9]));
    await called(ev, "error", (a) => a[1]?.topic === "nso-dropped" && typeof a[1]?.payload?.code === "string");
    const got = nextMsg(helper.getNode("out") as unknown as AnyNode);
    sim.server.inject({ type: "NOTIF_AUDIT", msg: "still here" });
    assert.equal((await got).payload.msg, "still here");
  });

  it("a missing server or an empty type list is a clear error, not a crash", async () => {
    await load([{ id: "ev", type: "nso-events", server: "nope", notifications: [], wires: [[]] }]);
    const ev = helper.getNode("ev") as unknown as AnyNode;
    assert.ok(ev.error.calledWithMatch(/no nso-server/));
  });

  it("stream events without a stream name are refused at deploy, not subscribed to silently", async () => {
    await load(flow(sim.port, { notifications: ["NOTIF_AUDIT", "NOTIF_STREAM_EVENT"], stream: "  " }));
    const ev = helper.getNode("ev") as unknown as AnyNode;
    assert.ok(ev.error.calledWithMatch(/NOTIF_STREAM_EVENT needs a stream name/));
    // Nothing registered with the server: no connection was opened for a node that cannot work.
    assert.equal(sim.server.subscribers().length, 0);
  });
});
