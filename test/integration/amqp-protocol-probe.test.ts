import * as assert from "node:assert/strict";
import { probeAmqp } from "../../src/amqp/protocol-probe";
import { RABBIT } from "../unit/amqp/support/rabbit";

// The fake servers of test/unit/amqp/protocol-probe.test.ts answer as the probe expects; this is
// what a real RabbitMQ 3.10 with its AMQP 1.0 plugin answers.
describe("amqp protocol probe on a real RabbitMQ 3.10 (127.0.0.1:5672)", () => {
  it("RabbitMQ with the AMQP 1.0 plugin answers the SASL header: amqp1", async () => {
    assert.equal(await probeAmqp(RABBIT.host, RABBIT.port, 2000), "amqp1");
  });
});
