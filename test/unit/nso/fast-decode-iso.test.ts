/**
 * The fast path's ISO 8601 rendering (fast-decode/iso.ts: the date once per day, the time of day
 * by arithmetic) against the generic one (datetime.ts isoWithMicros, fields.ts microsIso), in
 * every order: within a second, across seconds and days, back and forth, and outside 1970..9999.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { isoWithMicros } from "../../../src/nso/datetime";
import { microsIso as genericMicrosIso } from "../../../src/nso/notifications/fields";
import { BAIL } from "../../../src/nso/fast-decode/cursor";
import { microsIso, secondsIso } from "../../../src/nso/fast-decode/iso";

/** The text, or the generic renderer's RangeError (beyond a Date) where the fast one bails. */
function same(s: number, micro: number): void {
  let want: string | undefined;
  try {
    want = isoWithMicros(s, micro);
  } catch (e) {
    assert.ok(e instanceof RangeError);
    assert.throws(
      () => secondsIso(s, micro),
      (x: unknown) => x === BAIL,
    );
    return;
  }
  assert.equal(secondsIso(s, micro), want, `${s} ${micro}`);
}

const LAST = 253402300799;

describe("nso fast decode: ISO 8601 text as the generic decoder writes it", () => {
  it("seconds + microseconds, in any order and range", () => {
    const sec = fc.oneof(
      fc.integer({ min: 0, max: LAST }),
      fc.integer({ min: -62135596800, max: 8_640_000_000_000 }),
      fc.constantFrom(0, 59, 60, 86399, 86400, LAST, LAST + 1, -1),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(sec, fc.integer({ min: 0, max: 999_999 })), { minLength: 1, maxLength: 8 }), (xs) => {
        for (const [s, micro] of xs) {
          same(s, micro);
          same(s + 1, micro);
        }
      }),
      { numRuns: 3000, seed: 14 },
    );
  });

  it("microseconds since the epoch (progress timestamps, compaction start)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: Number.MAX_SAFE_INTEGER }), (us) => {
        if (Math.abs(us) > 8.64e18) return;
        assert.equal(microsIso(us), genericMicrosIso(us), String(us));
      }),
      { numRuns: 5000, seed: 2026 },
    );
    for (const us of [0, 999_999, 1_000_000, 1795372452602840, 86_399_999_999, 86_400_000_000]) assert.equal(microsIso(us), genericMicrosIso(us));
  });
});
