import assert from "node:assert/strict";
import { NodeStatus } from "../../../src/core/status";
import { UsersRegistry } from "../../../src/core/users";

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
