import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import controllerNode from "../../src/nodes/apic-controller";
import eventsNode from "../../src/nodes/apic-events";
import { APIC_SIM_DEFAULT_PASSWORD, APIC_SIM_DEFAULT_PORT, APIC_SIM_DEFAULT_USER, startApicSimulator, StartedApicSimulator } from "../../src/sim/apic";
import { waitOn } from "../support/wait";

helper.init(nodeRedPath);

type FlowNode = {
  id: string;
  type: string;
  wires?: string[][];
  credentials?: Record<string, string>;
  props?: Array<{ p: string; v?: string }>;
  payload?: string;
  payloadType?: string;
  [k: string]: unknown;
};
const root = path.join(__dirname, "../..");
const example = (name: string): FlowNode[] => JSON.parse(readFileSync(path.join(root, "examples", name), "utf8"));

/**
 * The example as the test runtime can load it: debug nodes become helper nodes (to observe),
 * inject/comment nodes are left out (the test sends what the inject would), and the
 * controller points at this test's simulator on its ephemeral port.
 */
function loadable(flow: FlowNode[], url: string): { nodes: FlowNode[]; creds: Record<string, Record<string, string>>; debug: string[]; injects: FlowNode[] } {
  const nodes: FlowNode[] = [];
  const creds: Record<string, Record<string, string>> = {};
  const debug: string[] = [];
  for (const n of flow) {
    if (n.type === "apic-controller") {
      creds[n.id] = { username: APIC_SIM_DEFAULT_USER, password: APIC_SIM_DEFAULT_PASSWORD };
      nodes.push({ ...n, hosts: url });
    } else if (n.type === "debug") {
      debug.push(n.id);
      nodes.push({ id: n.id, type: "helper", z: n.z });
    } else if (n.type === "apic-events" || n.type === "tab") {
      nodes.push(n);
    }
  }
  return { nodes, creds, debug, injects: flow.filter((n) => n.type === "inject") };
}

class Sink extends EventEmitter {
  got: Array<{ at: string; msg: { topic: string; payload: any; apic: any } }> = [];
  constructor(ids: string[]) {
    super();
    for (const id of ids) {
      (helper.getNode(id) as unknown as EventEmitter).on("input", (msg: Sink["got"][number]["msg"]) => {
        this.got.push({ at: id, msg });
        this.emit("msg");
      });
    }
  }
  until(check: () => boolean, what: string): Promise<void> {
    return waitOn(this, "msg", check, what, 5000);
  }
}

describe("apic examples (as shipped, against the simulator's defaults)", function () {
  this.timeout(15000);
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

  for (const name of ["apic-tenant-changes.json", "apic-faults-by-status.json", "apic-dynamic-subscription.json"]) {
    it(`${name} points at the demo simulator and carries no secret`, () => {
      const ctl = example(name).find((n) => n.type === "apic-controller")!;
      assert.equal(ctl.hosts, `http://127.0.0.1:${APIC_SIM_DEFAULT_PORT}`);
      assert.equal(ctl.credentials, undefined);
      assert.ok(
        example(name).some((n) => n.type === "comment"),
        "has a comment node",
      );
    });
  }

  it("the simulator's default login is the one npm start gives apic-controller", () => {
    const demo = readFileSync(path.join(root, "scripts/demo.js"), "utf8");
    const m = /"apic-controller":\s*\{\s*username:\s*"([^"]*)",\s*password:\s*"([^"]*)"/.exec(demo);
    assert.ok(m, "scripts/demo.js names apic-controller credentials");
    assert.deepEqual([m[1], m[2]], [APIC_SIM_DEFAULT_USER, APIC_SIM_DEFAULT_PASSWORD]);
  });

  it("tenant changes: the trickle's tenant changes reach the debug node", async () => {
    const f = loadable(example("apic-tenant-changes.json"), sim.url);
    await helper.load([controllerNode, eventsNode] as never, f.nodes, f.creds);
    const sink = new Sink(f.debug);
    await sink.until(() => sink.got.length === 5, "current tenants");
    for (let i = 0; i < 8; i++) sim.trickle.step();
    await sink.until(() => sink.got.some((g) => g.msg.apic.status === "created" && /uni\/tn-dev/.test(g.msg.apic.dn)), "a created tenant");
    assert.ok(sink.got.every((g) => g.msg.topic === "fvTenant"));
  });

  it("faults by status: raised, changed and cleared faults land on their outputs", async () => {
    const f = loadable(example("apic-faults-by-status.json"), sim.url);
    await helper.load([controllerNode, eventsNode] as never, f.nodes, f.creds);
    const sink = new Sink(f.debug);
    await sink.until(() => sink.got.length === 1, "the seeded fault as sync");
    assert.equal(sink.got[0].at, "apic-ex2-d3");
    // Enough steps for faults to be raised, advance through their lifecycle and be deleted.
    for (let i = 0; i < 60; i++) sim.trickle.step();
    await sink.until(
      () => ["apic-ex2-d0", "apic-ex2-d1", "apic-ex2-d2"].every((id) => sink.got.some((g) => g.at === id)),
      "created, modified and deleted faults",
    );
    const at = (id: string) => sink.got.filter((g) => g.at === id).map((g) => g.msg.apic.status);
    assert.ok(at("apic-ex2-d0").every((s) => s === "created"));
    assert.ok(at("apic-ex2-d1").every((s) => s === "modified"));
    assert.ok(at("apic-ex2-d2").every((s) => s === "deleted"));
    assert.ok(sink.got.some((g) => g.at === "apic-ex2-d1" && g.msg.payload.severity === "cleared"));
  });

  it("dynamic subscription: what the inject nodes send subscribes, lists and unsubscribes", async () => {
    const f = loadable(example("apic-dynamic-subscription.json"), sim.url);
    await helper.load([controllerNode, eventsNode] as never, f.nodes, f.creds);
    const sink = new Sink(f.debug);
    const ev = helper.getNode("apic-ex3-ev");
    const send = (inj: FlowNode): void => {
      const action = inj.props!.find((p) => p.p === "action")!.v;
      ev.receive({ action, payload: inj.payloadType === "json" ? JSON.parse(inj.payload!) : Date.now() });
    };
    send(f.injects[0]);
    await sink.until(() => sink.got.filter((g) => g.msg.apic?.status === "sync").length === 2, "the two EPGs of demo");
    for (let i = 0; i < 4; i++) sim.trickle.step();
    await sink.until(() => sink.got.some((g) => g.msg.apic?.status === "created" && g.msg.topic === "fvAEPg"), "an EPG created by the trickle");
    send(f.injects[1]);
    await sink.until(() => sink.got.filter((g) => g.msg.topic === "subscriptions").length === 2, "list reply");
    send(f.injects[2]);
    await sink.until(() => sink.got.filter((g) => g.msg.topic === "subscriptions").length === 3, "unsubscribe reply");
    assert.deepEqual(sink.got.filter((g) => g.msg.topic === "subscriptions")[2].msg.payload, []);
  });
});
