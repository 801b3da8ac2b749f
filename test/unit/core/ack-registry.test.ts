import assert from "node:assert/strict";
import { AckError, AckRegistry } from "../../../src/core/ack-registry";

describe("core/ack-registry", () => {
  it("issues plain JSON tokens and hands back the live handle once", () => {
    const reg = new AckRegistry<{ socket: string }>("cfg1");
    reg.beginConnection();
    const handle = { socket: "live" };
    const token = reg.issue("diff", handle);
    const copy = JSON.parse(JSON.stringify(token));
    assert.deepEqual(Object.keys(copy).sort(), ["connection", "id", "kind", "server"]);
    assert.equal(reg.take(copy).handle, handle);
    assert.throws(
      () => reg.take(copy),
      (e: AckError) => e.code === "ack-unknown",
    );
  });

  it("refuses a token from a connection that no longer exists, saying so", () => {
    const dropped: string[] = [];
    const reg = new AckRegistry("cfg1", { onDrop: (kind, _h, why) => dropped.push(`${kind}:${why}`) });
    reg.beginConnection();
    const token = reg.issue("audit", 1);
    reg.beginConnection();
    assert.deepEqual(dropped, ["audit:connection-gone"]);
    assert.throws(
      () => reg.take(token),
      (e: AckError) => e.code === "ack-connection-gone" && /no longer exists/.test(e.message),
    );
  });

  it("refuses tokens of another config node, of the wrong kind, or not tokens at all", () => {
    const reg = new AckRegistry("cfg1");
    reg.beginConnection();
    const other = new AckRegistry("cfg2");
    other.beginConnection();
    assert.throws(
      () => reg.take(other.issue("diff", 1)),
      (e: AckError) => e.code === "ack-wrong-server",
    );
    const t = reg.issue("diff", 1);
    assert.throws(
      () => reg.take(t, "ha"),
      (e: AckError) => e.code === "ack-wrong-kind",
    );
    assert.throws(
      () => reg.take("abc"),
      (e: AckError) => e.code === "ack-bad-token",
    );
    assert.throws(
      () => reg.take({ server: "cfg1", connection: "x", kind: "diff", id: "1" }),
      (e: AckError) => e.code === "ack-bad-token",
    );
  });

  it("evicts the oldest open handle beyond the cap and reports it", () => {
    const evicted: unknown[] = [];
    const reg = new AckRegistry<number>("c", { maxOpen: 2, onDrop: (_k, h, why) => why === "evicted" && evicted.push(h) });
    reg.beginConnection();
    const t1 = reg.issue("d", 1);
    reg.issue("d", 2);
    reg.issue("d", 3);
    assert.deepEqual(evicted, [1]);
    assert.equal(reg.size, 2);
    assert.throws(() => reg.take(t1), AckError);
  });

  it("cannot issue without a connection", () => {
    const reg = new AckRegistry("c");
    assert.throws(
      () => reg.issue("d", 1),
      (e: AckError) => e.code === "ack-no-connection",
    );
    reg.beginConnection();
    reg.endConnection();
    assert.throws(() => reg.issue("d", 1), AckError);
  });
});

describe("core/ack-registry: tokens that must not settle anything", () => {
  it("a redeploy's new registry for the same config node never reuses a connection id: the old token is refused", () => {
    const before = new AckRegistry<string>("cfg1");
    before.beginConnection();
    const kept = JSON.parse(JSON.stringify(before.issue("diff", "commit A")));
    // A full redeploy: a new config node with the same id, a new registry, a new connection.
    const after = new AckRegistry<string>("cfg1");
    after.beginConnection();
    const fresh = after.issue("diff", "commit B");
    assert.notEqual(fresh.connection, kept.connection);
    assert.throws(
      () => after.take(kept),
      (e: AckError) => e.code === "ack-connection-gone" && /earlier connection/.test(e.message),
    );
    assert.equal(after.size, 1, "commit B is still open");
    assert.equal(after.take(fresh).handle, "commit B");
  });

  it("a token whose kind was changed is refused: a diff token cannot answer an audit", () => {
    const reg = new AckRegistry<string>("cfg1");
    reg.beginConnection();
    const audit = reg.issue("audit", "usid 59");
    assert.throws(
      () => reg.take({ ...audit, kind: "diff" }),
      (e: AckError) => e.code === "ack-wrong-kind" && /issued for audit/.test(e.message),
    );
    assert.throws(
      () => reg.take(audit, ["diff", "ha"]),
      (e: AckError) => e.code === "ack-wrong-kind",
    );
    assert.equal(reg.size, 1, "the audit is still open");
    assert.equal(reg.take(audit, ["diff", "audit"]).handle, "usid 59");
  });

  it("a made-up token (what a first deploy used to issue) is refused as never issued", () => {
    const reg = new AckRegistry<string>("cfg1");
    reg.beginConnection();
    reg.issue("diff", "commit");
    assert.throws(
      () => reg.take({ server: "cfg1", connection: "cfg1#1", kind: "diff", id: 1 }),
      (e: AckError) => e.code === "ack-unknown-connection" && /never issued/.test(e.message),
    );
    assert.equal(reg.size, 1);
  });

  it("an id changed within the live connection does not hit another open handle", () => {
    const reg = new AckRegistry<number>("cfg1");
    reg.beginConnection();
    const tokens = Array.from({ length: 50 }, (_, i) => reg.issue("diff", i));
    const t = tokens[10];
    // Neighbouring ids of a real token: none of them is another open handle.
    for (const d of [-2, -1, 1, 2])
      assert.throws(
        () => reg.take({ ...t, id: t.id + d }),
        (e: AckError) => e.code === "ack-unknown",
      );
    assert.equal(reg.size, 50);
  });
});
