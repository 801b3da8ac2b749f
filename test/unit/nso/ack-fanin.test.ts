import { strict as assert } from "node:assert";
import { AckError, AckRegistry, AckToken } from "../../../src/core/ack-registry";
import { AckFanIn } from "../../../src/nso/ack-fanin";
import type { AckHandle } from "../../../src/nso/acks";
import { FakeClock } from "../../support/fake-clock";

/** An upstream registry standing in for NsoClient: `released` lists what reached "NSO". */
function setup(maxOpen?: number) {
  const clock = new FakeClock();
  const upstream = new AckRegistry<AckHandle>("srv");
  upstream.beginConnection();
  const released: AckHandle[] = [];
  const fan = new AckFanIn({
    owner: "srv",
    clock,
    maxOpen,
    // The executor runs at once, so a stale token still gives a rejected promise, not a throw.
    release: (t: AckToken) =>
      new Promise<AckHandle>((resolve) => {
        const h = upstream.take(t).handle;
        released.push(h);
        resolve(h);
      }),
  });
  const notify = (h: AckHandle, recipients: Array<{ id: string; autoAckMs?: number }>) =>
    fan.split(
      upstream.issue(h.kind, h),
      recipients.map((r) => ({ id: r.id, autoAckMs: r.autoAckMs ?? 0 })),
    );
  return { clock, upstream, released, fan, notify };
}

describe("nso/ack-fanin: one blocking notification, several consumers", () => {
  it("gives each recipient its own token and releases NSO once, after the last share", async () => {
    const { fan, notify, released } = setup();
    const { tokens } = notify({ kind: "diff", id: 119 }, [{ id: "a" }, { id: "b" }, { id: "c" }]);
    assert.equal(new Set([...tokens.values()].map((t) => t.id)).size, 3);
    assert.deepEqual(await fan.ack(tokens.get("b")), { kind: "diff", released: false, waiting: 2 });
    assert.deepEqual(await fan.ack(tokens.get("a")), { kind: "diff", released: false, waiting: 1 });
    assert.deepEqual(released, []);
    assert.deepEqual(await fan.ack(tokens.get("c")), { kind: "diff", released: true, waiting: 0 });
    assert.deepEqual(released, [{ kind: "diff", id: 119 }]);
    await assert.rejects(fan.ack(tokens.get("a")), (e: AckError) => e.code === "ack-unknown");
    assert.equal(released.length, 1);
  });

  it("a recipient's own auto-ack answers its share only, and says whose it was", async () => {
    const { fan, notify, released, clock } = setup();
    const auto: string[] = [];
    fan.on("autoAck", ({ recipient, why }) => auto.push(`${recipient}:${why}`));
    const { tokens } = notify({ kind: "audit", id: 59 }, [{ id: "a" }, { id: "b", autoAckMs: 2000 }, { id: "c", autoAckMs: 5000 }]);
    await fan.ack(tokens.get("a"));
    clock.advance(2000);
    assert.deepEqual(auto, ["b:timeout"]);
    await Promise.resolve();
    assert.deepEqual(released, [], "c has not answered yet");
    await assert.rejects(fan.ack(tokens.get("b")), (e: AckError) => e.code === "ack-unknown");
    clock.advance(3000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(auto, ["b:timeout", "c:timeout"]);
    assert.deepEqual(released, [{ kind: "audit", id: 59 }]);
    assert.equal(clock.pending, 0);
  });

  it("an acked share stops its auto-ack timer", async () => {
    const { fan, notify, clock } = setup();
    const { tokens } = notify({ kind: "ha", id: 0 }, [{ id: "a", autoAckMs: 1000 }]);
    await fan.ack(tokens.get("a"));
    assert.equal(clock.pending, 0);
  });

  it("with no recipient NSO is answered at once", async () => {
    const { notify, released } = setup();
    const { tokens, released: p } = notify({ kind: "diff", id: 7 }, []);
    assert.equal(tokens.size, 0);
    await p;
    assert.deepEqual(released, [{ kind: "diff", id: 7 }]);
  });

  it("shares of a connection that ended are void and release nothing", async () => {
    const { fan, notify, released, clock } = setup();
    const { tokens } = notify({ kind: "diff", id: 8 }, [{ id: "a", autoAckMs: 1000 }, { id: "b" }]);
    fan.end();
    assert.equal(clock.pending, 0);
    await assert.rejects(fan.ack(tokens.get("a")), (e: AckError) => e.code === "ack-connection-gone");
    assert.deepEqual(released, []);
  });

  it("refuses a share token whose kind was changed, or of another channel", async () => {
    const { fan, notify } = setup();
    const { tokens } = notify({ kind: "audit", id: 59 }, [{ id: "a" }]);
    const t = tokens.get("a")!;
    await assert.rejects(fan.ack({ ...t, kind: "diff" }), (e: AckError) => e.code === "ack-wrong-kind");
    await assert.rejects(fan.ack({ ...t, kind: "amqp1-delivery" }), (e: AckError) => e.code === "ack-wrong-kind");
    assert.equal(fan.size, 1);
  });

  it("beyond the bound the oldest share is answered at once (a flow that never acks cannot hold NSO without end)", async () => {
    const { fan, notify, released } = setup(2);
    const auto: string[] = [];
    fan.on("autoAck", ({ recipient, why }) => auto.push(`${recipient}:${why}`));
    notify({ kind: "diff", id: 1 }, [{ id: "a" }]);
    notify({ kind: "diff", id: 2 }, [{ id: "a" }]);
    notify({ kind: "diff", id: 3 }, [{ id: "a" }]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(auto, ["a:evicted"]);
    assert.deepEqual(released, [{ kind: "diff", id: 1 }]);
  });
});
