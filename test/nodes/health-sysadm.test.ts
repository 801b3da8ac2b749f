import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import sysadmServer from "../../src/nodes/sysadm-server";
import sysadmEvents from "../../src/nodes/sysadm-events";
import { RunningSysadmSimulator, startSysadmSimulator } from "../../src/sim/sysadm";
import { cardOf, countByTopic, healthProbe } from "../support/health-cards";

/**
 * The health card of a real sysadm-server on the sysadm simulator (docs/health.md, "A card"):
 * the event types subscribed (also one added at run time), the server's cached events counted as
 * snapshots, and the events by type as the flow received them.
 */
helper.init(nodeRedPath);

type Msg = { topic: string; payload: unknown; sysadm: { snapshot: boolean } };
const CREDS = { s1: { username: "demo", password: "demo-password" } };

describe("health view: a sysadm-server's card on the simulator", function () {
  this.timeout(20000);
  let sim: RunningSysadmSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startSysadmSimulator({ reorder: "none" });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("shows the subscribed event types, the snapshots and the events by type the flow received", async () => {
    // Cached by the server: sent to a new subscriber first, as snapshots.
    sim.server.systemState({ capacity: 95 });
    sim.server.lifePreserver("replication-failed");
    await helper.load(
      [sysadmServer, sysadmEvents, healthProbe] as never,
      [
        { id: "s1", type: "sysadm-server", name: "truenas lab", url: sim.server.wsUrl, keepalive: 60 },
        { id: "e1", type: "sysadm-events", server: "s1", events: "life-preserver,system-state", routing: "single", outputs: 1, wires: [["h0"]] },
        { id: "h0", type: "helper" },
      ] as never,
      CREDS,
    );
    const got: Msg[] = [];
    helper.getNode("h0").on("input", (m: unknown) => got.push(m as Msg));
    await waitFor("the two snapshots", () => got.length === 2);
    for (const kind of ["snapshot", "replication-start", "replication-finished"] as const) sim.server.lifePreserver(kind);
    sim.server.systemState({ capacity: 40 });
    await waitFor("four live events", () => got.length === 6);

    let c = cardOf("s1");
    assert.equal(c.channel, "sysadm");
    assert.equal(c.name, "truenas lab");
    assert.equal(c.state, "connected");
    assert.equal(c.peer, sim.server.wsUrl);
    assert.deepEqual(c.details.subscriptions, ["life-preserver", "system-state"]);
    assert.equal(got.filter((m) => m.sysadm.snapshot).length, 2);
    assert.equal(c.details.snapshots, 2);
    assert.deepEqual(countByTopic(got), { "life-preserver": 4, "system-state": 2 });
    assert.deepEqual(c.events, { total: 6, byType: countByTopic(got) });

    // A type subscribed at run time shows on the card, and its events count under it.
    helper.getNode("e1").receive({ action: "subscribe", events: ["dispatcher"] });
    await waitFor("dispatcher subscribed", () => sim.server.subscribers("dispatcher") === 1);
    await sim.server.dispatcherJob("generic", 1);
    await waitFor("the job's two events", () => got.length === 8);
    c = cardOf("s1");
    assert.deepEqual(c.details.subscriptions, ["dispatcher", "life-preserver", "system-state"]);
    assert.deepEqual(countByTopic(got), { "life-preserver": 4, "system-state": 2, dispatcher: 2 });
    assert.deepEqual(c.events, { total: 8, byType: countByTopic(got) });
    assert.equal(c.details.snapshots, 2);
    assert.deepEqual(c.drops, { total: 0, byKind: {} });
    assert.deepEqual(
      c.flow.map((f) => f.id),
      ["e1"],
    );
  });
});
