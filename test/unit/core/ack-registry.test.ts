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
    assert.throws(() => reg.take(copy), (e: AckError) => e.code === "ack-unknown");
  });

  it("refuses a token from a connection that no longer exists, saying so", () => {
    const dropped: string[] = [];
    const reg = new AckRegistry("cfg1", { onDrop: (kind, _h, why) => dropped.push(`${kind}:${why}`) });
    reg.beginConnection();
    const token = reg.issue("audit", 1);
    reg.beginConnection();
    assert.deepEqual(dropped, ["audit:connection-gone"]);
    assert.throws(() => reg.take(token), (e: AckError) => e.code === "ack-connection-gone" && /no longer exists/.test(e.message));
  });

  it("refuses tokens of another config node, of the wrong kind, or not tokens at all", () => {
    const reg = new AckRegistry("cfg1");
    reg.beginConnection();
    const other = new AckRegistry("cfg2");
    other.beginConnection();
    assert.throws(() => reg.take(other.issue("diff", 1)), (e: AckError) => e.code === "ack-wrong-server");
    const t = reg.issue("diff", 1);
    assert.throws(() => reg.take(t, "ha"), (e: AckError) => e.code === "ack-wrong-kind");
    assert.throws(() => reg.take("abc"), (e: AckError) => e.code === "ack-bad-token");
    assert.throws(() => reg.take({ server: "cfg1", connection: "x", kind: "diff", id: "1" }), (e: AckError) => e.code === "ack-bad-token");
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
    assert.throws(() => reg.issue("d", 1), (e: AckError) => e.code === "ack-no-connection");
    reg.beginConnection();
    reg.endConnection();
    assert.throws(() => reg.issue("d", 1), AckError);
  });
});
