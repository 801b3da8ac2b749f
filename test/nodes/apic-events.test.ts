import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import type { Node } from "node-red";
import controllerNode from "../../src/nodes/apic-controller";
import eventsNode from "../../src/nodes/apic-events";
import { startApicSimulator, StartedApicSimulator } from "../../src/sim/apic";
import { waitFor, waitOn } from "../support/wait";

helper.init(nodeRedPath);

type Msg = { topic: string; payload: any; apic: { dn: string; status: string; class: string; subscriptionIds: string[]; controller: string; query: string } };
type Call = { args: any[]; thisValue: unknown };
type Status = { fill?: string; shape?: string; text?: string };

/** Calls of a Node method on one node: the helper spies on Node.prototype, shared by all nodes. */
function calls(id: string, fn: "status" | "error" | "warn"): Call[] {
  const n = helper.getNode(id);
  return (n as unknown as Record<string, { getCalls(): Call[] }>)[fn].getCalls().filter((c) => c.thisValue === n);
}
const statuses = (id: string): Status[] => calls(id, "status").map((c) => c.args[0] ?? {});
const errorsOf = (id: string): string[] => calls(id, "error").map((c) => String(c.args[0]));

/** Messages arriving at helper nodes, with a way to await them. */
class Sink extends EventEmitter {
  got: Array<{ port: string; msg: Msg }> = [];
  attach(ids: string[]): void {
    for (const id of ids) {
      (helper.getNode(id) as unknown as EventEmitter).on("input", (msg: Msg) => {
        this.got.push({ port: id, msg });
        this.emit("msg");
      });
    }
  }
  on_(port: string): Msg[] {
    return this.got.filter((g) => g.port === port).map((g) => g.msg);
  }
  until(check: (s: Sink) => boolean, what: string, ms = 5000): Promise<void> {
    return waitOn(this, "msg", () => check(this), what, ms);
  }
}

/** Resolve when the node has shown a matching status (the helper emits `call:status` per call). */
function untilStatus(id: string, match: (s: Status) => boolean, what: string, ms = 5000): Promise<void> {
  return waitOn(helper.getNode(id), "call:status", () => statuses(id).some(match), `status ${what}`, ms).catch((e: Error) => {
    throw new Error(`${e.message}; saw ${JSON.stringify(statuses(id))}`);
  });
}

function flow(url: string, ev: Record<string, unknown>, outputs = 1, ctl: Record<string, unknown> = {}): never {
  const wires = Array.from({ length: outputs }, (_v, i) => [`out${i}`]);
  return [
    { id: "ctl", type: "apic-controller", hosts: url, domain: "", tls: "", refreshTimeout: "", pingInterval: "1", maxFrameSize: "", ...ctl },
    { id: "ev", type: "apic-events", controller: "ctl", routing: "single", classes: "", outputs, wires, ...ev },
    ...Array.from({ length: outputs }, (_v, i) => ({ id: `out${i}`, type: "helper" })),
  ] as never;
}
const creds = { ctl: { username: "admin", password: "demo-password" } };
const outs = (n: number): string[] => Array.from({ length: n }, (_v, i) => `out${i}`);

describe("apic-controller + apic-events nodes (Node-RED runtime against the simulator)", function () {
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

  it("emits one message per change: topic = class, payload = attributes, msg.apic metadata", async () => {
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: [{ kind: "class", target: "fvTenant" }] }), creds);
    const sink = new Sink();
    sink.attach(outs(1));
    await sink.until((s) => s.got.length === 5, "snapshot");
    assert.ok(sink.got.every((g) => g.msg.apic.status === "sync"));
    sim.sim.create("fvTenant", "uni/tn-n1", { name: "n1", descr: "hello" });
    await sink.until((s) => s.got.length === 6, "created");
    const m = sink.got[5].msg;
    assert.equal(m.topic, "fvTenant");
    assert.equal(m.payload.name, "n1");
    assert.equal(m.payload.descr, "hello");
    assert.deepEqual(Object.keys(m.apic).sort(), ["class", "controller", "dn", "query", "status", "subscriptionIds"]);
    assert.equal(m.apic.dn, "uni/tn-n1");
    assert.equal(m.apic.status, "created");
    assert.equal(m.apic.controller, sim.url);
    assert.equal(typeof m.apic.subscriptionIds[0], "string");
    // A translated word plus the count, never a raw message key.
    await untilStatus("ev", (s) => s.fill === "green" && s.shape === "dot" && /^connected: 6 events$/.test(s.text ?? ""), "green dot 'connected: 6 events'");
  });

  it("routes by status to created/modified/deleted/sync; the gap notice leaves on sync", async () => {
    await helper.load(
      [controllerNode, eventsNode] as never,
      flow(sim.url, { routing: "status", subscriptions: [{ kind: "class", target: "fvAp" }] }, 4),
      creds,
    );
    const sink = new Sink();
    sink.attach(outs(4));
    await sink.until((s) => s.on_("out3").length === 2, "sync snapshot on output 4");
    sim.sim.create("fvAp", "uni/tn-demo/ap-r", {});
    sim.sim.modify("uni/tn-demo/ap-r", { descr: "x" });
    sim.sim.delete("uni/tn-demo/ap-r");
    await sink.until((s) => s.on_("out2").length === 1, "deleted on output 3");
    assert.deepEqual(
      [0, 1, 2].map((i) => sink.on_(`out${i}`).map((m) => m.apic.status)),
      [["created"], ["modified"], ["deleted"]],
    );
    sim.sim.killSockets("reset");
    await sink.until((s) => s.on_("out3").some((m) => m.topic === "gap") && s.on_("out3").length === 5, "gap then re-read on output 4");
    const sync = sink.on_("out3");
    assert.equal(sync[2].topic, "gap");
    assert.deepEqual(sync[2].payload.queries, ["/api/class/fvAp.json"]);
    assert.equal(sync[2].payload.channel, "apic");
    assert.equal(sync[2].payload.filled, "re-read");
    assert.ok(Date.parse(sync[2].payload.since) <= Date.parse(sync[2].payload.until));
    assert.ok(sync.slice(3).every((m) => m.apic.status === "sync"));
  });

  it("routes by class with a trailing other output", async () => {
    const subs = [
      { kind: "class", target: "fvTenant" },
      { kind: "class", target: "faultInst" },
      { kind: "dn", target: "uni/tn-demo", options: "query-target=subtree&target-subtree-class=fvAEPg" },
    ];
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { routing: "class", classes: "fvTenant, fvAEPg", subscriptions: subs }, 3), creds);
    const sink = new Sink();
    sink.attach(outs(3));
    await sink.until((s) => s.got.length === 5 + 1 + 2, "snapshots");
    assert.equal(sink.on_("out0").length, 5);
    assert.equal(sink.on_("out1").length, 2);
    assert.deepEqual(
      sink.on_("out2").map((m) => m.topic),
      ["faultInst"],
    );
  });

  it("subscribes, lists and unsubscribes at run time through msg.action", async () => {
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: [] }), creds);
    const sink = new Sink();
    sink.attach(outs(1));
    const ev = helper.getNode("ev");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    ev.receive({ action: "subscribe", payload: { kind: "dn", target: "uni/tn-shop" } });
    await sink.until((s) => s.got.some((g) => g.msg.apic?.dn === "uni/tn-shop"), "sync of the new subscription");
    const reply = sink.got.find((g) => g.msg.topic === "subscriptions")!.msg;
    assert.deepEqual(
      (reply.payload as Array<{ query: string }>).map((p) => p.query),
      ["/api/mo/uni/tn-shop.json"],
    );
    // Same query again: no duplicate subscription.
    ev.receive({ action: "subscribe", payload: [{ kind: "dn", target: "/uni/tn-shop" }] });
    await sink.until((s) => s.got.filter((g) => g.msg.topic === "subscriptions").length === 2, "second reply");
    assert.equal(sink.got.filter((g) => g.msg.topic === "subscriptions")[1].msg.payload.length, 1);
    ev.receive({ action: "unsubscribe", payload: { kind: "dn", target: "uni/tn-shop" } });
    await sink.until((s) => s.got.filter((g) => g.msg.topic === "subscriptions").length === 3, "unsubscribe reply");
    assert.deepEqual(sink.got.filter((g) => g.msg.topic === "subscriptions")[2].msg.payload, []);
    sim.sim.modify("uni/tn-shop", { descr: "after" });
    ev.receive({ action: "list" });
    await sink.until((s) => s.got.filter((g) => g.msg.topic === "subscriptions").length === 4, "list reply");
    assert.equal(sink.got.filter((g) => g.msg.apic?.status === "modified").length, 0);
  });

  it("refuses bad run-time input with a clear error and keeps its subscriptions", async () => {
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: [{ kind: "class", target: "fvAp" }] }), creds);
    const sink = new Sink();
    sink.attach(outs(1));
    await sink.until((s) => s.got.length === 2, "snapshot");
    const ev = helper.getNode("ev");
    const bad: object[] = [
      { action: "explode" },
      { action: "subscribe", payload: "fvTenant" },
      { action: "subscribe", payload: { kind: "class", target: "fv Tenant" } },
      { action: "subscribe", payload: { kind: "class", target: "fvTenant", options: "subscription=no" } },
      { action: "unsubscribe", payload: { kind: "class", target: "nothere" } },
      { action: "subscribe", payload: [{ kind: "class", target: "fvBD" }, { kind: "bogus" }] },
    ];
    for (const m of bad) ev.receive(m as never);
    // done(err) makes the runtime call node.error within receive(): nothing to wait for.
    const errors = errorsOf("ev");
    assert.equal(errors.length, bad.length, errors.join("\n"));
    assert.match(errors[0], /msg.action must be/);
    assert.match(errors[2], /not an APIC class name/);
    ev.receive({ action: "list" });
    await sink.until((s) => s.got.some((g) => g.msg.topic === "subscriptions"), "list");
    assert.deepEqual(
      sink.got.find((g) => g.msg.topic === "subscriptions")!.msg.payload.map((p: { target: string }) => p.target),
      ["fvAp"],
    );
  });

  it("status: yellow connecting, green connected, red with the reason, green again after recovery", async () => {
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: [{ kind: "class", target: "fvAp" }] }), creds);
    await untilStatus("ev", (s) => s.fill === "yellow" && s.shape === "ring", "yellow ring");
    await untilStatus("ev", (s) => s.fill === "green" && s.shape === "dot", "green dot");
    sim.sim.fail("refuse");
    await untilStatus("ev", (s) => s.fill === "red" && s.shape === "ring" && /socket closed|unreachable/.test(s.text ?? ""), "red ring with reason");
    sim.sim.fail(false);
    const before = statuses("ev").length;
    await waitOn(
      helper.getNode("ev"),
      "call:status",
      () =>
        statuses("ev")
          .slice(before)
          .some((s) => s.fill === "green"),
      "green again",
      8000,
    );
  });

  it("a query APIC refuses: one Catch-able error, yellow 'refused (retrying)' status, subscribed by itself once APIC accepts it", async () => {
    sim.sim.refuseQueries("/api/class/fvTenant.json");
    await helper.load(
      [controllerNode, eventsNode] as never,
      flow(sim.url, {
        subscriptions: [
          { kind: "class", target: "fvTenant" },
          { kind: "class", target: "fvAp" },
        ],
      }),
      creds,
    );
    const sink = new Sink();
    sink.attach(outs(1));
    await sink.until((s) => s.got.length === 2, "the other query's snapshot");
    await untilStatus("ev", (s) => s.fill === "yellow" && s.shape === "dot" && /1 refused \(retrying\)/.test(s.text ?? ""), "refused");
    const errs = errorsOf("ev").filter((e) => /refused/.test(e));
    assert.equal(errs.length, 1);
    assert.match(errs[0], /fvTenant\.json refused: .*refused by the simulator.*; retrying in \d+ s/);
    sim.sim.refuseQueries(undefined);
    // The client's first retry delay is 5 s (jittered down to 4 s): no redeploy, no reconnect.
    await sink.until((s) => s.on_("out0").filter((m) => m.topic === "fvTenant").length === 5, "tenant snapshot after the retry", 8000);
    await untilStatus("ev", (s) => s.fill === "green" && !/refused/.test(s.text ?? ""), "green again", 3000);
    assert.equal(sim.sim.stats.logins, 1);
  });

  it("wrong password: red 'login failed', few attempts", async () => {
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: [{ kind: "class", target: "fvAp" }] }), {
      ctl: { username: "admin", password: "nope" },
    });
    await untilStatus("ev", (s) => s.fill === "red" && /login failed/.test(s.text ?? ""), "login failed");
    // The status throttle (1/s) may show it after the second attempt; never a storm.
    assert.ok(sim.sim.stats.loginFailures <= 2, String(sim.sim.stats.loginFailures));
  });

  it("a bad entry in the subscription list subscribes nothing and the red status stays", async () => {
    const list = [
      { kind: "class", target: "fvTenant" },
      { kind: "class", target: "not a class" },
    ];
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: list }), creds);
    await untilStatus("ev", (s) => s.fill === "red" && /^bad subscription: "not a class"/.test(s.text ?? ""), "config error");
    // The controller connects (its socket opens) and reports green: the node keeps its own red status.
    await waitFor("the session's socket", () => sim.sim.liveStats().openSockets > 0);
    await new Promise((r) => setTimeout(r, 1100)); // one status-throttle interval, so a green would have shown
    assert.equal(statuses("ev").at(-1)?.fill, "red", JSON.stringify(statuses("ev")));
    assert.equal(sim.sim.stats.subscribes, 0, "the valid entry before the bad one was not subscribed");
  });

  it("a misconfigured controller says so instead of crashing", async () => {
    await helper.load([controllerNode, eventsNode] as never, flow("ftp://x", { subscriptions: [] }), creds);
    await untilStatus("ev", (s) => s.fill === "red" && /not an http\(s\) address/.test(s.text ?? ""), "config error");
  });

  it("hostile frames: reported once per kind, counted in status, connection intact", async () => {
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: [{ kind: "class", target: "fvAp" }] }), creds);
    const sink = new Sink();
    sink.attach(outs(1));
    await sink.until((s) => s.got.length === 2, "snapshot");
    for (let i = 0; i < 50; i++) sim.sim.sendRaw("garbage");
    sim.sim.sendRaw('{"subscriptionId":["1"],"imdata":"x"}');
    sim.sim.create("fvAp", "uni/tn-demo/ap-ok", {});
    await sink.until((s) => s.got.length === 3, "good event after garbage");
    const errs = errorsOf("ev");
    assert.equal(errs.filter((e) => /apic-bad-json/.test(e)).length, 1, errs.join("\n"));
    assert.equal(errs.filter((e) => /apic-no-imdata/.test(e)).length, 1);
    await untilStatus("ev", (s) => /51 dropped/.test(s.text ?? ""), "drop count in status");
    assert.equal(sim.sim.stats.logins, 1);
  });

  it("a redeploy in the middle of a refresh ends cleanly and the new deploy is subscribed", async () => {
    const subs = [{ kind: "class", target: "fvAp", options: "refresh-timeout=1" }];
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: subs }), creds);
    let sink = new Sink();
    sink.attach(outs(1));
    await sink.until((s) => s.got.length === 2, "snapshot");
    sim.sim.fail("hang"); // the next subscriptionRefresh gets no answer
    await waitOn(sim.sim, "request", () => sim.sim.requests.some((r) => r.startsWith("GET /api/subscriptionRefresh.json")), "a refresh in flight");
    await helper.unload(); // redeploy while that refresh hangs
    sim.sim.fail(false);
    await helper.load([controllerNode, eventsNode] as never, flow(sim.url, { subscriptions: subs }), creds);
    sink = new Sink();
    sink.attach(outs(1));
    await sink.until((s) => s.got.length === 2, "snapshot after redeploy");
    await untilStatus("ev", (s) => s.fill === "green", "connected after redeploy");
    sim.sim.create("fvAp", "uni/tn-demo/ap-after", {});
    await sink.until((s) => s.got.length === 3, "live again");
    assert.equal(sim.sim.liveStats().openSockets, 1, "the old session's socket is gone");
  });

  it("twenty redeploys of the events node alone leave the shared session's listeners and subscriptions as they were", async () => {
    const base = flow(sim.url, { subscriptions: [{ kind: "class", target: "fvAp" }] }) as unknown as Array<Record<string, unknown>>;
    await helper.load([controllerNode, eventsNode] as never, base as never, creds);
    let sink = new Sink();
    sink.attach(outs(1));
    await sink.until((s) => s.got.length === 2, "snapshot");
    const ctl = helper.getNode("ctl") as unknown as { client: EventEmitter & { subscriptions(): unknown[]; lifecycle: EventEmitter } };
    const client = ctl.client;
    const listeners = () => ["drop", "state", "session"].map((e) => client.listenerCount(e)).concat(client.lifecycle.listenerCount("state"));
    const before = listeners();
    for (let i = 0; i < 20; i++) {
      const changed = base.map((n) => (n.id === "ev" ? { ...n, name: `ev ${i}` } : n));
      await helper.setFlows(changed as never, "nodes");
      sink = new Sink();
      sink.attach(outs(1));
      await sink.until((s) => s.got.length === 2, `re-read after redeploy #${i}`);
      assert.equal((helper.getNode("ctl") as unknown as { client: unknown }).client, client, "the config node and its session stay");
    }
    assert.deepEqual(listeners(), before);
    assert.equal(client.subscriptions().length, 1);
    // The core users registry disconnects when the last user leaves, even on a restart-only
    // deploy, so each redeploy logs in again (and announces a gap); never two sessions at once.
    await waitOn(sim.sim, "activity", () => sim.sim.liveStats().openSockets === 1, "exactly one socket");
  });

  it("twenty redeploys leak no sockets, sessions, timers or listeners", async () => {
    const resources = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap").length;
    const baseline = resources();
    for (let i = 0; i < 20; i++) {
      await helper.load(
        [controllerNode, eventsNode] as never,
        flow(sim.url, {
          subscriptions: [
            { kind: "class", target: "fvAp" },
            { kind: "class", target: "fvTenant" },
          ],
        }),
        creds,
      );
      const sink = new Sink();
      sink.attach(outs(1));
      await sink.until((s) => s.got.length === 7, `snapshot #${i}`);
      const ctl = helper.getNode("ctl") as Node & { client: EventEmitter & { lifecycle: EventEmitter } };
      assert.equal(ctl.client.listenerCount("drop"), 1);
      await helper.unload();
      await waitOn(
        sim.sim,
        "activity",
        () => sim.sim.liveStats().openSockets === 0 && sim.sim.liveStats().sessions === 0,
        `socket closed and logged out #${i}`,
      );
    }
    // Keep-alive agents are destroyed and timers cleared: back to where we started (a little
    // slack for the runtime's own housekeeping timers).
    await waitOn(sim.sim, "activity", () => resources() <= baseline + 2, `resources back to baseline ${baseline}, now ${resources()}`, 3000);
    assert.equal(sim.sim.stats.logins, 20);
  });
});
