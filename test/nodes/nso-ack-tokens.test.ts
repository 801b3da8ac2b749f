import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { called, load, nextMsg, node, text } from "../support/nso-nodes";

/**
 * Ack tokens settle exactly what they came from (issue 10, item 1): a token kept in a flow
 * across a full redeploy, a made-up token and a token whose kind was changed are refused with
 * an error a Catch node sees, and the commit that is open meanwhile is not released by them.
 */
helper.init(nodeRedPath);

function flow(port: number): object[] {
  return [
    { id: "srv", type: "nso-server", host: "127.0.0.1", port, heartbeat: 0 },
    { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], routing: "single", autoAck: 0, wires: [["hold"]] },
    { id: "hold", type: "helper" },
    { id: "ack", type: "nso-ack", wires: [["out"]] },
    { id: "out", type: "helper" },
  ];
}

/** Feed `msg` to the nso-ack node; resolves with the error it raised or "passed". */
async function ackWith(msg: object): Promise<string> {
  const ack = node("ack");
  const before = ack.error.getCalls().length;
  const passed = nextMsg(node("out")).then(() => "passed");
  const failed = called(ack, "error", () => ack.error.getCalls().length > before).then(() => {
    const c = ack.error.getCalls()[before];
    // done(err) is Node-RED's node.error(err, msg): the message goes with it, for a Catch node.
    assert.ok(c.args[1] && typeof c.args[1] === "object", "the error carries the message");
    return `error: ${(c.args[0] as { code?: string }).code ?? ""} ${text(c.args[0])}`;
  });
  ack.receive(msg);
  return Promise.race([passed, failed]);
}

describe("nso-ack: tokens that must not settle anything", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startNsoSimulator({ port: 0, eventReplyTimeoutMs: 8000 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("a token kept across a full redeploy is refused, and the new commit stays blocked until its own token", async () => {
    await load(flow(sim.port));
    await sim.server.waitForSubscribers(1);
    const first = nextMsg(node("hold"));
    const a = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    const kept = JSON.parse(JSON.stringify((await first).ack));
    // A full deploy of the same flow: every node, the nso-server included, is replaced.
    const resubscribed = new Promise((resolve) => sim.server.once("subscribed", resolve));
    await helper.setFlows(flow(sim.port) as never, "full");
    assert.deepEqual(await a.done, ["closed"], "the old socket went with the old config node");
    await resubscribed;
    // The new node first says what it may have missed while it was replaced (a gap message).
    const second = nextMsg(node("hold"), "NOTIF_COMMIT_DIFF");
    const b = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    const fresh = await second;
    assert.match(await ackWith({ ack: kept }), /^error: ack-connection-gone .*earlier connection/);
    // Had the kept token released commit B, B's own token would now be "already used".
    assert.equal(await ackWith(fresh), "passed");
    assert.deepEqual(await b.done, ["acked"]);
  });

  it("a made-up token, a token whose kind was changed, and an AMQP token are refused; the commit is not released by them", async () => {
    await load(flow(sim.port));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("hold"));
    const c = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    const msg = await got;
    const t = msg.ack;
    assert.match(await ackWith({ ack: { server: "srv", connection: "srv#1", kind: "diff", id: 1 } }), /^error: ack-unknown-connection .*never issued/);
    assert.match(await ackWith({ ack: { ...t, kind: "audit" } }), /^error: ack-wrong-kind /);
    assert.match(await ackWith({ ack: { ...t, kind: "amqp1-delivery" } }), /^error: ack-wrong-kind .*amqp1-ack/);
    assert.match(await ackWith({ ack: { ...t, id: t.id + 1 } }), /^error: ack-unknown /);
    assert.equal(await ackWith(msg), "passed");
    assert.deepEqual(await c.done, ["acked"]);
  });
});
