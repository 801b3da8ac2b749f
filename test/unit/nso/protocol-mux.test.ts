import { strict as assert } from "node:assert";
import { SubscriptionMux } from "../../../src/nso/mux";
import { maskOf } from "../../../src/nso/constants";
import { StreamResume } from "../../../src/nso/stream-resume";
import { encodeTerm } from "../../../src/nso/term";
import { atom, tuple } from "../../../src/nso/term/types";
import { datetimeTerm, readDatetime } from "../../../src/nso/datetime";

describe("nso protocol: subscription mux (several nodes, one socket)", () => {
  it("merges types, takes the shortest intervals and the highest verbosity, adds the watchdog heartbeat", () => {
    const m = new SubscriptionMux<string>({ heartbeatMs: 10000 });
    m.set("a", { types: ["NOTIF_AUDIT", "NOTIF_AUDIT_SYNC"], autoAckMs: 10000 });
    m.set("b", { types: ["NOTIF_PROGRESS", "NOTIF_HEALTH_CHECK"], healthCheckMs: 5000, verbosity: 2, autoAckMs: 3000 });
    m.set("c", { types: ["NOTIF_HEARTBEAT"], heartbeatMs: 2000 });
    const r = m.request()!;
    assert.equal(r.mask, maskOf(["NOTIF_AUDIT", "NOTIF_AUDIT_SYNC", "NOTIF_PROGRESS", "NOTIF_HEALTH_CHECK", "NOTIF_HEARTBEAT"]));
    assert.deepEqual([r.heartbeatMs, r.healthCheckMs, r.verbosity], [2000, 5000, 2]);
    assert.equal(m.changed(), false);
    m.delete("c");
    assert.equal(m.changed(), true);
    assert.equal(m.request()!.heartbeatMs, 10000);
  });

  it("delivers each type to the nodes that asked for it; unknown types to everyone; progress under both tags", () => {
    const m = new SubscriptionMux<string>({ heartbeatMs: 0 });
    m.set("a", { types: ["NOTIF_AUDIT"], autoAckMs: 0 });
    m.set("b", { types: ["NOTIF_COMMIT_PROGRESS", "NOTIF_AUDIT"], autoAckMs: 4000 });
    assert.deepEqual(m.recipients("NOTIF_AUDIT"), ["a", "b"]);
    assert.deepEqual(m.recipients("NOTIF_PROGRESS"), ["b"]);
    assert.deepEqual(m.recipients("NOTIF_UNKNOWN"), ["a", "b"]);
    assert.deepEqual(m.recipients("NOTIF_HEARTBEAT"), []);
    assert.equal(m.autoAckMs("NOTIF_AUDIT"), 4000);
  });

  it("keeps one stream per socket and names the nodes that wanted another", () => {
    const m = new SubscriptionMux<string>({ heartbeatMs: 0 });
    m.set("a", { types: ["NOTIF_STREAM_EVENT"], stream: { name: "NETCONF" } });
    m.set("b", { types: ["NOTIF_STREAM_EVENT"], stream: { name: "ncs-events" } });
    assert.equal(m.request()!.stream!.name, "NETCONF");
    assert.deepEqual(m.streamConflicts(), ["b"]);
  });

  it("subscribes to nothing when only flags are selected, and rejects unknown names", () => {
    const m = new SubscriptionMux<string>({ heartbeatMs: 1000 });
    m.set("a", { types: ["NOTIF_AUDIT_SYNC"] });
    assert.equal(m.request(), undefined);
    assert.throws(() => m.set("b", { types: ["NOTIF_NOPE"] }), /unknown NSO notification type/);
  });
});

describe("nso protocol: stream resume", () => {
  const ev = (iso: string, v: string): [ReturnType<typeof tuple>, Buffer] => {
    const t = tuple(524288, tuple(datetimeTerm(iso), [tuple(1, Buffer.from(v))]));
    return [t, encodeTerm(t)];
  };

  it("remembers the last event time, drops replayed duplicates, passes new events at the same time", () => {
    const r = new StreamResume();
    assert.equal(r.resumeFrom, undefined);
    const a = ev("2026-01-01T00:00:00.000Z", "a");
    const b = ev("2026-01-01T00:00:01.000Z", "b");
    const b2 = ev("2026-01-01T00:00:01.000Z", "b2");
    assert.equal(r.classify(a[0], a[1], false), "deliver");
    assert.equal(r.classify(b[0], b[1], false), "deliver");
    assert.equal(readDatetime(r.resumeFrom!).iso, "2026-01-01T00:00:01.000000Z");
    r.subscribed(true);
    assert.equal(r.classify(a[0], a[1], false), "duplicate");
    assert.equal(r.classify(b[0], b[1], false), "duplicate");
    assert.equal(r.classify(b2[0], b2[1], false), "deliver");
    assert.equal(r.classify(tuple(524288, atom("replay_complete")), Buffer.alloc(0), false), "resume-complete");
    // A replay the user asked for keeps its replay_complete.
    r.subscribed(true);
    assert.equal(r.classify(tuple(524288, atom("replay_complete")), Buffer.alloc(0), true), "deliver");
  });

  it("throws a ProtocolError on a malformed event time instead of guessing", () => {
    const r = new StreamResume();
    const bad = tuple(524288, tuple(tuple(19, tuple(1, 2)), []));
    assert.throws(() => r.classify(bad, encodeTerm(bad), false), /datetime/);
  });
});
