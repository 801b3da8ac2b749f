import assert from "node:assert/strict";
import { genericJobEvents, lifePreserverEvent, pkgJobEvents, priorityString, systemStateEvent } from "../../../src/sim/sysadm/generators";
import { sortedJson } from "../../../src/sim/sysadm/envelope";
import { parsePriority } from "../../../src/sysadm/priority";

describe("sim/sysadm generators", () => {
  it("writes priorities the way the server does, and our parser reads them back", () => {
    for (let n = 0; n <= 10; n++) assert.equal(parsePriority(priorityString(n))!.level, n);
    assert.equal(priorityString(42), "10 - Urgent");
  });

  it("computes the system-state priority as the maximum of the conditions (§4.5)", () => {
    const level = (o: Parameters<typeof systemStateEvent>[0]) => parsePriority(systemStateEvent(o).priority)!.level;
    assert.equal(level({ hostname: "h" }), 0);
    assert.equal(level({ hostname: "h", updates: "updatesavailable" }), 2);
    assert.equal(level({ hostname: "h", hostnameChanged: true }), 3);
    assert.equal(level({ hostname: "h", capacity: 91 }), 6);
    assert.equal(level({ hostname: "h", health: "DEGRADED" }), 9);
    assert.equal(level({ hostname: "h", updates: "rebootrequired" }), 9);
    assert.deepEqual(Object.keys(systemStateEvent({ hostname: "h", noZpools: true })).sort(), ["hostname", "priority"]);
  });

  it("lower-cases life-preserver dataset names and covers the five messages", () => {
    assert.match(lifePreserverEvent("snapshot", "tank/Home").message, /New snapshot of tank\/home$/);
    assert.equal(lifePreserverEvent("replication-failed").priority, "7 - Critical");
    assert.match(lifePreserverEvent("replication-failed").message, /\nLogfile available at: /);
    assert.match(lifePreserverEvent("replication-progress").message, /^Replicating tank\/home: \d+M\/4096M \(\d+%\)$/);
  });

  it("stops a generic job at the first failing command", () => {
    const [start, done] = genericJobEvents("j", ["echo a", "false", "echo b"]);
    assert.deepEqual(start, { process_id: "j", state: "running" });
    assert.equal(done["return_codes/false"], "1");
    assert.equal("echo b" in done, false);
  });

  it("sends only new output in running pkg events and the full log when finished", () => {
    const evs = pkgJobEvents("nano", 3);
    const running = evs.filter((e) => e.state === "running" && e.process_details) as Array<{ process_details: Record<string, string> }>;
    const cmd = "pkg install -y nano";
    assert.equal(running.length, 3);
    for (const r of running) assert.equal(r.process_details[cmd].split("\n").length, 2, "one new line each");
    const fin = evs.at(-1) as { state: string; process_details: Record<string, string> };
    assert.equal(fin.state, "finished");
    assert.equal(fin.process_details[cmd].split("\n").length, 4);
  });

  it("serialises compact with keys sorted at every level", () => {
    assert.equal(sortedJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 2 } }), '{"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}');
  });
});
