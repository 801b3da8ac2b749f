import assert from "node:assert/strict";
import { message as rheaMessage } from "rhea";
import { amqpEventId } from "../../../src/amqp/event-id";

const XML = '<Event xmlns="http://www.gonicus.de/Events"><PhoneStatus><CallerId>1</CallerId></PhoneStatus></Event>';

describe("amqp/event-id", () => {
  it("same message-id: same id, whatever the body's form; other message-id: other id", () => {
    const a = amqpEventId({ message_id: "9c7e8632-26cc-4a15-b4ff-e17ed7677c57", body: XML });
    const b = amqpEventId({ message_id: "9c7e8632-26cc-4a15-b4ff-e17ed7677c57", body: rheaMessage.data_section(Buffer.from(XML)) });
    assert.equal(a, b);
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(amqpEventId({ message_id: "another", body: XML }), a);
  });

  it("without a message-id: a digest of the body (string and data section alike)", () => {
    const a = amqpEventId({ message_id: undefined, body: XML });
    const b = amqpEventId({ message_id: undefined, body: rheaMessage.data_section(Buffer.from(XML)) });
    assert.equal(a, b);
    assert.notEqual(amqpEventId({ message_id: undefined, body: XML.replace(">1<", ">2<") }), a);
    // A message-id and a body never make the same id.
    assert.notEqual(amqpEventId({ message_id: XML, body: "" }), a);
  });

  it("a body that is no text (an AMQP value) still has an id", () => {
    const a = amqpEventId({ message_id: undefined, body: { k: [1, 2] } });
    assert.equal(a, amqpEventId({ message_id: undefined, body: { k: [1, 2] } }));
    assert.notEqual(a, amqpEventId({ message_id: undefined, body: { k: [1, 3] } }));
  });
});
