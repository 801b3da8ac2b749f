import assert from "node:assert/strict";
import { apicEventId } from "../../../src/apic/event-id";
import { decodeFrame } from "../../../src/apic/frames";

const frame = (attrs: Record<string, string>, cls = "faultInst", ids = '["7"]') =>
  `{"subscriptionId":${ids},"imdata":[{"${cls}":{"attributes":${JSON.stringify(attrs)}}}]}`;

describe("apic/event-id", () => {
  const a = { dn: "topology/pod-1/node-101/sys/fault-F0532", status: "modified", modTs: "2024-01-01T10:00:00.123+00:00", severity: "major" };

  it("same change, two decoders, two subscriptions (other ids, other attribute order): same id", () => {
    const x = decodeFrame(frame(a)).changes[0];
    const reordered = Object.fromEntries(Object.entries(a).reverse());
    const y = decodeFrame(frame(reordered, "faultInst", '["72057843163791488"]')).changes[0];
    assert.equal(apicEventId(x), apicEventId(y));
    assert.match(apicEventId(x), /^[0-9a-f]{32}$/);
  });

  it("dn, status and modTs each tell changes apart", () => {
    const base = apicEventId(decodeFrame(frame(a)).changes[0]);
    for (const change of [{ dn: "uni/tn-other" }, { status: "created" }, { modTs: "2024-01-01T10:00:00.124+00:00" }]) {
      assert.notEqual(apicEventId(decodeFrame(frame({ ...a, ...change })).changes[0]), base, JSON.stringify(change));
    }
  });

  it("a change without modTs (minimal deleted) is identified by its attributes", () => {
    const d1 = decodeFrame(frame({ dn: "uni/tn-a", status: "deleted" })).changes[0];
    const d2 = decodeFrame(frame({ dn: "uni/tn-a", status: "deleted" })).changes[0];
    const d3 = decodeFrame(frame({ dn: "uni/tn-b", status: "deleted" })).changes[0];
    assert.equal(apicEventId(d1), apicEventId(d2));
    assert.notEqual(apicEventId(d1), apicEventId(d3));
  });

  it("two changes of one object within one modTs share an id (the documented collision)", () => {
    const x = decodeFrame(frame({ ...a, severity: "major" })).changes[0];
    const y = decodeFrame(frame({ ...a, severity: "minor" })).changes[0];
    assert.equal(apicEventId(x), apicEventId(y));
  });
});
