import assert from "node:assert/strict";
import { gapMessage } from "../../../src/nodes/lib/gap";

describe("nodes/lib/gap: one gap message for four channels", () => {
  it("has topic gap, ISO times and the fixed fields", () => {
    const m = gapMessage(
      "sysadm",
      { reason: "socket closed", since: 1_700_000_000_000, until: new Date(1_700_000_005_000), filled: false },
      { server: "ws://h" },
    );
    assert.deepEqual(m, {
      topic: "gap",
      payload: {
        server: "ws://h",
        channel: "sysadm",
        reason: "socket closed",
        since: "2023-11-14T22:13:20.000Z",
        until: "2023-11-14T22:13:25.000Z",
        filled: false,
      },
    });
  });

  it("never lets a channel extra overwrite a fixed field", () => {
    const m = gapMessage(
      "amqp",
      { reason: "r", since: 0, until: 1, filled: "redelivery" },
      { channel: "x", filled: "nope", since: "bad", address: "/queue/q" },
    );
    assert.equal(m.payload.channel, "amqp");
    assert.equal(m.payload.filled, "redelivery");
    assert.equal(m.payload.since, "1970-01-01T00:00:00.000Z");
    assert.equal(m.payload.address, "/queue/q");
  });
});
