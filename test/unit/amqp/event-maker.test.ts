import * as assert from "node:assert/strict";
import fc from "fast-check";
import { InfraError } from "../../../src/core/errors";
import { errorCode } from "../../support/error-code";
import { checkEventXml, makeEvent } from "../../../src/amqp/event-maker";
import { eventToObject } from "../../../src/amqp/event-object";
import { CLACKS_NS, parseEvent } from "../../../src/amqp/xml-event";

const code = (fn: () => unknown): string => errorCode(InfraError, fn);

describe("amqp event-maker: building Clacks events from objects", () => {
  it("builds the seed's PhoneStatus exactly as Clacks' EventMaker serialised it", () => {
    const e = makeEvent({ PhoneStatus: { CallerId: "012345", ReceiverId: "12343424", Status: "busy" } });
    assert.equal(e.name, "PhoneStatus");
    assert.equal(
      e.xml,
      `<Event xmlns="${CLACKS_NS}"><PhoneStatus><CallerId>012345</CallerId><ReceiverId>12343424</ReceiverId><Status>busy</Status></PhoneStatus></Event>`,
    );
  });

  it("writes arrays as repeated elements, $ as attributes, _ as text, numbers and booleans as text", () => {
    const e = makeEvent({
      NodeCapabilities: {
        Id: "n1",
        NodeMethod: [
          { Name: "a", QueueRequired: false },
          { Name: "b", QueueRequired: true },
        ],
        Tag: { $: { k: 'v<&"' }, _: "t" },
        Load: 0.5,
      },
    });
    assert.equal(
      e.xml,
      `<Event xmlns="${CLACKS_NS}"><NodeCapabilities><Id>n1</Id><NodeMethod><Name>a</Name><QueueRequired>false</QueueRequired></NodeMethod><NodeMethod><Name>b</Name><QueueRequired>true</QueueRequired></NodeMethod><Tag k="v&lt;&amp;&quot;">t</Tag><Load>0.5</Load></NodeCapabilities></Event>`,
    );
  });

  it("round-trips through the receiver's object form", () => {
    const data = {
      PuppetReport: {
        Id: "c1",
        PuppetLog: [
          { $: { n: "1" }, Level: "err", Message: "x < y & z" },
          { Level: "info", Message: "ok" },
        ],
      },
    };
    const built = makeEvent(data);
    assert.deepEqual(eventToObject(parseEvent(built.xml).element), data.PuppetReport);
  });

  it("escapes text so hostile values cannot inject markup", () => {
    const e = makeEvent({ PhoneStatus: { Status: "</Status><Injected/><Status>" } });
    const o = eventToObject(parseEvent(e.xml).element);
    assert.deepEqual(o, { Status: "</Status><Injected/><Status>" });
  });

  it("refuses what cannot be a valid event", () => {
    assert.equal(
      code(() => makeEvent({})),
      "event-needs-one-name",
    );
    assert.equal(
      code(() => makeEvent({ A: {}, B: {} })),
      "event-needs-one-name",
    );
    assert.equal(
      code(() => makeEvent(42)),
      "event-not-object",
    );
    assert.equal(
      code(() => makeEvent([{ A: 1 }])),
      "event-not-object",
    );
    assert.equal(
      code(() => makeEvent({ "1bad": {} })),
      "bad-element-name",
    );
    assert.equal(
      code(() => makeEvent({ A: { "x y": 1 } })),
      "bad-element-name",
    );
    assert.equal(
      code(() => makeEvent({ A: { B: "\u0001" } })),
      "bad-value",
    );
    assert.equal(
      code(() => makeEvent({ A: { B: NaN } })),
      "bad-value",
    );
    assert.equal(
      code(() => makeEvent({ A: { $: { "xmlns:x": "y" } } })),
      "bad-attributes",
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.Self = cyclic;
    assert.equal(
      code(() => makeEvent({ A: cyclic })),
      "event-too-deep",
    );
    assert.equal(
      code(() => makeEvent({ A: { B: "x".repeat(300_000) } })),
      "event-too-large",
    );
  });

  it("accepts given XML after the receiver's checks, stripping a leading declaration", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Event xmlns="${CLACKS_NS}"><NodeLeave><Id>a</Id></NodeLeave></Event>`;
    const e = checkEventXml(xml);
    assert.equal(e.name, "NodeLeave");
    assert.ok(e.xml.startsWith("<Event"));
    assert.equal(makeEvent(xml).name, "NodeLeave");
    assert.throws(() => makeEvent(`<!DOCTYPE x><Event xmlns="${CLACKS_NS}"><A/></Event>`), /DOCTYPE/);
    assert.throws(() => makeEvent(`<Event><A/></Event>`), /root element/);
  });

  it("always produces XML the receiver reads back to the same fields (property)", () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,8}$/).filter((n) => !n.toLowerCase().startsWith("xml"));
    // eslint-disable-next-line no-control-regex -- these are the characters XML 1.0 cannot carry, which the property leaves out
    const text = fc.string().filter((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(s) && !/[\uD800-\uDFFF]/.test(s));
    fc.assert(
      fc.property(name, fc.dictionary(name, text, { maxKeys: 5 }), (n, fields) => {
        const e = makeEvent({ [n]: fields });
        const back = eventToObject(parseEvent(e.xml).element);
        assert.equal(parseEvent(e.xml).name, n);
        assert.deepEqual(back, { ...fields });
      }),
      { numRuns: 300 },
    );
  });
});
