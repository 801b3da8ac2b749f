import assert from "node:assert/strict";
import fc from "fast-check";
import { buildQuery, normaliseSpec, parseOptions, QueryError } from "../../../src/apic/query";
import { parseQuery } from "../../../src/sim/apic/query";

describe("apic/query", () => {
  it("builds class and DN query paths with subscription flags last", () => {
    const q = buildQuery({ kind: "class", target: "fvTenant" });
    assert.equal(q.path, "/api/class/fvTenant.json");
    assert.equal(q.subscribePath, "/api/class/fvTenant.json?subscription=yes");
    assert.equal(q.refreshTimeoutSeconds, 60);
    const d = buildQuery({ kind: "dn", target: "uni/tn-demo", options: "query-target=subtree&target-subtree-class=fvAEPg,fvAp" }, 120);
    assert.equal(d.path, "/api/mo/uni/tn-demo.json?query-target=subtree&target-subtree-class=fvAEPg,fvAp");
    assert.equal(d.subscribePath, `${d.path}&subscription=yes&refresh-timeout=120`);
  });

  it("keeps APIC's filter syntax raw and escapes only what cannot travel: the GUI's own query", () => {
    const q = buildQuery({
      kind: "dn",
      target: "uni/tn-A",
      options:
        'query-target=children&target-subtree-class=vzBrCP&query-target-filter=not(wcard(vzBrCP.dn,"__ui_"))&rsp-subtree-class=vzSubj,tagInst,vzRtIf&rsp-subtree=children&order-by=vzBrCP.dn|asc&page=0&page-size=15',
    });
    assert.equal(
      q.path,
      "/api/mo/uni/tn-A.json?query-target=children&target-subtree-class=vzBrCP&query-target-filter=not(wcard(vzBrCP.dn,%22__ui_%22))&rsp-subtree-class=vzSubj,tagInst,vzRtIf&rsp-subtree=children&order-by=vzBrCP.dn|asc&page=0&page-size=15",
    );
  });

  it("never double-encodes an escape the user already made, but escapes a lone %", () => {
    const q = buildQuery({ kind: "class", target: "fvTenant", options: { "query-target-filter": "eq(fvTenant.name,%22a%22)", x: "50%off" } });
    assert.equal(q.path, "/api/class/fvTenant.json?query-target-filter=eq(fvTenant.name,%22a%22)&x=50%25off");
  });

  it("escapes & + # space and non-ASCII inside values so the query keeps its structure", () => {
    const q = buildQuery({ kind: "class", target: "fvTenant", options: { "query-target-filter": 'eq(fvTenant.descr,"a&b+c #d é")' } });
    assert.equal(q.path, "/api/class/fvTenant.json?query-target-filter=eq(fvTenant.descr,%22a%26b%2Bc%20%23d%20%C3%A9%22)");
  });

  it("survives lone surrogates (no URIError)", () => {
    assert.equal(buildQuery({ kind: "class", target: "fvTenant", options: { x: "a\uD800b" } }).path, "/api/class/fvTenant.json?x=a%EF%BF%BDb");
  });

  it("keeps brackets and slashes of DNs raw", () => {
    const q = buildQuery({ kind: "dn", target: "topology/pod-1/node-101/sys/phys-[eth1/12]" });
    assert.equal(q.path, "/api/mo/topology/pod-1/node-101/sys/phys-[eth1/12].json");
  });

  it("is stable under WHATWG URL parsing (what axios does before sending)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (v) => {
        const q = buildQuery({ kind: "class", target: "fvTenant", options: { "query-target-filter": v } });
        const u = new URL(`http://h${q.subscribePath}`);
        assert.equal(u.pathname + u.search, q.subscribePath);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips any value through the simulator's parser", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (v) => {
        const q = buildQuery({ kind: "class", target: "fvTenant", options: { "rsp-prop-include": v } });
        const i = q.path.indexOf("?");
        const parsed = parseQuery(q.path.slice(0, i), q.path.slice(i + 1));
        // A user-made %XX escape is kept as written, so it decodes like APIC would decode it.
        const expected = /%[0-9A-Fa-f]{2}/.test(v) ? undefined : v;
        if (expected !== undefined) assert.equal(parsed?.params.get("rsp-prop-include"), expected);
      }),
      { numRuns: 300 },
    );
  });

  it("takes refresh-timeout from the options and rejects nonsense", () => {
    assert.equal(buildQuery({ kind: "class", target: "faultInst", options: "refresh-timeout=300" }).refreshTimeoutSeconds, 300);
    assert.throws(() => buildQuery({ kind: "class", target: "faultInst", options: "refresh-timeout=1m" }), QueryError);
    assert.throws(() => buildQuery({ kind: "class", target: "faultInst", options: "subscription=no" }), /subscribes by itself/);
    assert.throws(() => buildQuery({ kind: "class", target: "fv Tenant" }), /not an APIC class name/);
    assert.throws(() => buildQuery({ kind: "class", target: "" }), /needs a class name/);
    assert.throws(() => buildQuery({ kind: "dn", target: "   " }), /needs a DN/);
    assert.throws(() => buildQuery({ kind: "class", target: "fvTenant", options: "bad name=1" }), /not a query option name/);
    assert.throws(() => buildQuery({ kind: "nope" as "class", target: "x" }), /kind/);
  });

  it("accepts node-scoped class queries", () => {
    assert.equal(buildQuery({ kind: "class", target: "topology/pod-1/node-101/vlanCktEp" }).path, "/api/class/topology/pod-1/node-101/vlanCktEp.json");
  });

  it("parses option strings and loose specs", () => {
    assert.deepEqual(parseOptions("?a=1&&b=x=y&c"), [
      ["a", "1"],
      ["b", "x=y"],
      ["c", ""],
    ]);
    assert.deepEqual(normaliseSpec({ kind: "dn", target: "uni", options: "" }), { kind: "dn", target: "uni" });
    assert.throws(() => normaliseSpec("fvTenant"), QueryError);
    assert.throws(() => normaliseSpec({ kind: "class", target: 5 }), /target must be a string/);
    assert.throws(() => normaliseSpec({ kind: "class", target: "x", options: 5 }), /options/);
  });
});
