import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { NodeResources } from "../../../src/nodes/lib/resources";

describe("core/resources", () => {
  it("removes exactly the listeners it added, leaving others alone", () => {
    const bus = new EventEmitter();
    const other = () => {};
    bus.on("event", other);
    const r = new NodeResources();
    r.on(bus, "event", () => {});
    r.on(bus, "state", () => {});
    assert.equal(bus.listenerCount("event"), 2);
    r.release();
    assert.equal(bus.listenerCount("event"), 1);
    assert.equal(bus.listenerCount("state"), 0);
    assert.deepEqual(bus.listeners("event"), [other]);
  });

  it("twenty create/release cycles leave no listener and no timer", async () => {
    const bus = new EventEmitter();
    let fired = 0;
    for (let i = 0; i < 20; i++) {
      const r = new NodeResources();
      r.on(bus, "event", () => {});
      r.setTimeout(() => fired++, 5);
      r.setInterval(() => fired++, 5);
      assert.equal(r.counts.timers, 2);
      r.release();
      assert.deepEqual(r.counts, { listeners: 0, timers: 0, disposers: 0 });
    }
    assert.equal(bus.listenerCount("event"), 0);
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(fired, 0, "released timers must never fire");
  });

  it("forgets a timeout once it fired", async () => {
    const r = new NodeResources();
    await new Promise<void>((res) => r.setTimeout(res, 1));
    assert.equal(r.counts.timers, 0);
    r.release();
  });

  it("runs disposers in reverse order and reports their errors after running all", () => {
    const r = new NodeResources();
    const order: number[] = [];
    r.add(() => order.push(1));
    r.add(() => {
      throw new Error("boom");
    });
    r.add(() => order.push(3));
    assert.throws(() => r.release(), AggregateError);
    assert.deepEqual(order, [3, 1]);
    assert.throws(() => r.on(new EventEmitter(), "x", () => {}), /released/);
  });
});
