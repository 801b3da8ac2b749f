import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import controllerNode from "../../src/nodes/apic-controller";
import eventsNode from "../../src/nodes/apic-events";
import { startApicSimulator, StartedApicSimulator } from "../../src/sim/apic";
import { waitFor } from "../support/wait";
import { cardOf, countByTopic, healthProbe } from "../support/health-cards";

/**
 * The health card of a real apic-controller on the APIC simulator (docs/health.md, "A card"):
 * each query with the subscription id APIC gave it and when it is refreshed next, a query APIC
 * refused with why, and the events by class as the flow received them.
 */
helper.init(nodeRedPath);

type Msg = { topic: string; payload: unknown; apic: { subscriptionIds: string[]; status: string } };

const REFRESH_S = 90;
const REFUSED = "/api/class/fvBD.json";
const creds = { ctl: { username: "admin", password: "demo-password" } };

const flow = (url: string): never =>
  [
    {
      id: "ctl",
      type: "apic-controller",
      name: "lab apic",
      hosts: url,
      domain: "",
      tls: "",
      refreshTimeout: String(REFRESH_S),
      pingInterval: "30",
      maxFrameSize: "",
    },
    {
      id: "ev",
      type: "apic-events",
      controller: "ctl",
      routing: "single",
      classes: "",
      outputs: 1,
      subscriptions: [
        { kind: "class", target: "fvTenant" },
        { kind: "class", target: "fvAp" },
        { kind: "class", target: "fvBD" },
      ],
      wires: [["out"]],
    },
    { id: "out", type: "helper" },
  ] as never;

describe("health view: an apic-controller's card on the simulator", function () {
  this.timeout(20000);
  let sim: StartedApicSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startApicSimulator();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("shows each query's subscription id and next refresh, a refused query's reason, and events by class as the flow got them", async () => {
    sim.sim.refuseQueries(REFUSED);
    const before = Date.now();
    await helper.load([controllerNode, eventsNode, healthProbe] as never, flow(sim.url), creds);
    const got: Msg[] = [];
    helper.getNode("out").on("input", (m: unknown) => got.push(m as Msg));
    // The simulator's snapshot: 5 tenants, 2 application profiles.
    await waitFor("both snapshots", () => got.length === 7);
    sim.sim.create("fvTenant", "uni/tn-h1", { name: "h1" });
    sim.sim.create("fvTenant", "uni/tn-h2", { name: "h2" });
    sim.sim.modify("uni/tn-h1", { descr: "changed" });
    sim.sim.create("fvAp", "uni/tn-h1/ap-web", { name: "web" });
    sim.sim.delete("uni/tn-h2");
    await waitFor("the five changes", () => got.length === 12);
    const atCheck = Date.now();

    const c = cardOf("ctl");
    assert.equal(c.channel, "apic");
    assert.equal(c.name, "lab apic");
    assert.equal(c.state, "connected");
    assert.equal(c.peer, sim.url);
    const byTopic = countByTopic(got);
    assert.deepEqual(byTopic, { fvTenant: 9, fvAp: 3 });
    assert.deepEqual(c.events, { total: 12, byType: byTopic });

    type Sub = { query: string; id: string | null; nextRefresh: string | null; error: string | null };
    const subs = c.details.subscriptions as Sub[];
    assert.deepEqual(
      subs.map((s) => s.query),
      ["/api/class/fvTenant.json", "/api/class/fvAp.json", REFUSED],
    );
    const [tenants, aps, refused] = subs;
    // The ids are the ones APIC holds and the flow's messages carry.
    const live = sim.sim.subscriptionIds();
    const idsOf = (topic: string): string[] => [...new Set(got.filter((m) => m.topic === topic).flatMap((m) => m.apic.subscriptionIds))];
    assert.deepEqual(idsOf("fvTenant"), [tenants.id]);
    assert.deepEqual(idsOf("fvAp"), [aps.id]);
    assert.notEqual(tenants.id, aps.id);
    assert.deepEqual([...live].sort(), [tenants.id, aps.id].sort());
    for (const s of [tenants, aps]) {
      assert.equal(s.error, null);
      // Refreshed at half the refresh timeout after it was subscribed (within this test's run).
      const next = Date.parse(s.nextRefresh ?? "");
      assert.ok(next >= before + (REFRESH_S * 1000) / 2 && next <= atCheck + (REFRESH_S * 1000) / 2, `${s.query}: next refresh ${s.nextRefresh}`);
    }
    assert.equal(refused.id, null);
    assert.equal(refused.nextRefresh, null);
    assert.match(refused.error ?? "", /refused by the simulator/);
    assert.equal(c.details.renewals, 0);
    assert.deepEqual(c.drops, { total: 0, byKind: {} });
    assert.equal(c.flow.length, 1);
    assert.equal(c.flow[0].id, "ev");
  });
});
