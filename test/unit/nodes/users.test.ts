import assert from "node:assert/strict";
import { NodeStatus } from "../../../src/nodes/lib/status";
import { UsersRegistry } from "../../../src/nodes/lib/users";
import { FakeClock } from "../../support/fake-clock";

function user(id: string) {
  const seen: NodeStatus[] = [];
  return { id, seen, status: (s: NodeStatus) => seen.push(s) };
}

describe("core/users", () => {
  it("connects on the first user and disconnects when the last one leaves", () => {
    const calls: string[] = [];
    const reg = new UsersRegistry({ onFirst: () => calls.push("connect"), onLast: () => calls.push("disconnect") });
    const a = user("a");
    const b = user("b");
    reg.register(a);
    reg.register(b);
    reg.deregister(a);
    assert.deepEqual(calls, ["connect"]);
    reg.deregister(b);
    assert.deepEqual(calls, ["connect", "disconnect"]);
    assert.equal(reg.size, 0);
  });

  it("does not disconnect (and so not reconnect) while closing for a redeploy", () => {
    const calls: string[] = [];
    const reg = new UsersRegistry({ onFirst: () => calls.push("connect"), onLast: () => calls.push("disconnect") });
    const a = user("a");
    reg.register(a);
    reg.closing = true;
    reg.deregister(a);
    assert.deepEqual(calls, ["connect"]);
  });

  it("fans status out to every user, and late users get the current status", () => {
    const reg = new UsersRegistry({ onFirst: () => {}, onLast: () => {} });
    const a = user("a");
    reg.register(a);
    reg.setStatus({ fill: "green", shape: "dot", text: "connected" });
    const b = user("b");
    reg.register(b);
    assert.deepEqual(a.seen, [{ fill: "green", shape: "dot", text: "connected" }]);
    assert.deepEqual(b.seen, a.seen);
  });

  it("treats re-registering the same node id as one user", () => {
    let connects = 0;
    const reg = new UsersRegistry({ onFirst: () => connects++, onLast: () => {} });
    reg.register(user("a"));
    reg.register(user("a"));
    assert.equal(reg.size, 1);
    assert.equal(connects, 1);
    reg.deregister(user("zz"));
    assert.equal(reg.size, 1);
  });
});

describe("core/users restart grace", () => {
  function setup() {
    const clock = new FakeClock();
    const calls: string[] = [];
    const reg = new UsersRegistry({ onFirst: () => calls.push("connect"), onLast: () => calls.push("disconnect"), clock, restartGraceMs: 5000 });
    return { clock, calls, reg };
  }

  it("keeps the connection when the only user is restarted and comes back", () => {
    const { clock, calls, reg } = setup();
    reg.register(user("a"));
    reg.deregister(user("a"), false);
    reg.register(user("a"));
    clock.advance(10000);
    assert.deepEqual(calls, ["connect"]);
    assert.equal(clock.pending, 0);
  });

  it("disconnects after the grace period when the restarted user never comes back", () => {
    const { clock, calls, reg } = setup();
    reg.register(user("a"));
    reg.deregister(user("a"), false);
    clock.advance(4999);
    assert.deepEqual(calls, ["connect"]);
    clock.advance(1);
    assert.deepEqual(calls, ["connect", "disconnect"]);
    reg.register(user("b"));
    assert.deepEqual(calls, ["connect", "disconnect", "connect"]);
  });

  it("disconnects at once when the user was removed, and dispose() cancels a pending grace", () => {
    const { clock, calls, reg } = setup();
    reg.register(user("a"));
    reg.deregister(user("a"), true);
    assert.deepEqual(calls, ["connect", "disconnect"]);
    reg.register(user("a"));
    reg.deregister(user("a"), false);
    reg.dispose();
    clock.advance(10000);
    assert.deepEqual(calls, ["connect", "disconnect", "connect"]);
  });
});
