import assert from "node:assert/strict";
import { AuthAwareBackoff } from "../../../src/sysadm/auth-backoff";

describe("sysadm/auth-backoff", () => {
  it("is the normal backoff while credentials are not refused", () => {
    const b = new AuthAwareBackoff({ jitter: 0 });
    assert.deepEqual([b.next(0), b.next(0), b.next(0)], [1000, 2000, 4000]);
  });

  it("holds off from the third refusal in a row, so the server never sees 5 failures within 10 min", () => {
    const b = new AuthAwareBackoff({ jitter: 0, holdoffMs: 660_000 });
    const delays: number[] = [];
    let t = 0;
    // Simulate 10 refused logins; count failures the server would see in any 10-min window.
    const failuresAt: number[] = [];
    for (let i = 0; i < 10; i++) {
      failuresAt.push(t);
      b.rejected();
      const d = b.next(t);
      delays.push(d);
      t += d;
    }
    assert.equal(delays[0], 1000);
    assert.equal(delays[1], 2000);
    assert.ok(
      delays.slice(2).every((d) => d >= 660_000),
      String(delays),
    );
    for (const at of failuresAt) {
      const inWindow = failuresAt.filter((x) => x >= at && x - at < 600_000).length;
      assert.ok(inWindow < 5, `server would count ${inWindow} failures`);
    }
  });

  it("forgets refusals once a login succeeds", () => {
    const b = new AuthAwareBackoff({ jitter: 0, holdoffMs: 660_000 });
    for (let i = 0; i < 3; i++) b.rejected();
    b.accepted();
    assert.equal(b.rejections, 0);
    assert.equal(b.next(0), 1000);
  });
});
