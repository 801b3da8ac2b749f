import assert from "node:assert/strict";
import { sysadmEventId, sysadmEventTime } from "../../../src/sysadm/event-id";
import { decodeFrame } from "../../../src/sysadm/frame";

const wire = (name: string, args: unknown) => JSON.stringify({ namespace: "events", name, id: "", args });

function decoded(text: string) {
  const f = decodeFrame(text);
  assert.equal(f.kind, "event");
  return f as { name: string; args: unknown };
}

describe("sysadm/event-id", () => {
  const job = {
    event_system: "sysadm/dispatcher",
    state: "finished",
    process_id: "sysadm_pkg_install-1",
    time_started: "2024-01-01T10:00:00",
    time_finished: "2024-01-01T10:00:05",
  };

  it("same event, two decoders, args in another key order: same id", () => {
    const x = decoded(wire("dispatcher", job));
    const y = decoded(wire("dispatcher", Object.fromEntries(Object.entries(job).reverse())));
    assert.equal(sysadmEventId("wss://h:12151", x), sysadmEventId("wss://h:12151", y));
    assert.match(sysadmEventId("wss://h:12151", x), /^[0-9a-f]{32}$/);
  });

  it("name, time, args and server each tell events apart", () => {
    const base = sysadmEventId("wss://h:12151", decoded(wire("dispatcher", job)));
    assert.notEqual(sysadmEventId("wss://h:12151", decoded(wire("life-preserver", job))), base);
    assert.notEqual(sysadmEventId("wss://h:12151", decoded(wire("dispatcher", { ...job, time_finished: "2024-01-01T10:00:06" }))), base);
    assert.notEqual(sysadmEventId("wss://h:12151", decoded(wire("dispatcher", { ...job, state: "failed" }))), base);
    assert.notEqual(sysadmEventId("wss://other:12151", decoded(wire("dispatcher", job))), base);
  });

  it("reads the event's own time from its args", () => {
    assert.equal(sysadmEventTime(job), "2024-01-01T10:00:05");
    assert.equal(sysadmEventTime({ time_started: "t0" }), "t0");
    assert.equal(sysadmEventTime(["x"]), null);
    assert.equal(sysadmEventTime({ message: "no time" }), null);
  });
});
