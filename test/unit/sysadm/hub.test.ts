import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { ProtocolError } from "../../../src/core/errors";
import { HubUser, SysadmClient, SysadmEvent, SysadmHub } from "../../../src/sysadm";

/** The two things the hub uses of a client: its events and setSubscriptions. */
class FakeClient extends EventEmitter {
  applied: string[][] = [];
  fail: Error | undefined;
  setSubscriptions(types: readonly string[]): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    this.applied.push([...types]);
    return Promise.resolve();
  }
}

function user(id: string): HubUser & { events: string[]; gaps: number; drops: string[]; errors: Error[] } {
  const u = {
    id,
    events: [] as string[],
    gaps: 0,
    drops: [] as string[],
    errors: [] as Error[],
    onEvent: (ev: SysadmEvent) => u.events.push(ev.name),
    onGap: () => u.gaps++,
    onDrop: (e: ProtocolError) => u.drops.push(e.code),
    onError: (e: Error) => u.errors.push(e),
  };
  return u;
}
const ev = (name: string): SysadmEvent => ({ name, args: {}, priority: null, snapshot: false });

describe("sysadm/hub", () => {
  it("subscribes the union and hands each user only its types", async () => {
    const c = new FakeClient();
    const hub = new SysadmHub(c as unknown as SysadmClient);
    const a = user("a");
    const b = user("b");
    await hub.attach(a, ["dispatcher"]);
    await hub.attach(b, ["life-preserver", "dispatcher"]);
    assert.deepEqual(c.applied.at(-1), ["dispatcher", "life-preserver"]);
    c.emit("event", ev("dispatcher"));
    c.emit("event", ev("life-preserver"));
    assert.deepEqual(a.events, ["dispatcher"]);
    assert.deepEqual(b.events, ["dispatcher", "life-preserver"]);
  });

  it("tells every user about gaps and drops", async () => {
    const c = new FakeClient();
    const hub = new SysadmHub(c as unknown as SysadmClient);
    const a = user("a");
    const b = user("b");
    await hub.attach(a, ["dispatcher"]);
    await hub.attach(b, ["system-state"]);
    c.emit("gap", { from: 1, to: 2, reason: "x" });
    c.emit("drop", new ProtocolError("bad-json", "x"), true);
    assert.deepEqual([a.gaps, b.gaps], [1, 1]);
    assert.deepEqual([a.drops, b.drops], [["bad-json"], ["bad-json"]]);
  });

  it("shrinks the union when a user leaves; a replaced user's late detach is ignored", async () => {
    const c = new FakeClient();
    const hub = new SysadmHub(c as unknown as SysadmClient);
    const a = user("a");
    await hub.attach(a, ["dispatcher"]);
    await hub.attach(user("b"), ["system-state"]);
    await hub.detach(a);
    assert.deepEqual(c.applied.at(-1), ["system-state"]);
    const b2 = user("b");
    await hub.attach(b2, ["life-preserver"]);
    await hub.detach(user("b"));
    assert.equal(hub.size, 1);
  });

  it("reports a failed subscription change to the user, or to the caller of add/remove", async () => {
    const c = new FakeClient();
    const hub = new SysadmHub(c as unknown as SysadmClient);
    const a = user("a");
    c.fail = new Error("401");
    await hub.attach(a, ["dispatcher"]);
    assert.equal(a.errors.length, 1);
    await assert.rejects(hub.add(a, ["system-state"]), /401/);
    c.fail = undefined;
    await hub.remove(a, ["system-state"]);
    assert.deepEqual(hub.subscriptionsOf(a), ["dispatcher"]);
  });
});
