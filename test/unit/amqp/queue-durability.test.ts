import * as assert from "node:assert/strict";
import { InfraError } from "../../../src/core/errors";
import { describeError } from "../../../src/amqp/connection";
import { durabilityMismatch, explainDurabilityMismatch, sourceKind, terminusFor } from "../../../src/amqp/queue-durability";

// RabbitMQ 3.10.8's words when /queue/<q> is declared with the other durability, as describeError reports them.
const refusal = (queue: string, received: boolean, current: boolean, vhost = "/") =>
  describeError(
    {
      condition: "amqp:precondition-failed",
      description: `PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${queue}' in vhost '${vhost}': received '${received}' but current is '${current}'`,
    },
    "session ended by the broker",
  );

describe("amqp queue durability: address forms, terminus, mismatch errors", () => {
  it("sorts addresses by what RabbitMQ does with them", () => {
    assert.equal(sourceKind("/exchange/amq.topic/org.clacks.event.#"), "temporary");
    assert.equal(sourceKind("/topic/org.clacks.event.#"), "temporary");
    assert.equal(sourceKind("/queue/work"), "declared");
    assert.equal(sourceKind("work"), "declared");
    assert.equal(sourceKind("/amq/queue/work"), "existing");
    assert.equal(sourceKind("topic://org.clacks"), "other");
    assert.equal(sourceKind("queue://work"), "other");
    assert.equal(sourceKind("/temp-queue/x"), "other");
  });

  it("asks for a durable terminus that never expires for queues only", () => {
    assert.deepEqual(terminusFor("/queue/work", true), { address: "/queue/work", durable: 2, expiry_policy: "never" });
    assert.deepEqual(terminusFor("/amq/queue/work", true), { address: "/amq/queue/work", durable: 2, expiry_policy: "never" });
    assert.deepEqual(terminusFor("/queue/work", false), { address: "/queue/work", durable: 0 });
    assert.deepEqual(terminusFor("/exchange/amq.topic/k", true), { address: "/exchange/amq.topic/k", durable: 0 });
    assert.deepEqual(terminusFor("topic://k", true), { address: "topic://k", durable: 0 });
  });

  it("says what to do about an old transient queue: delete it, take it as it is, or choose transient", () => {
    const err = explainDurabilityMismatch(refusal("work", true, false), { setting: "Queue durability" });
    assert.ok(err instanceof InfraError);
    assert.equal(err.code, "queue-durability-mismatch");
    assert.deepEqual(err.details, { queue: "work", vhost: "/", existing: "transient" });
    assert.equal(
      err.message,
      "queue 'work' is transient (it loses its messages when the broker restarts) but is declared durable here (Queue durability: durable, the default). " +
        "Delete it once it is drained (rabbitmqctl delete_queue work) and it is declared durable on the next attach, " +
        "or use the address /amq/queue/work (takes the queue as it is, no declaration), or set Queue durability to transient to keep the old behaviour. " +
        "[amqp:precondition-failed: PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'work' in vhost '/': received 'true' but current is 'false']",
    );
  });

  it("says what to do about a durable queue declared transient, names the vhost, and leaves other errors alone", () => {
    const err = explainDurabilityMismatch(refusal("work", false, true), { setting: "Queue durability" });
    assert.match(
      err.message,
      /^queue 'work' is durable but is declared transient here \(Queue durability: transient\)\. Set Queue durability to durable, or use the address \/amq\/queue\/work /,
    );
    assert.match(explainDurabilityMismatch(refusal("w", true, false, "clacks"), {}).message, /rabbitmqctl delete_queue -p clacks w\)/);
    assert.doesNotMatch(explainDurabilityMismatch(refusal("w", true, false), {}).message, /Queue durability/);
    const other = new Error("amqp:not-found: no exchange 'x' in vhost '/'");
    assert.equal(explainDurabilityMismatch(other, { setting: "Queue durability" }), other);
    assert.equal(durabilityMismatch(other), undefined);
  });
});
