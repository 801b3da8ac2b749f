import assert from "node:assert/strict";
import { message as rheaMessage } from "rhea";
import { BUS_CONTENT_TYPE, fromBusEvent, isBusMessage, toBusEvent } from "../../../src/amqp/bus-event";
import { EventDecoder } from "../../../src/amqp/event-decoder";

/** What a receiver gets for an envelope amqp1-send built (the fields the sender sets). */
function wire(msg: Record<string, unknown>) {
  const b = toBusEvent(msg);
  return {
    b,
    message: {
      message_id: b.eventId,
      subject: b.subject,
      content_type: BUS_CONTENT_TYPE,
      application_properties: b.properties,
      body: rheaMessage.data_section(b.body),
    },
  };
}

describe("amqp/bus-event", () => {
  const nsoMsg = {
    topic: "NOTIF_AUDIT",
    payload: { logno: 116, user: "admin", usid: 59, msg: "assigned to groups: admin" },
    nso: { type: 1, typeName: "NOTIF_AUDIT", server: "nso.example:4569" },
    eventId: "0123456789abcdef0123456789abcdef",
    ack: { server: "n1", connection: "n1#1", kind: "nso-audit", id: 3 },
    _msgid: "abc",
  };

  it("an NSO message: body {topic, payload, nso}, message-id = eventId, routing properties; the ack token stays behind", () => {
    const { b } = wire(nsoMsg);
    assert.equal(b.eventId, nsoMsg.eventId);
    assert.equal(b.channel, "nso");
    assert.equal(b.subject, "infra.nso.NOTIF_AUDIT");
    assert.deepEqual(b.properties, { infra_bus: 1, infra_channel: "nso", infra_type: "NOTIF_AUDIT", infra_source: "nso.example:4569" });
    assert.deepEqual(JSON.parse(b.body.toString()), { topic: nsoMsg.topic, payload: nsoMsg.payload, nso: nsoMsg.nso });
  });

  it("the decoder restores what the input node sent (topic, payload, metadata, eventId)", () => {
    const { message } = wire(nsoMsg);
    assert.ok(isBusMessage(message));
    const d = new EventDecoder().decode(message);
    assert.equal(d.kind, "bus");
    if (d.kind !== "bus") return;
    assert.deepEqual(
      { name: d.name, payload: d.payload, meta: d.meta, eventId: d.eventId, channel: d.channel },
      { name: "NOTIF_AUDIT", payload: nsoMsg.payload, meta: nsoMsg.nso, eventId: nsoMsg.eventId, channel: "nso" },
    );
  });

  it("each channel is found by its metadata key; source and type route", () => {
    assert.equal(toBusEvent({ topic: "faultInst", payload: {}, apic: { controller: "https://apic1", dn: "x" } }).properties.infra_source, "https://apic1");
    assert.equal(toBusEvent({ topic: "dispatcher", payload: {}, sysadm: { server: "wss://h:12151" } }).channel, "sysadm");
    const clacks = toBusEvent({
      topic: "PhoneStatus",
      payload: { Status: "busy" },
      xml: "<Event/>",
      amqp: { address: "/exchange/amq.topic/#", messageId: "m1" },
    });
    assert.equal(clacks.channel, "amqp");
    assert.equal(JSON.parse(clacks.body.toString()).xml, "<Event/>");
    // A type with dots or wildcards cannot widen a topic binding.
    assert.equal(toBusEvent({ topic: "a.b#*", payload: 1 }).subject, "infra.flow.a_b__");
  });

  it("a message without eventId (an inject node) gets one from its body: the same body, the same id", () => {
    const a = toBusEvent({ topic: "t", payload: { n: 1 } });
    assert.equal(a.channel, "flow");
    assert.equal(a.eventId, toBusEvent({ payload: { n: 1 }, topic: "t" }).eventId);
    assert.notEqual(a.eventId, toBusEvent({ topic: "t", payload: { n: 2 } }).eventId);
  });

  it("refuses other versions and bodies that are not a JSON object (a counted drop, not a crash)", () => {
    assert.throws(() => fromBusEvent("{}", "id", { infra_bus: 2 }), { code: "bus-version" });
    assert.throws(() => fromBusEvent("not json", "id", { infra_bus: 1 }), { code: "bus-not-json" });
    assert.throws(() => fromBusEvent("[1]", "id", { infra_bus: 1 }), { code: "bus-bad-body" });
  });

  it("an XML message without the mark is not a bus event", () => {
    assert.equal(isBusMessage({ content_type: "application/xml", application_properties: { clacks_event: "X" } }), false);
    assert.equal(isBusMessage({ content_type: "application/xml", application_properties: { infra_bus: 1 } }), false);
  });
});
