import * as assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../../src/core/errors";
import { errorCode } from "../../support/error-code";
import { bodyToText, CLACKS_NS, parseEvent } from "../../../src/amqp/xml-event";
import { eventToObject } from "../../../src/amqp/event-object";

const PHONE = `<?xml version='1.0'?>\n<Event xmlns="${CLACKS_NS}"><PhoneStatus><CallerId>012345</CallerId><ReceiverId>12343424</ReceiverId><Status>busy</Status></PhoneStatus></Event>`;

const code = (fn: () => unknown): string => errorCode(ProtocolError, fn);

describe("amqp xml-event: safe parsing of the Clacks envelope", () => {
  it("parses the seed's PhoneStatus event and names it", () => {
    const p = parseEvent(PHONE);
    assert.equal(p.name, "PhoneStatus");
    assert.deepEqual(eventToObject(p.element), { CallerId: "012345", ReceiverId: "12343424", Status: "busy" });
  });

  it("refuses DOCTYPEs: billion laughs and external entities never reach the parser", () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><Event xmlns="${CLACKS_NS}"><X>&lol2;</X></Event>`;
    assert.equal(
      code(() => parseEvent(laughs)),
      "xml-doctype",
    );
    const xxe = `<!doctype Event [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Event xmlns="${CLACKS_NS}"><X>&xxe;</X></Event>`;
    assert.equal(
      code(() => parseEvent(xxe)),
      "xml-doctype",
    );
  });

  it("refuses undeclared entities, truncated and malformed documents", () => {
    assert.equal(
      code(() => parseEvent(`<Event xmlns="${CLACKS_NS}"><X>&foo;</X></Event>`)),
      "xml-malformed",
    );
    assert.equal(
      code(() => parseEvent(PHONE.slice(0, PHONE.length - 10))),
      "xml-malformed",
    );
    assert.equal(
      code(() => parseEvent("")),
      "xml-malformed",
    );
    assert.equal(
      code(() => parseEvent("not xml at all")),
      "xml-malformed",
    );
    assert.equal(
      code(() => parseEvent(`<?xml version='1.0'?><?xml version='1.0'?><Event xmlns="${CLACKS_NS}"><A/></Event>`)),
      "xml-malformed",
    );
  });

  it("enforces the size cap before parsing (bytes, not characters)", () => {
    const big = `<Event xmlns="${CLACKS_NS}"><X>${"a".repeat(2000)}</X></Event>`;
    assert.equal(
      code(() => parseEvent(big, { maxBytes: 1000 })),
      "xml-too-large",
    );
    const multibyte = `<Event xmlns="${CLACKS_NS}"><X>${"é".repeat(400)}</X></Event>`; // 800 bytes of text
    assert.equal(
      code(() => parseEvent(multibyte, { maxBytes: 600 })),
      "xml-too-large",
    );
    assert.equal(parseEvent(multibyte, { maxBytes: 2000 }).name, "X");
  });

  it("checks the envelope: namespace, root name, exactly one event element", () => {
    assert.equal(
      code(() => parseEvent(`<Event><PhoneStatus/></Event>`)),
      "not-an-event",
    );
    assert.equal(
      code(() => parseEvent(`<Evnt xmlns="${CLACKS_NS}"><PhoneStatus/></Evnt>`)),
      "not-an-event",
    );
    assert.equal(
      code(() => parseEvent(`<Event xmlns="${CLACKS_NS}"/>`)),
      "bad-envelope",
    );
    assert.equal(
      code(() => parseEvent(`<Event xmlns="${CLACKS_NS}"><A/><B/></Event>`)),
      "bad-envelope",
    );
    assert.equal(
      code(() => parseEvent(`<e:Event xmlns:e="${CLACKS_NS}"><A xmlns="urn:other"/></e:Event>`)),
      "bad-envelope",
    );
    assert.equal(parseEvent(`<e:Event xmlns:e="${CLACKS_NS}"><e:ClientPoll/></e:Event>`).name, "ClientPoll");
    assert.equal(parseEvent(`<Event xmlns="urn:x"><A/></Event>`, { namespace: "urn:x" }).name, "A");
  });

  it("turns repeated elements into arrays and keeps attributes", () => {
    const xml = `<Event xmlns="${CLACKS_NS}"><PuppetReport><Id>c1</Id><PuppetLog level="err"><Message>a</Message></PuppetLog><PuppetLog><Message>b</Message></PuppetLog><PuppetLog><Message>c</Message></PuppetLog><Empty/></PuppetReport></Event>`;
    const o = eventToObject(parseEvent(xml).element);
    assert.deepEqual(o, {
      Id: "c1",
      PuppetLog: [{ $: { level: "err" }, Message: "a" }, { Message: "b" }, { Message: "c" }],
      Empty: "",
    });
    assert.deepEqual(eventToObject(parseEvent(`<Event xmlns="${CLACKS_NS}"><ClientPoll/></Event>`).element), {});
  });

  it("decodes data sections, buffers and amqp-value strings; refuses other bodies", () => {
    assert.equal(bodyToText("x"), "x");
    assert.equal(bodyToText(Buffer.from("é")), "é");
    assert.equal(bodyToText({ typecode: 0x75, content: Buffer.from("abc") }), "abc");
    assert.equal(
      code(() => bodyToText({ typecode: 0x77, content: 5 })),
      "body-not-text",
    );
    assert.equal(
      code(() => bodyToText(undefined)),
      "body-not-text",
    );
    assert.equal(
      code(() => bodyToText([1, 2])),
      "body-not-text",
    );
  });

  it("never throws anything but a ProtocolError on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `<Event xmlns="${CLACKS_NS}">${s}</Event>`),
          fc.constant(PHONE).chain((p) => fc.nat(p.length).map((n) => p.slice(0, n))),
        ),
        (s) => {
          try {
            parseEvent(s);
          } catch (e) {
            return e instanceof ProtocolError;
          }
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });
});
