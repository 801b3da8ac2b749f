import { strict as assert } from "node:assert";
import { canonicalSubtree, mergeWishes, SharedCommitDiff, viewFor } from "../../../src/nso/maapi/diff-share";
import type { CommitDiffRequest, CommitDiffResult } from "../../../src/nso/maapi/read-diff";

const stats = { items: 0, dropped: 0, labelled: 0, unlabelled: 0, detached: true, durationMs: 1 };
const change = (path: string) => ({ op: "created" as const, path, value: null });
const result = (paths: string[], more: Partial<CommitDiffResult> = {}): CommitDiffResult => ({
  thandle: 5,
  changes: paths.map(change),
  truncated: false,
  stats,
  ...more,
});

describe("nso/maapi/diff-share: one read of a commit for several readers", () => {
  it("merges settings: shortest budget, largest cap, a subtree only when all readers name the same", () => {
    assert.deepEqual(
      mergeWishes([
        { budgetMs: 5000, maxChanges: 10, subtree: "/nacm" },
        { budgetMs: 2000, maxChanges: 500, subtree: "/nacm" },
      ]),
      { budgetMs: 2000, maxChanges: 500, subtree: "/nacm" },
    );
    assert.deepEqual(
      mergeWishes([
        { budgetMs: 5000, maxChanges: 10, subtree: "/nacm" },
        { budgetMs: 5000, maxChanges: 10 },
      ]),
      { budgetMs: 5000, maxChanges: 10, subtree: undefined },
    );
  });

  it("spells a typed subtree the way change paths are spelt", () => {
    assert.equal(canonicalSubtree("/ncs:devices/device{ce0}"), "/devices/device{ce0}");
    assert.equal(canonicalSubtree("/nacm"), "/nacm");
  });

  it("cuts a view to its own subtree and cap, and says truncated when either may hide changes", () => {
    const read = { budgetMs: 5000, maxChanges: 100 };
    const r = result(["/devices/device{ce0}", "/devices/device{ce0}/address", "/nacm/rule-list{admin}", "/devices/device{ce1}", "/devicesX"]);
    const devices = viewFor(r, { budgetMs: 5000, maxChanges: 100, subtree: "/devices/device" }, read);
    assert.deepEqual(
      devices.changes.map((c) => c.path),
      ["/devices/device{ce0}", "/devices/device{ce0}/address", "/devices/device{ce1}"],
    );
    assert.equal(devices.truncated, false);
    const capped = viewFor(r, { budgetMs: 5000, maxChanges: 2, subtree: "/devices" }, read);
    assert.deepEqual(
      capped.changes.map((c) => c.path),
      ["/devices/device{ce0}", "/devices/device{ce0}/address"],
    );
    assert.equal(capped.truncated, true);
    assert.equal(capped.reason, "max-changes");
    // The read itself ran out of budget: every view may lack changes.
    const cut = viewFor(result(["/nacm/x"], { truncated: true, reason: "budget" }), { budgetMs: 5000, maxChanges: 100, subtree: "/nacm" }, read);
    assert.equal(cut.truncated, true);
    assert.equal(cut.reason, "budget");
    assert.notEqual(devices.changes[0], r.changes[0], "a copy");
  });

  it("reads once for all readers; one reader leaving does not stop the read, the last one does", async () => {
    const reqs: CommitDiffRequest[] = [];
    let finish!: (r: CommitDiffResult) => void;
    const share = new SharedCommitDiff(
      (req) => {
        reqs.push(req);
        return new Promise((resolve) => (finish = resolve));
      },
      { thandle: 5, usid: 59 },
      new Map([
        ["a", { budgetMs: 3000, maxChanges: 10 }],
        ["b", { budgetMs: 2000, maxChanges: 10 }],
        ["c", { budgetMs: 2000, maxChanges: 10 }],
      ]),
    );
    const leaving = new AbortController();
    const va = share.view("a");
    const vb = share.view("b", leaving.signal);
    await Promise.resolve();
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].budgetMs, 2000);
    leaving.abort();
    assert.equal((await vb).reason, "aborted");
    share.leave("c");
    assert.equal(reqs[0].signal!.aborted, false, "a still reads");
    finish(result(["/nacm/x"]));
    assert.deepEqual(
      (await va).changes.map((c) => c.path),
      ["/nacm/x"],
    );
    // Both readers of another commit leave: its read is aborted.
    let signal: AbortSignal | undefined;
    const other = new SharedCommitDiff(
      (req) => {
        signal = req.signal;
        return new Promise(() => undefined);
      },
      { thandle: 6 },
      new Map([
        ["a", { budgetMs: 1, maxChanges: 1 }],
        ["b", { budgetMs: 1, maxChanges: 1 }],
      ]),
    );
    const closing = new AbortController();
    const stuck = other.view("a", closing.signal);
    await Promise.resolve();
    other.leave("b");
    assert.equal(signal!.aborted, false);
    closing.abort();
    assert.equal((await stuck).reason, "aborted");
    assert.equal(signal!.aborted, true);
  });

  it("a read that cannot start (no MAAPI client) is an error result, not a rejection", async () => {
    const share = new SharedCommitDiff(
      () => {
        throw new Error("nso-server: bad setting");
      },
      { thandle: 5 },
      new Map([["a", { budgetMs: 1000, maxChanges: 10 }]]),
    );
    const r = await share.view("a");
    assert.equal(r.truncated, true);
    assert.equal(r.reason, "error");
    assert.match(r.error!.message, /bad setting/);
  });
});
