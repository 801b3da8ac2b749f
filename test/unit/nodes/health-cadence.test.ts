import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { Node, NodeAPI } from "node-red";
import { ConnectionLifecycle } from "../../../src/core/lifecycle";
import { gapMessage } from "../../../src/nodes/lib/gap";
import { ConnectionHealth, HealthRegistry, HealthReport, HealthSource } from "../../../src/nodes/lib/health";
import { FakeClock } from "../../support/fake-clock";

/**
 * The update cadence (docs/health.md): the runtime publishes the report once per tick, at most
 * once a second, whatever happens on the connections between two ticks. Time is a FakeClock the
 * test drives, so the counts below are exact and nothing depends on how fast this machine is.
 */

const RED = {
  events: new EventEmitter(),
  nodes: { eachNode: () => undefined, getNode: () => null },
} as unknown as NodeAPI;

function connection(id: string, registry: HealthRegistry) {
  const lifecycle = new ConnectionLifecycle({ open: () => undefined });
  const node = Object.assign(new EventEmitter(), { id, type: "nso-server", name: id }) as unknown as Node & EventEmitter;
  const counts = { total: 0 };
  const source: HealthSource = {
    channel: "nso",
    lifecycle,
    peer: () => "127.0.0.1:4569",
    eventsTotal: () => counts.total,
    eventsByType: () => ({ NOTIF_AUDIT: counts.total }),
    drops: () => ({}),
    userTypes: { "nso-events": "server" },
  };
  const health = new ConnectionHealth(RED, node, source);
  registry.add(health);
  /** What a busy connection does between two ticks: events, gap messages, a reconnect. */
  const flood = (events: number): void => {
    for (let i = 0; i < events; i++) counts.total++;
    for (let i = 0; i < 20; i++) gapMessage("nso", { reason: "connection lost", since: 0, until: 1, filled: false }, {}, node);
    lifecycle.emit("state", { state: "waiting-to-retry", previous: "connected", attempt: 1, reason: new Error("socket closed") });
    lifecycle.emit("state", { state: "connected", previous: "connecting", attempt: 2, reconnected: true });
  };
  return { health, flood, counts };
}

describe("nodes/lib/health: the report goes out once per tick, at most once a second", () => {
  let clock: FakeClock;
  let registry: HealthRegistry;
  let published: HealthReport[];

  beforeEach(() => {
    clock = new FakeClock();
    registry = new HealthRegistry(clock);
    published = [];
    registry.publish = (r) => published.push(r);
  });

  it("a flood of events, gaps and state changes between two ticks yields exactly one publish, at the tick", () => {
    const a = connection("a", registry);
    a.flood(100_000);
    clock.advance(999);
    assert.equal(published.length, 0, "nothing before the first second is over");
    clock.advance(1);
    assert.equal(published.length, 1);
    // The one publish carries everything that happened before it.
    const [card] = published[0].connections;
    assert.equal(card.events.total, 100_000);
    assert.equal(card.gaps.count, 20);
    assert.equal(card.reconnects, 1);
    a.flood(50_000);
    a.flood(50_000);
    clock.advance(999);
    assert.equal(published.length, 1);
    clock.advance(1);
    assert.equal(published.length, 2);
    assert.equal(published[1].connections[0].events.total, 200_000);
    a.health.node.emit("close");
  });

  it("N seconds give N publishes, with one timer however many connections come and go", () => {
    const a = connection("a", registry);
    for (let s = 0; s < 10; s++) {
      a.flood(1000);
      clock.advance(500);
    }
    assert.equal(published.length, 5, "5 s: 5 publishes");
    const b = connection("b", registry);
    assert.equal(clock.pending, 1, "a second connection adds no second timer");
    clock.advance(10_000);
    assert.equal(published.length, 15);
    assert.deepEqual(
      published.at(-1)!.connections.map((c) => c.id),
      ["a", "b"],
    );
    registry.delete(b.health);
    assert.equal(clock.pending, 1, "the timer runs while a connection is left");
    registry.delete(a.health);
    // The last connection gone: one publish that empties the editors' list, then no timer.
    assert.equal(published.length, 16);
    assert.deepEqual(published[15].connections, []);
    assert.equal(clock.pending, 0);
    clock.advance(60_000);
    assert.equal(published.length, 16);
  });

  it("a publish that throws does not stop the ticks", () => {
    connection("a", registry);
    let calls = 0;
    registry.publish = () => {
      calls++;
      if (calls === 1) throw new Error("editor comms failed");
    };
    assert.throws(() => clock.advance(1000), /editor comms failed/);
    clock.advance(3000);
    assert.equal(calls, 4);
  });
});
