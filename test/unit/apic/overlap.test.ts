import assert from "node:assert/strict";
import fc from "fast-check";
import { changeKey, OverlapDedup } from "../../../src/apic/overlap";

describe("apic renewal overlap: duplicate matching between two sessions", () => {
  const ch = (dn: string, attrs: Record<string, string> = {}) => ({ class: "fvTenant", dn, status: "modified", attributes: attrs });

  it("a change seen on both sockets is delivered once, whichever socket is first", () => {
    const d = new OverlapDedup();
    const k = changeKey(1, ch("uni/tn-a", { descr: "x" }));
    assert.equal(d.duplicate(k, 1), false);
    assert.equal(d.duplicate(k, -1), true);
    const k2 = changeKey(1, ch("uni/tn-b"));
    assert.equal(d.duplicate(k2, -1), false);
    assert.equal(d.duplicate(k2, 1), true);
    assert.equal(d.size, 0, "matched pairs leave nothing behind");
  });

  it("two identical changes on the same socket are both delivered; each is matched once", () => {
    const d = new OverlapDedup();
    const k = changeKey(1, ch("uni/tn-a"));
    assert.equal(d.duplicate(k, 1), false);
    assert.equal(d.duplicate(k, 1), false);
    assert.equal(d.duplicate(k, -1), true);
    assert.equal(d.duplicate(k, -1), true);
    assert.equal(d.duplicate(k, -1), false, "a third copy only on the new socket is a new change");
  });

  it("keys ignore attribute order and separate subscriptions and statuses", () => {
    assert.equal(changeKey(1, ch("d", { a: "1", b: "2" })), changeKey(1, ch("d", { b: "2", a: "1" })));
    assert.notEqual(changeKey(1, ch("d")), changeKey(2, ch("d")));
    assert.notEqual(changeKey(1, ch("d")), changeKey(1, { ...ch("d"), status: "deleted" }));
    // No separator tricks: values containing the old separators do not collide.
    assert.notEqual(changeKey(1, ch("a", { b: "c" })), changeKey(1, ch("a\u0000b", { "": "c" })));
  });

  it("bounded: beyond its size new unmatched copies are no longer recorded", () => {
    const d = new OverlapDedup(3);
    for (let i = 0; i < 10; i++) d.duplicate(`k${i}`, 1);
    assert.equal(d.size, 3);
  });

  it("property: whatever the interleaving, each change is delivered exactly once when both sockets carry all of them", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 30 }), fc.array(fc.boolean(), { maxLength: 60 }), (changes, picks) => {
        // Each socket carries every change in order; the interleaving between the two is arbitrary.
        const keys = changes.map((n) => changeKey(1, ch(`uni/tn-${n}`)));
        const d = new OverlapDedup();
        let i = 0;
        let j = 0;
        let delivered = 0;
        let p = 0;
        while (i < keys.length || j < keys.length) {
          const old = j >= keys.length || (i < keys.length && (picks[p++ % Math.max(1, picks.length)] ?? true));
          if (old) {
            if (!d.duplicate(keys[i++], 1)) delivered++;
          } else if (!d.duplicate(keys[j++], -1)) delivered++;
        }
        assert.equal(delivered, keys.length);
        assert.equal(d.size, 0);
      }),
    );
  });
});
