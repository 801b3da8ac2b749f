import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { waitFor } from "../support/wait";

helper.init(nodeRedPath);

const nsoAck = require("../../src/nodes/nso-ack");

const amqpAck = require("../../src/nodes/amqp1-ack");

// With single-output routing the gap message leaves on the same wire as the events, so it reaches
// the ack node: it has nothing to settle and must pass, not be reported as a missing ack token.
describe("ack nodes let a gap message through", function () {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  const gap = {
    topic: "gap",
    payload: { channel: "nso", reason: "socket closed", since: "2026-01-01T00:00:00.000Z", until: "2026-01-01T00:00:01.000Z", filled: false },
  };

  it("nso-ack passes a gap message on, with no error", async () => {
    await helper.load([nsoAck], [
      { id: "ack", type: "nso-ack", wires: [["out"]] },
      { id: "out", type: "helper" },
    ] as never);
    const got: unknown[] = [];
    helper.getNode("out").on("input", (m: unknown) => got.push(m));
    const ack = helper.getNode("ack") as unknown as { error: { called: boolean } };
    helper.getNode("ack").receive(gap);
    await waitFor("the gap message passed on", () => got.length === 1);
    assert.equal((got[0] as { topic: string }).topic, "gap");
    assert.equal(ack.error.called, false);
  });

  it("nso-ack still refuses an event without a token", async () => {
    await helper.load([nsoAck], [{ id: "ack", type: "nso-ack", wires: [[]] }] as never);
    const ack = helper.getNode("ack") as unknown as { error: { called: boolean } };
    helper.getNode("ack").receive({ topic: "NOTIF_COMMIT_DIFF", payload: {} });
    await waitFor("an error for the missing token", () => ack.error.called);
  });

  it("amqp1-ack takes a gap message without an error", async () => {
    await helper.load([amqpAck], [{ id: "ack", type: "amqp1-ack" }] as never);
    const ack = helper.getNode("ack") as unknown as { error: { called: boolean } };
    helper.getNode("ack").receive(gap);
    await new Promise((r) => setImmediate(r));
    assert.equal(ack.error.called, false);
    helper.getNode("ack").receive({ topic: "PhoneStatus", payload: {} });
    await waitFor("an error for the missing token", () => ack.error.called);
  });
});
