import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import type { NodeAPI } from "node-red";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { NSO_NODES } from "../support/nso-nodes";
import { waitFor } from "../support/wait";

/**
 * Redeploys while NSO sends notifications (issue 10, item 8): every notification is either
 * delivered or lies in a window a gap message announced on the new node. A "modified nodes"
 * deploy restarts the nso-events node alone (the connection stays: what arrives meanwhile is
 * held for the new node); a full deploy replaces the nso-server and its socket too (what NSO
 * sent while no socket was subscribed is announced as a gap).
 */
helper.init(nodeRedPath);

type Seen = { topic: string; payload: any };
const seen: Seen[] = [];

/** A sink that outlives redeploys: every instance appends to the same list, in arrival order. */
function recorderNode(RED: NodeAPI): void {
  RED.nodes.registerType("recorder", function (this: any, config: any) {
    RED.nodes.createNode(this, config);
    this.on("input", (msg: Seen) => seen.push({ topic: msg.topic, payload: msg.payload }));
  } as never);
}

function flow(port: number, i: number): object[] {
  return [
    { id: "srv", type: "nso-server", host: "127.0.0.1", port, heartbeat: 0 },
    // The name changes every deploy: a "nodes" deploy restarts this node and only this one.
    { id: "ev", type: "nso-events", name: `events ${i}`, server: "srv", notifications: ["NOTIF_AUDIT"], wires: [["rec"]] },
    { id: "rec", type: "recorder" },
  ];
}

/**
 * Every injected number is delivered, once, in order; each one missing lies between two
 * delivered ones (or the ends) with a gap message in between.
 */
function check(injected: number): { delivered: number; missing: number; gaps: number } {
  const audits: Array<{ n: number; at: number }> = [];
  const gapAt: number[] = [];
  seen.forEach((m, at) => {
    if (m.topic === "gap") {
      gapAt.push(at);
      assert.equal(m.payload.channel, "nso");
      assert.equal(m.payload.filled, false);
      assert.ok(Date.parse(m.payload.since) <= Date.parse(m.payload.until), JSON.stringify(m.payload));
    } else if (m.topic === "NOTIF_AUDIT" && /^\d+$/.test(m.payload.msg)) audits.push({ n: Number(m.payload.msg), at });
  });
  for (let i = 1; i < audits.length; i++) assert.ok(audits[i].n > audits[i - 1].n, `out of order or twice: ${audits[i - 1].n} then ${audits[i].n}`);
  const pos = new Map(audits.map((a) => [a.n, a.at]));
  let missing = 0;
  for (let n = 1; n <= injected; n++) {
    if (pos.has(n)) continue;
    missing++;
    const before = audits.filter((a) => a.n < n).pop()?.at ?? -1;
    const after = audits.find((a) => a.n > n)?.at ?? seen.length;
    assert.ok(
      gapAt.some((g) => g > before && g < after),
      `notification ${n} was neither delivered nor announced by a gap message (messages ${before}..${after} of ${seen.length})`,
    );
  }
  return { delivered: audits.length, missing, gaps: gapAt.length };
}

describe("nso-events: redeploys while NSO is sending", function () {
  this.timeout(60000);
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

  for (const mode of ["nodes", "full"] as const) {
    it(`${mode === "full" ? "full" : "modified-nodes"} deploys: every notification is delivered or covered by a gap message on the new node`, async () => {
      await helper.load([...NSO_NODES, recorderNode] as never, flow(sim.port, 0) as never);
      await sim.server.waitForSubscribers(1);
      let injected = 0;
      const inject = (): void => {
        sim.server.inject({ type: "NOTIF_AUDIT", msg: String(++injected) });
      };
      // About one notification per millisecond, from this process, between and during deploys.
      const pump = setInterval(() => {
        for (let k = 0; k < 2; k++) inject();
      }, 1);
      try {
        for (let i = 1; i <= 25; i++) {
          await helper.setFlows(flow(sim.port, i) as never, mode);
          // Wait until the new node delivers before the next deploy.
          const mark = seen.length;
          await waitFor(`deploy ${i} to deliver`, () => seen.slice(mark).some((m) => m.topic === "NOTIF_AUDIT"), 10000);
        }
      } finally {
        clearInterval(pump);
      }
      // The last one, and then nothing is in flight any more.
      sim.server.inject({ type: "NOTIF_AUDIT", msg: "end" });
      await waitFor("the end marker", () => seen.some((m) => m.payload?.msg === "end"), 10000);
      const r = check(injected);
      assert.ok(r.delivered > 100, `only ${r.delivered} delivered`);
      if (mode === "full") assert.ok(r.gaps >= 1, "the socket was replaced: NSO sent nothing meanwhile");
    });
  }
});

describe("nso-events: a blocking notification that arrives while its node is being replaced", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;

  const flowWithAck = (port: number, name: string): object[] => [
    { id: "srv", type: "nso-server", host: "127.0.0.1", port, heartbeat: 0 },
    { id: "ev", type: "nso-events", name, server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, wires: [["ack"]] },
    { id: "ack", type: "nso-ack", wires: [["rec"]] },
    { id: "rec", type: "recorder" },
  ];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    seen.length = 0;
    sim = await startNsoSimulator({ port: 0, eventReplyTimeoutMs: 15000 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("is held for the new node, which gets a working token: its nso-ack releases the commit", async () => {
    await helper.load([...NSO_NODES, recorderNode] as never, flowWithAck(sim.port, "a") as never);
    await sim.server.waitForSubscribers(1);
    // The node is being restarted (Node-RED's close with removed = false); the commit arrives now.
    await (helper.getNode("ev") as unknown as { close(removed: boolean): Promise<void> }).close(false);
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    await helper.setFlows(flowWithAck(sim.port, "b") as never, "nodes");
    assert.deepEqual(await r.done, ["acked"]);
    await waitFor("the held commit to pass the new nso-ack", () => seen.some((m) => m.topic === "NOTIF_COMMIT_DIFF"));
  });

  it("is answered when no new node comes (the hold is bounded in time), not left to NSO's timeout", async () => {
    await helper.load([...NSO_NODES, recorderNode] as never, flowWithAck(sim.port, "a") as never);
    await sim.server.waitForSubscribers(1);
    await (helper.getNode("ev") as unknown as { close(removed: boolean): Promise<void> }).close(false);
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    assert.deepEqual(await r.done, ["acked"]);
    assert.deepEqual(seen, []);
  });
});
