import assert from "node:assert/strict";
import { OutputRouter, parseKeyList } from "../../../src/nodes/lib/routing";

describe("core/routing", () => {
  it("routes each key to its output and unknown keys to the trailing 'other' output", () => {
    const r = new OutputRouter(["NOTIF_AUDIT", "NOTIF_COMMIT_DIFF"]);
    assert.equal(r.outputs, 3);
    assert.deepEqual(r.route("NOTIF_AUDIT", "m"), ["m", null, null]);
    assert.deepEqual(r.route("NOTIF_COMMIT_DIFF", "m"), [null, "m", null]);
    assert.deepEqual(r.route("NOTIF_HA_INFO", "m"), [null, null, "m"]);
    assert.deepEqual(r.labels(), ["NOTIF_AUDIT", "NOTIF_COMMIT_DIFF", "other"]);
  });

  it("drops unlisted keys when there is no 'other' output", () => {
    const r = new OutputRouter(["created", "deleted"], { other: false });
    assert.equal(r.outputs, 2);
    assert.equal(r.route("modified", "m"), undefined);
    assert.equal(r.indexOf("modified"), -1);
    assert.deepEqual(r.labels(), ["created", "deleted"]);
  });

  it("with no keys, everything goes to the single output", () => {
    const r = new OutputRouter([]);
    assert.equal(r.outputs, 1);
    assert.deepEqual(r.route("anything", 1), [1]);
  });

  it("ignores duplicate keys so ports and labels stay in step", () => {
    const r = new OutputRouter(["a", "b", "a"], { otherLabel: "rest" });
    assert.deepEqual(r.labels(), ["a", "b", "rest"]);
    assert.equal(r.indexOf("b"), 1);
  });

  it("parses user-entered key lists", () => {
    assert.deepEqual(parseKeyList(" a, b\nc ,,a "), ["a", "b", "c"]);
    assert.deepEqual(parseKeyList(["x", " y ", ""]), ["x", "y"]);
    assert.deepEqual(parseKeyList(undefined), []);
  });
});

describe("core/routing at()", () => {
  it("places a message at a given output, and lastIndex is the 'other' output", () => {
    const r = new OutputRouter(["a", "b"]);
    assert.deepEqual(r.at(r.lastIndex, "gap"), [null, null, "gap"]);
    assert.deepEqual(r.at(0, "x"), ["x", null, null]);
    assert.deepEqual(new OutputRouter([]).at(0, "x"), ["x"]);
  });
});
