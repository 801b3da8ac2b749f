import * as assert from "node:assert/strict";
import type { Delivery } from "rhea";
import { parseBrokerUrls } from "../../../src/amqp/broker-url";
import { applyOutcome, parseOutcome } from "../../../src/amqp/settlement";

function fakeDelivery() {
  const calls: Array<[string, unknown[]]> = [];
  const d = {
    accept: (...a: unknown[]) => calls.push(["accept", a]),
    reject: (...a: unknown[]) => calls.push(["reject", a]),
    release: (...a: unknown[]) => calls.push(["release", a]),
    modified: (...a: unknown[]) => calls.push(["modified", a]),
  };
  return { d: d as unknown as Delivery, calls };
}

describe("amqp broker URLs and settlement outcomes", () => {
  it("parses failover lists with default ports", () => {
    assert.deepEqual(parseBrokerUrls("amqp://a, amqps://b:6000\nc:5673"), [
      { transport: "tcp", host: "a", port: 5672 },
      { transport: "tls", host: "b", port: 6000 },
      { transport: "tcp", host: "c", port: 5673 },
    ]);
    assert.deepEqual(parseBrokerUrls(["amqps://h"]), [{ transport: "tls", host: "h", port: 5671 }]);
  });

  it("refuses URLs with credentials, paths, other schemes or nothing at all", () => {
    assert.throws(() => parseBrokerUrls("amqp://u:p@h"), /credentials/);
    assert.throws(() => parseBrokerUrls("amqp://h/org.clacks"), /no path/);
    assert.throws(() => parseBrokerUrls("http://h"), /scheme/);
    assert.throws(() => parseBrokerUrls(" "), /no broker URL/);
  });

  it("parses outcomes and their common aliases", () => {
    assert.equal(parseOutcome("ACCEPTED"), "accept");
    assert.equal(parseOutcome("nack"), "release");
    assert.equal(parseOutcome("modify"), "modified");
    assert.throws(() => parseOutcome("maybe"), /not an outcome/);
  });

  it("releases with no argument (rhea turns any argument into modified)", () => {
    const { d, calls } = fakeDelivery();
    assert.equal(applyOutcome(d, { outcome: "release" }, true), "release");
    assert.deepEqual(calls, [["release", []]]);
  });

  it("maps modified on RabbitMQ (which would end the session) to release or reject", () => {
    let f = fakeDelivery();
    assert.equal(applyOutcome(f.d, { outcome: "modified", deliveryFailed: true }, true), "release");
    assert.deepEqual(f.calls, [["release", []]]);
    f = fakeDelivery();
    assert.equal(applyOutcome(f.d, { outcome: "modified", undeliverableHere: true }, true), "reject");
    assert.equal(f.calls[0][0], "reject");
    f = fakeDelivery();
    assert.equal(applyOutcome(f.d, { outcome: "modified", undeliverableHere: true }, false), "modified");
    assert.deepEqual(f.calls, [["modified", [{ delivery_failed: true, undeliverable_here: true }]]]);
  });

  it("rejects with the given error condition", () => {
    const { d, calls } = fakeDelivery();
    applyOutcome(d, { outcome: "reject", error: { description: "bad" } }, true);
    assert.deepEqual(calls, [["reject", [{ condition: "amqp:internal-error", description: "bad" }]]]);
  });
});
