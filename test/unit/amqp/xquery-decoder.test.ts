import * as assert from "node:assert/strict";
import type { Message } from "rhea";
import { message as rheaMessage } from "rhea";
import { InfraError, ProtocolError } from "../../../src/core/errors";
import { EventDecoder, nameFromMessage } from "../../../src/amqp/event-decoder";
import { makeEvent } from "../../../src/amqp/event-maker";
import { CLACKS_NS, parseEvent } from "../../../src/amqp/xml-event";
import { propertiesAsVariables, XQueryFilter } from "../../../src/amqp/xquery-filter";

const SEED_QUERY = `
                declare namespace f='http://www.gonicus.de/Events';
                let $e := ./f:Event
                return $e/f:PhoneStatus
            `;
const AGENT_QUERY = `declare namespace f='http://www.gonicus.de/Events';
let $e := ./f:Event
return $e/f:NodeAnnounce or $e/f:NodeLeave or $e/f:NodeCapabilities or $e/f:NodeStatus`;

const phone = (status: string) => makeEvent({ PhoneStatus: { CallerId: "012345", ReceiverId: "12343424", Status: status } }).xml;
const msg = (xml: string, extra: Partial<Message> = {}): Message => ({ body: rheaMessage.data_section(Buffer.from(xml)), ...extra });

describe("amqp XQuery filter and event decoder", () => {
  it("runs the seed's query as written (Qpid semantics: document node context, EBV)", () => {
    const f = new XQueryFilter(SEED_QUERY);
    assert.equal(f.evaluate(parseEvent(phone("busy")).doc).match, true);
    assert.equal(f.evaluate(parseEvent(makeEvent({ NodeLeave: { Id: "a" } }).xml).doc).match, false);
    const agent = new XQueryFilter(AGENT_QUERY);
    assert.equal(agent.evaluate(parseEvent(phone("busy")).doc).match, false);
    assert.equal(agent.evaluate(parseEvent(makeEvent({ NodeStatus: { Load: 0.1 } }).xml).doc).match, true);
  });

  it("unprefixed names have no default namespace (XQuery and Qpid): /Event/PhoneStatus does not match a Clacks event", () => {
    const clacks = parseEvent(phone("busy")).doc;
    assert.equal(new XQueryFilter("/Event/PhoneStatus").evaluate(clacks).match, false);
    assert.equal(new XQueryFilter("./Event").evaluate(clacks).match, false);
    // The ways to say "in the Events namespace" keep matching: a prefix, a default declaration, a wildcard.
    assert.equal(new XQueryFilter(SEED_QUERY).evaluate(clacks).match, true);
    assert.equal(new XQueryFilter(`declare default element namespace '${CLACKS_NS}'; /Event/PhoneStatus`).evaluate(clacks).match, true);
    assert.equal(new XQueryFilter("/*:Event/*:PhoneStatus").evaluate(clacks).match, true);
    assert.equal(new XQueryFilter("xs:integer(string(//*:CallerId)) > 0").evaluate(clacks).match, true);
  });

  it("filters on content, and passes application properties as external variables", () => {
    const busy = new XQueryFilter(`declare namespace f='${CLACKS_NS}'; ./f:Event/f:PhoneStatus[f:Status = 'busy']`);
    assert.equal(busy.evaluate(parseEvent(phone("busy")).doc).match, true);
    assert.equal(busy.evaluate(parseEvent(phone("idle")).doc).match, false);
    const v = new XQueryFilter(`declare variable $site external; $site = 'berlin'`);
    assert.equal(v.evaluate(parseEvent(phone("x")).doc, { site: "berlin" }).match, true);
    // A variable the message does not carry is a non-match with the reason, as in Qpid.
    const r = v.evaluate(parseEvent(phone("x")).doc, {});
    assert.equal(r.match, false);
    assert.ok(r.error);
  });

  it("refuses queries that can never compile, at construction", () => {
    assert.throws(
      () => new XQueryFilter("let $x := "),
      (e: unknown) => e instanceof InfraError && e.code === "xquery-invalid",
    );
    assert.throws(
      () => new XQueryFilter("./g:Event"),
      (e: unknown) => e instanceof InfraError && e.code === "xquery-invalid",
    );
    assert.throws(
      () => new XQueryFilter("foo:bar()"),
      (e: unknown) => e instanceof InfraError && e.code === "xquery-invalid",
    );
  });

  it("keeps only safe, atomic application properties as variables", () => {
    assert.deepEqual(propertiesAsVariables({ a: "x", b: 2, c: true, d: { x: 1 }, "bad name": 1, e: NaN, f: null }), { a: "x", b: 2, c: true });
  });

  it("decodes an xml-event message into name, object and XML; the XQuery decides", () => {
    const d = new EventDecoder({ xquery: SEED_QUERY });
    const r = d.decode(msg(phone("busy")));
    assert.equal(r.kind, "event");
    if (r.kind !== "event") return;
    assert.equal(r.name, "PhoneStatus");
    assert.deepEqual(r.payload, { CallerId: "012345", ReceiverId: "12343424", Status: "busy" });
    assert.equal(d.decode(msg(makeEvent({ NodeLeave: { Id: "a" } }).xml)).kind, "filtered");
    // amqp-value string bodies are accepted too
    assert.equal(d.decode({ body: phone("idle") }).kind, "event");
  });

  it("throws ProtocolErrors for hostile bodies, oversize before any decoding", () => {
    const d = new EventDecoder({ maxBytes: 512 });
    const codeOf = (m: Message) => {
      try {
        d.decode(m);
      } catch (e) {
        assert.ok(e instanceof ProtocolError);
        return e.code;
      }
      return "none";
    };
    assert.equal(codeOf(msg("x".repeat(600))), "xml-too-large");
    assert.equal(codeOf(msg(`<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><Event xmlns="${CLACKS_NS}"><A>&e;</A></Event>`)), "xml-doctype");
    assert.equal(codeOf(msg("<Event")), "xml-malformed");
    assert.equal(codeOf({ body: 42 }), "body-not-text");
  });

  it("passes raw bodies through untouched, naming them from clacks_event or the subject", () => {
    const d = new EventDecoder({ format: "raw", xquery: SEED_QUERY });
    const r = d.decode(msg("not xml", { subject: "org.clacks.event.Foo" }));
    assert.equal(r.kind, "raw");
    if (r.kind !== "raw") return;
    assert.ok(Buffer.isBuffer(r.payload));
    assert.equal(r.payload.toString(), "not xml");
    assert.equal(r.name, "Foo");
    assert.equal(nameFromMessage({ application_properties: { clacks_event: "Bar" }, subject: "x.event.Foo" } as unknown as Message), "Bar");
    assert.equal(nameFromMessage({ subject: "plain" } as unknown as Message), undefined);
    const obj = { a: 1 };
    const r2 = d.decode({ body: obj });
    assert.equal(r2.kind === "raw" && r2.payload, obj);
  });
});
