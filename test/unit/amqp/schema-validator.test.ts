import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InfraError } from "../../../src/core/errors";
import { makeEvent } from "../../../src/amqp/event-maker";
import { SchemaValidator } from "../../../src/amqp/schema-validator";
import { CLACKS_NS } from "../../../src/amqp/xml-event";
import { clacksSchemaDir } from "./support/clacks-schemas";

describe("amqp schema validation against Clacks-format XSDs", function () {
  this.timeout(20000);
  const validator = new SchemaValidator(clacksSchemaDir());

  it("composes the envelope from every XSD in the folder (as events.xsl did)", async () => {
    const events = await validator.events();
    assert.deepEqual(events, ["ClientPoll", "NodeStatus", "PhoneStatus"]);
  });

  it("accepts valid events and rejects invalid ones with the reason", async () => {
    const ok = await validator.validate(makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } }).xml);
    assert.deepEqual(ok, { valid: true, errors: [] });
    assert.equal((await validator.validate(makeEvent({ ClientPoll: {} }).xml)).valid, true);
    const missing = await validator.validate(makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2" } }).xml);
    assert.equal(missing.valid, false);
    assert.match(missing.errors.join("\n"), /Status/);
    const badType = await validator.validate(makeEvent({ NodeStatus: { Load: "high", Latency: 1, Workers: 1, Id: "a" } }).xml);
    assert.equal(badType.valid, false);
    assert.match(badType.errors.join("\n"), /Load|float/);
    const unknown = await validator.validate(makeEvent({ NoSuchEvent: { A: 1 } }).xml);
    assert.equal(unknown.valid, false);
    const two = await validator.validate(`<Event xmlns="${CLACKS_NS}"><ClientPoll/><ClientPoll/></Event>`);
    assert.equal(two.valid, false);
  });

  it("refuses what each event's own schema forbids, and accepts the same event when fixed", async () => {
    // Each pair differs in one point only, so the refusal is owed to that point.
    const cases: Array<[string, unknown, unknown, RegExp]> = [
      [
        "extra element",
        { PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy", Extra: "x" } },
        { PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } },
        /Extra.*not expected/,
      ],
      [
        "repeated element",
        { PhoneStatus: { CallerId: ["1", "3"], ReceiverId: "2", Status: "busy" } },
        { PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } },
        /CallerId.*not expected/,
      ],
      [
        "negative worker count",
        { NodeStatus: { Id: "a", Load: 0.5, Latency: 1, Workers: -1 } },
        { NodeStatus: { Id: "a", Load: 0.5, Latency: 1, Workers: 1 } },
        /Workers.*nonNegativeInteger/,
      ],
      [
        "missing Id",
        { NodeStatus: { Load: 0.5, Latency: 1, Workers: 1 } },
        { NodeStatus: { Id: "a", Load: 0.5, Latency: 1, Workers: 1 } },
        /Missing child.*\}Id/,
      ],
      ["content in an empty event", { ClientPoll: { Client: "c1" } }, { ClientPoll: {} }, /content is not allowed/],
      [
        "an event outside the namespace",
        `<Event xmlns="urn:other"><ClientPoll/></Event>`,
        `<Event xmlns="${CLACKS_NS}"><ClientPoll/></Event>`,
        /No matching global declaration/,
      ],
    ];
    for (const [what, bad, good, reason] of cases) {
      const xmlOf = (e: unknown) => (typeof e === "string" ? e : makeEvent(e).xml);
      const refused = await validator.validate(xmlOf(bad));
      assert.equal(refused.valid, false, what);
      assert.match(refused.errors.join("\n"), reason, what);
      assert.deepEqual(await validator.validate(xmlOf(good)), { valid: true, errors: [] }, what);
    }
  });

  it("names the line and the element of each error", async () => {
    // Written over several lines, as a hand-made event is: the line points into the event.
    const xml = `<Event xmlns="${CLACKS_NS}">\n<PhoneStatus>\n<CallerId>1</CallerId>\n<CallerId>3</CallerId>\n<ReceiverId>2</ReceiverId><Status>busy</Status>\n</PhoneStatus>\n</Event>`;
    const repeated = await validator.validate(xml);
    assert.equal(repeated.valid, false);
    assert.equal(repeated.errors.length, 1, repeated.errors.join("\n"));
    assert.match(
      repeated.errors[0],
      /^line 4, \/Event\/PhoneStatus\/CallerId\[2\]: Element '\{http:\/\/www\.gonicus\.de\/Events\}CallerId': This element is not expected/,
    );
    const extra = await validator.validate(makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy", Extra: "x" } }).xml);
    assert.match(extra.errors.join("\n"), /^line 1, \/Event\/PhoneStatus\/Extra: .*Extra'?: This element is not expected/);
    const typed = await validator.validate(makeEvent({ NodeStatus: { Id: "a", Load: 0.5, Latency: 1, Workers: -1 } }).xml);
    assert.match(typed.errors.join("\n"), /^line 1, \/Event\/NodeStatus\/Workers: .*'-1' is not a valid value .*nonNegativeInteger/);
    // Not well-formed: refused with the parser's line and column, not thrown.
    const broken = await validator.validate(`<Event xmlns="${CLACKS_NS}">\n<ClientPoll>\n</Event>`);
    assert.equal(broken.valid, false);
    assert.match(broken.errors.join("\n"), /^line 3, column \d+: not well-formed: .*ClientPoll/);
    assert.deepEqual(await validator.validate(""), { valid: false, errors: ["not well-formed: empty, or not an XML document"] });
  });

  it("reports an unreadable or empty folder clearly", async () => {
    await assert.rejects(new SchemaValidator("/nonexistent/xsd").validate("<a/>"), (e: unknown) => e instanceof InfraError && e.code === "schema-folder");
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "amqp-xsd-"));
    try {
      await assert.rejects(new SchemaValidator(empty).events(), /no \.xsd files/);
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });
});

describe("amqp schema validation of bursts", function () {
  this.timeout(20000);
  it("answers concurrent validations each with its own result", async () => {
    const validator = new SchemaValidator(clacksSchemaDir());
    const good = makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } }).xml;
    const bad = makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2" } }).xml;
    const docs = Array.from({ length: 30 }, (_v, i) => (i % 3 === 1 ? bad : good));
    const results = await Promise.all(docs.map((d) => validator.validate(d)));
    results.forEach((r, i) => {
      assert.equal(r.valid, i % 3 !== 1, `event ${i}`);
      if (!r.valid) assert.match(r.errors.join(), /Status/);
      else assert.deepEqual(r.errors, []);
    });
  });
});
