import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { called, NSO_NODES, nextMsg, node, text } from "../support/nso-nodes";
import { cardOf, healthProbe } from "../support/health-cards";
import { metricsText } from "../../src/nodes/lib/health-metrics";
import type { AckFigures } from "../../src/nodes/lib/health";
import { waitFor } from "../support/wait";

/**
 * The NSO card's acks (docs/health.md, "Acks (NSO)") from real acks on the simulator: blocking
 * commit diffs held open by the flow, answered by nso-ack one by one, and a share answered by
 * another node's auto-ack. "acked" from the simulator means our ack released the commit.
 */
helper.init(nodeRedPath);

const acksOf = (id: string): AckFigures => cardOf(id).details.acks as AckFigures;
const answered = (flow: number, auto: number) => ({ flow, auto, evicted: 0, unwanted: 0 });

describe("health view: an nso-server's acks as the flow and auto-ack answer them", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    // Long enough that NSO never gives up waiting during a test (that would end the socket).
    sim = await startNsoSimulator({ port: 0, eventReplyTimeoutMs: 15000 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  const load = (f: object[]): Promise<void> => helper.load([...NSO_NODES, healthProbe] as never, f as never);
  const server = () => ({ id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 });
  const commit = () => sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
  /** Every message `id` receives, in order. */
  const collect = (id: string): Array<Record<string, any>> => {
    const got: Array<Record<string, any>> = [];
    node(id).on("input", (m: Record<string, any>) => got.push(m));
    return got;
  };

  it("pending shares go down and 'answered by the flow' up as nso-ack answers each commit", async () => {
    await load([
      server(),
      // No auto-ack: only the flow answers. The messages wait at `hold` until the test acks them.
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, wires: [["hold"]] },
      { id: "hold", type: "helper" },
      { id: "ack", type: "nso-ack", wires: [["acked"]] },
      { id: "acked", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const held = collect("hold");
    const acked = collect("acked");
    const commits = [commit(), commit(), commit()];
    await waitFor("three commits at the flow", () => held.length === 3);
    assert.deepEqual(acksOf("srv"), { pending: 3, answered: answered(0, 0) });

    node("ack").receive(held[0]);
    node("ack").receive(held[1]);
    await waitFor("two nso-ack answers", () => acked.length === 2);
    assert.deepEqual(await commits[0].done, ["acked"]);
    assert.deepEqual(await commits[1].done, ["acked"]);
    assert.deepEqual(acksOf("srv"), { pending: 1, answered: answered(2, 0) });

    node("ack").receive(held[2]);
    assert.deepEqual(await commits[2].done, ["acked"]);
    assert.deepEqual(acksOf("srv"), { pending: 0, answered: answered(3, 0) });
    // The metrics say the same.
    const metrics = metricsText({ at: "", connections: [cardOf("srv")] });
    assert.match(metrics, /^infra_events_acks_total\{[^}]*outcome="flow"\} 3$/m);
    assert.match(metrics, /^infra_events_acks_pending\{[^}]*\} 0$/m);
    assert.match(metrics, /^infra_events_auto_acks_total\{[^}]*\} 0$/m);
  });

  it("a share answered by auto-ack counts as auto, the other node's stays pending until its nso-ack", async () => {
    await load([
      server(),
      { id: "e1", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0, wires: [["hold"]] },
      // Its flow never answers: its auto-ack does, after 0.3 s.
      { id: "e2", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 0.3, wires: [["sink"]] },
      { id: "hold", type: "helper" },
      { id: "sink", type: "helper" },
      { id: "ack", type: "nso-ack", wires: [["acked"]] },
      { id: "acked", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("hold"));
    const autoAcked = called(node("e2"), "warn", (a) => /auto-acked NOTIF_COMMIT_DIFF/.test(text(a[0])));
    const c = commit();
    const m = await got;
    await autoAcked;
    // One notification, two shares: e2's answered by its auto-ack, e1's still open, NSO still held.
    assert.deepEqual(acksOf("srv"), { pending: 1, answered: answered(0, 1) });
    const released = nextMsg(node("acked"));
    node("ack").receive(m);
    await released;
    assert.deepEqual(await c.done, ["acked"]);
    assert.deepEqual(acksOf("srv"), { pending: 0, answered: answered(1, 1) });
    assert.match(metricsText({ at: "", connections: [cardOf("srv")] }), /^infra_events_auto_acks_total\{[^}]*\} 1$/m);
  });
});
