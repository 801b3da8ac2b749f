import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { NodeAPI } from "node-red";
import { ConnectionLifecycle } from "../../../src/core/lifecycle";
import { gapMessage } from "../../../src/nodes/lib/gap";
import { FLOW_DROP_KIND, HealthRegistry, HealthSource, trackHealth } from "../../../src/nodes/lib/health";

/** Just enough of a runtime: an event bus (the registry's key) and the flows' nodes. */
function fakeRed(nodes: Array<{ id: string; type: string; name?: string; server?: string; flowStats?: () => object }> = []): NodeAPI {
  return {
    events: new EventEmitter(),
    nodes: {
      eachNode: (cb: (n: object) => void) => nodes.forEach((n) => cb(n)),
      getNode: (id: string) => nodes.find((n) => n.id === id) ?? null,
    },
  } as unknown as NodeAPI;
}

function configNode(id: string, credentials?: Record<string, string>) {
  const ee = new EventEmitter();
  return Object.assign(ee, { id, type: "nso-server", name: "test server", credentials }) as unknown as import("node-red").Node & EventEmitter;
}

function source(lifecycle: ConnectionLifecycle, counts: { total: number }): HealthSource {
  return {
    channel: "nso",
    lifecycle,
    peer: () => "nso://admin:s3cret-pass@127.0.0.1:4569",
    eventsTotal: () => counts.total,
    eventsByType: () => ({ NOTIF_AUDIT: counts.total }),
    drops: () => ({ "nso-decode-failed": 2 }),
    userTypes: { "nso-events": "server" },
  };
}

const lifecycle = () => new ConnectionLifecycle({ open: () => undefined });

describe("nodes/lib/health: the registry and a connection's card", () => {
  it("one registry per runtime event bus; it ticks only while it tracks a connection", () => {
    const RED = fakeRed();
    const reg = HealthRegistry.of(RED);
    assert.equal(HealthRegistry.of(RED), reg);
    assert.notEqual(HealthRegistry.of(fakeRed()), reg);
    const node = configNode("c1");
    trackHealth(RED, node, source(lifecycle(), { total: 0 }));
    assert.equal(reg.size, 1);
    const published: number[] = [];
    reg.publish = (r) => published.push(r.connections.length);
    reg.tick();
    node.emit("close");
    assert.equal(reg.size, 0);
    // The last publish empties the editors' list.
    assert.deepEqual(published, [1, 0]);
  });

  it("counts gap messages of its input nodes, and the events a window dropped as flow-behind drops", () => {
    const RED = fakeRed();
    const node = configNode("c2");
    const h = trackHealth(RED, node, source(lifecycle(), { total: 0 }));
    gapMessage("nso", { reason: "connection lost", since: 1000, until: 2000, filled: false }, { server: "x" }, node);
    gapMessage("nso", { reason: "the flow fell behind: 7 events dropped", since: 3000, until: 4000, filled: false }, { dropped: 7 }, node);
    // Another config node's gap, or none named: not ours.
    gapMessage("nso", { reason: "r", since: 0, until: 1, filled: false }, {}, configNode("other"));
    gapMessage("nso", { reason: "r", since: 0, until: 1, filled: false });
    const card = h.card(Date.now());
    assert.equal(card.gaps.count, 2);
    assert.deepEqual(card.gaps.last, {
      since: new Date(3000).toISOString(),
      until: new Date(4000).toISOString(),
      filled: false,
      reason: "the flow fell behind: 7 events dropped",
    });
    assert.deepEqual(card.drops, { total: 9, byKind: { "nso-decode-failed": 2, [FLOW_DROP_KIND]: 7 } });
    node.emit("close");
  });

  it("follows the connection: connected since, reconnects, the last error", () => {
    const RED = fakeRed();
    const node = configNode("c3");
    const lc = lifecycle();
    const h = trackHealth(RED, node, source(lc, { total: 0 }));
    lc.emit("state", { state: "connected", previous: "connecting", attempt: 1, reconnected: false });
    assert.ok(h.card(0).connectedSince);
    lc.emit("state", { state: "waiting-to-retry", previous: "connected", attempt: 1, reason: new Error("socket closed") });
    assert.equal(h.card(0).connectedSince, null);
    assert.equal(h.card(0).lastError?.message, "socket closed");
    lc.emit("state", { state: "connected", previous: "connecting", attempt: 2, reconnected: true });
    assert.equal(h.card(0).reconnects, 1);
    node.emit("close");
  });

  it("never shows a credential: no user info in the peer, no credential value in an error", () => {
    const RED = fakeRed();
    const node = configNode("c4", { password: "s3cret-pass", username: "admin" });
    const lc = lifecycle();
    const h = trackHealth(RED, node, source(lc, { total: 0 }));
    lc.emit("state", {
      state: "waiting-to-retry",
      previous: "connecting",
      attempt: 1,
      reason: new Error("login refused for admin/s3cret-pass at http://admin:s3cret-pass@h/"),
    });
    const text = JSON.stringify(h.card(0));
    assert.ok(!text.includes("s3cret-pass"), text);
    assert.equal(h.card(0).peer, "nso://127.0.0.1:4569");
    node.emit("close");
  });

  it("shows the window of each input node that uses it, and sums in-flight and backlog", () => {
    const stats = { inFlight: 3, queued: 5, paused: true, dropped: 0, writtenOff: 0, window: 10, mode: "hold" };
    const RED = fakeRed([
      { id: "u1", type: "nso-events", name: "mine", server: "c5", flowStats: () => stats },
      { id: "u2", type: "nso-events", server: "c5" },
      { id: "u3", type: "nso-events", server: "elsewhere", flowStats: () => stats },
      { id: "u4", type: "debug", server: "c5" },
    ]);
    const node = configNode("c5");
    const h = trackHealth(RED, node, source(lifecycle(), { total: 0 }));
    const card = h.card(0);
    assert.deepEqual(card.flow, [
      { id: "u1", type: "nso-events", name: "mine", ...stats },
      { id: "u2", type: "nso-events", name: undefined },
    ]);
    assert.equal(card.inFlight, 3);
    assert.equal(card.backlog, 5);
    node.emit("close");
  });

  it("samples the rate from the connection's running total", () => {
    const RED = fakeRed();
    const node = configNode("c6");
    const counts = { total: 0 };
    const h = trackHealth(RED, node, source(lifecycle(), counts));
    const reg = HealthRegistry.of(RED);
    const t0 = Date.now();
    counts.total = 500;
    reg.tick(t0 + 1000);
    assert.ok(h.card(t0 + 1000).eventsPerSecond > 0);
    assert.equal(h.card(t0).events.total, 500);
    node.emit("close");
  });
});
