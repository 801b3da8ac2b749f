import assert from "node:assert/strict";
import { AuthAwareBackoff } from "../../../src/core/auth-backoff";
import { Backoff } from "../../../src/core/backoff";

describe("core/auth-backoff wrapping a caller's Backoff (the APIC client's case)", () => {
  it("keeps the wrapped schedule and adds the hold-off from the third refusal in a row", () => {
    const b = new AuthAwareBackoff(new Backoff({ initialMs: 30, maxMs: 300, jitter: 0 }));
    assert.deepEqual([b.next(0), b.next(0), b.next(0)], [30, 60, 120], "no refusal: the wrapped delays");
    b.reset();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      b.rejected();
      delays.push(b.next(0));
    }
    assert.deepEqual(delays, [30, 60, 660_000, 660_000]);
    assert.equal(b.attempts, 4, "attempts are the wrapped backoff's");
    b.accepted();
    b.rejected();
    assert.equal(b.next(0), 300, "an accepted login starts the count again");
  });
});
