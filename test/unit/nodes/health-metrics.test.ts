import assert from "node:assert/strict";
import type { HealthCard, HealthReport } from "../../../src/nodes/lib/health";
import { escapeLabel, metricsText } from "../../../src/nodes/lib/health-metrics";

// A maintained parser of the exposition format, not a pattern written for this test.

const parse = require("parse-prometheus-text-format") as (
  text: string,
) => Array<{ name: string; help: string; type: string; metrics: Array<{ value: string; labels?: Record<string, string> }> }>;

function card(over: Partial<HealthCard>): HealthCard {
  return {
    channel: "nso",
    id: "cfg1",
    type: "nso-server",
    name: "",
    state: "connected",
    peer: "127.0.0.1:4569",
    connectedSince: null,
    eventsPerSecond: 0,
    rate: { bucketSeconds: 10, history: [] },
    events: { total: 0, byType: {} },
    drops: { total: 0, byKind: {} },
    gaps: { count: 0, last: null },
    reconnects: 0,
    inFlight: 0,
    backlog: 0,
    flow: [],
    lastError: null,
    details: {},
    ...over,
  };
}

const report: HealthReport = {
  at: new Date(0).toISOString(),
  connections: [
    card({
      events: { total: 7, byType: { NOTIF_AUDIT: 5, NOTIF_COMMIT_DIFF: 2 } },
      drops: { total: 1, byKind: { "nso-decode-failed": 1 } },
      gaps: { count: 2, last: null },
      reconnects: 1,
      inFlight: 3,
      backlog: 4,
      details: { acks: { pending: 1, answered: { flow: 2, auto: 1, evicted: 0, unwanted: 3 } } },
    }),
    // A server string with every character the format escapes.
    card({
      channel: "sysadm",
      id: "cfg2",
      type: "sysadm-server",
      state: "waiting-to-retry",
      peer: 'ws://h"x\\y\nz',
      events: { total: 1, byType: { "system-state": 1 } },
    }),
  ],
};

describe("nodes/lib/health-metrics: the Prometheus text exposition", () => {
  const families = parse(metricsText(report));
  const family = (name: string) => families.find((f) => f.name === name)!;
  const value = (name: string, labels: Record<string, string>): number | undefined => {
    const m = family(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
    return m && Number(m.value);
  };

  it("declares every family with HELP and TYPE, and every sample is a number", () => {
    const want = [
      ["infra_events_events_total", "COUNTER"],
      ["infra_events_drops_total", "COUNTER"],
      ["infra_events_gaps_total", "COUNTER"],
      ["infra_events_reconnects_total", "COUNTER"],
      ["infra_events_acks_total", "COUNTER"],
      ["infra_events_auto_acks_total", "COUNTER"],
      ["infra_events_acks_pending", "GAUGE"],
      ["infra_events_connected", "GAUGE"],
      ["infra_events_in_flight", "GAUGE"],
      ["infra_events_backlog", "GAUGE"],
    ];
    assert.deepEqual(
      families.map((f) => [f.name, f.type]),
      want,
    );
    for (const f of families) {
      assert.ok(f.help.length > 0, `${f.name} has help`);
      for (const m of f.metrics) assert.ok(Number.isFinite(Number(m.value)) && m.value !== "", `${f.name} ${JSON.stringify(m)}`);
    }
  });

  it("gives each connection its channel, server and node labels, and each count its own label", () => {
    const nso = { channel: "nso", server: "127.0.0.1:4569", node: "cfg1" };
    assert.equal(value("infra_events_events_total", { ...nso, type: "NOTIF_AUDIT" }), 5);
    assert.equal(value("infra_events_events_total", { ...nso, type: "NOTIF_COMMIT_DIFF" }), 2);
    assert.equal(value("infra_events_drops_total", { ...nso, kind: "nso-decode-failed" }), 1);
    assert.equal(value("infra_events_gaps_total", nso), 2);
    assert.equal(value("infra_events_reconnects_total", nso), 1);
    assert.equal(value("infra_events_acks_total", { ...nso, outcome: "flow" }), 2);
    assert.equal(value("infra_events_acks_total", { ...nso, outcome: "unwanted" }), 3);
    assert.equal(value("infra_events_auto_acks_total", nso), 1);
    assert.equal(value("infra_events_acks_pending", nso), 1);
    assert.equal(value("infra_events_connected", nso), 1);
    assert.equal(value("infra_events_in_flight", nso), 3);
    assert.equal(value("infra_events_backlog", nso), 4);
  });

  it("escapes label values so the parser reads back what the server string was", () => {
    const server = 'ws://h"x\\y\nz';
    assert.equal(value("infra_events_events_total", { channel: "sysadm", server, type: "system-state" }), 1);
    assert.equal(value("infra_events_connected", { channel: "sysadm", server }), 0);
    // Ack families only for the channel that has acks.
    assert.equal(value("infra_events_acks_pending", { channel: "sysadm" }), undefined);
    assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  });

  it("is a valid exposition with no connection: the families, no samples", () => {
    const empty = parse(metricsText({ at: "", connections: [] }));
    assert.equal(empty.length, 10);
    assert.ok(empty.every((f) => f.metrics.length === 0));
  });
});
