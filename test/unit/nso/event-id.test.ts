import assert from "node:assert/strict";
import { nsoEventId } from "../../../src/nso/event-id";
import { decodeNotification } from "../../../src/nso/notifications";
import { decodeTerm } from "../../../src/nso/term/decode";
import { encodeTerm } from "../../../src/nso/term/encode";
import { buildNotification, Spec } from "../../../src/sim/nso/builders";

const CTX = { libVsn: 0x08010000, mask: 0xffffffff };

/** The bytes NSO would write, decoded by a decoder of its own (as a second process would). */
function decodeFresh(spec: Spec) {
  const bytes = encodeTerm(buildNotification(spec, CTX));
  return decodeNotification(decodeTerm(new Uint8Array(bytes)), { libVsn: CTX.libVsn });
}

describe("nso/event-id", () => {
  const uinfo = { usid: 12, username: "admin", logintime: 1700000000 };
  const events: Spec[] = [
    { type: "NOTIF_AUDIT", logno: 116, usid: 59, msg: "assigned to groups: admin" },
    { type: "NOTIF_AUDIT", logno: 117, usid: 59, msg: "assigned to groups: admin" },
    { type: "NOTIF_DAEMON", logno: 1, msg: "started" },
    { type: "NOTIF_NETCONF", logno: 1, msg: "started" },
    { type: "NOTIF_COMMIT_DIFF", th: 119, uinfo },
    { type: "NOTIF_COMMIT_DIFF", th: 120, uinfo },
    { type: "NOTIF_AUDIT_NETWORK", usid: 83, tid: 166, device: "ce0" },
    { type: "NOTIF_AUDIT_NETWORK", usid: 83, tid: 167, device: "ce0" },
    { type: "NOTIF_PROGRESS", timestamp: "1700000000000001", usid: 1, tid: 2, msg: "applying" },
    { type: "NOTIF_PROGRESS", timestamp: "1700000000000002", usid: 1, tid: 2, msg: "applying" },
    { type: "NOTIF_HA_INFO", ha_type: 2, nodeid: "node-b" },
    { type: "NOTIF_HA_INFO", ha_type: 3, nodeid: "node-b" },
  ];

  it("gives the same event the same id in two decoders", () => {
    for (const spec of events) {
      const a = decodeFresh(spec);
      const b = decodeFresh(structuredClone(spec));
      assert.equal(nsoEventId("nso.example:4569", a), nsoEventId("nso.example:4569", b), spec.type);
      assert.match(nsoEventId("nso.example:4569", a), /^[0-9a-f]{32}$/);
    }
  });

  it("gives different events different ids (type, identifying fields, server)", () => {
    const ids = events.map((s) => nsoEventId("nso.example:4569", decodeFresh(s)));
    assert.equal(new Set(ids).size, ids.length, "two of the events share an id");
    const audit = decodeFresh(events[0]);
    assert.notEqual(nsoEventId("nso.example:4569", audit), nsoEventId("nso-b.example:4569", audit));
  });

  it("reads the notification as NSO sent it: what a node adds later does not count", () => {
    const n = decodeFresh({ type: "NOTIF_COMMIT_DIFF", th: 119, uinfo });
    const before = nsoEventId("s:1", n);
    // nso-events builds a new payload with the changes; the notification object stays as decoded.
    const withChanges = { ...n, payload: { ...n.payload } };
    assert.equal(nsoEventId("s:1", withChanges), before);
  });

  it("key order in the payload never changes an id", () => {
    assert.equal(
      nsoEventId("s:1", { type: "NOTIF_AUDIT", payload: { logno: 1, msg: "m" } }),
      nsoEventId("s:1", { type: "NOTIF_AUDIT", payload: { msg: "m", logno: 1 } }),
    );
  });

  it("types that carry nothing (heartbeat) share one id per server: documented in docs/scale-out.md", () => {
    const a = decodeFresh({ type: "NOTIF_HEARTBEAT" });
    const b = decodeFresh({ type: "NOTIF_HEARTBEAT" });
    assert.equal(nsoEventId("s:1", a), nsoEventId("s:1", b));
  });
});
