import * as assert from "node:assert/strict";
import fc from "fast-check";
import { Node, parseXmlDocument } from "slimdom";
import type { Message } from "rhea";
import { ProtocolError } from "../../../src/core/errors";
import { errorCode } from "../../support/error-code";
import { CLACKS_NS, parseEvent } from "../../../src/amqp/xml-event";
import { EventDecoder } from "../../../src/amqp/event-decoder";
import { readSimpleEvent } from "../../../src/amqp/fast-event";
import { checkXmlShape, depthSetting } from "../../../src/amqp/xml-limits";
import { FailureCounter } from "../../../src/amqp/redelivery-limit";

const code = (fn: () => unknown): string => errorCode(ProtocolError, fn);

/** `<Event>` around the event element around `n` nested `<a>`: n + 2 levels. */
const nested = (n: number, leaf = "x"): string => `<Event xmlns="${CLACKS_NS}"><Deep>${"<a>".repeat(n)}${leaf}${"</a>".repeat(n)}</Deep></Event>`;

function domDepth(n: Node, d = 0): number {
  let max = d;
  for (let c = n.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) max = Math.max(max, domDepth(c, d + 1));
  return max;
}

function shapeAllows(xml: string, maxDepth: number): boolean {
  try {
    checkXmlShape(xml, { maxDepth });
    return true;
  } catch (e) {
    if (e instanceof ProtocolError && e.code === "xml-too-deep") return false;
    throw e;
  }
}

describe("amqp xml-limits: depth and element count before any DOM or XQuery", () => {
  it("counts depth exactly as the DOM has it, whatever comments, CDATA, PIs and attributes hold", () => {
    const tricky = `<?xml version="1.0"?><!-- <a><a><a> --><Event xmlns="${CLACKS_NS}" q='>' r="b>"><X a="/>"><?pi <c><c> ?><![CDATA[<d><d><d>]]><Y/><Z t='"'>z</Z></X></Event>`;
    assert.equal(domDepth(parseXmlDocument(tricky)), 3);
    assert.ok(shapeAllows(tricky, 3));
    assert.ok(!shapeAllows(tricky, 2));
    // Property: for generated well-formed documents the scan agrees with the DOM at every limit.
    const tree: fc.Memo<string> = fc.memo((n) =>
      n <= 1
        ? fc.constantFrom("t", "", "<e/>", "<e a='>'/>", "<!--<x>-->", "<![CDATA[<y>]]>")
        : fc
            .array(
              fc.oneof(
                tree(n - 1),
                tree(n - 1).map((c) => `<e k="/>v>">${c}</e>`),
              ),
              { maxLength: 3 },
            )
            .map((cs) => cs.join("")),
    );
    fc.assert(
      fc.property(tree(6), fc.integer({ min: 1, max: 9 }), (body, limit) => {
        const xml = `<Event xmlns="${CLACKS_NS}"><E>${body}</E></Event>`;
        const depth = domDepth(parseXmlDocument(xml));
        assert.equal(shapeAllows(xml, limit), depth <= limit, `${xml} (depth ${depth}, limit ${limit})`);
      }),
      { numRuns: 300 },
    );
  });

  it("counts elements when asked to (the XQuery path)", () => {
    const wide = `<Event xmlns="${CLACKS_NS}"><W>${"<i>1</i>".repeat(98)}</W></Event>`; // 100 elements
    checkXmlShape(wide, { maxDepth: 64, maxElements: 100 });
    assert.equal(
      code(() => checkXmlShape(wide, { maxDepth: 64, maxElements: 99 })),
      "xml-too-many-elements",
    );
  });

  it("parseEvent refuses a document deeper than 64 levels by default, before building a DOM", () => {
    assert.equal(parseEvent(nested(62)).name, "Deep"); // 64 levels
    assert.equal(
      code(() => parseEvent(nested(63))),
      "xml-too-deep",
    );
    assert.equal(
      code(() => parseEvent(nested(16000))),
      "xml-too-deep",
    );
    assert.equal(parseEvent(nested(200), { maxDepth: 202 }).name, "Deep");
  });

  it("the decoder drops the 21 KB event nested 3,000 deep, with and without an XQuery", () => {
    const deep = nested(3000);
    assert.ok(deep.length > 20000 && deep.length < 22000);
    const msg = { body: deep } as Message;
    const plain = new EventDecoder();
    const filtered = new EventDecoder({ xquery: "true()" });
    for (const d of [plain, filtered]) {
      const err = (() => {
        try {
          d.decode(msg);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof ProtocolError, "must be refused");
      assert.equal(err.code, "xml-too-deep");
      assert.match(err.message, /deeper than 64 levels/);
    }
  });

  it("the configured depth holds on the fast path and the DOM path alike", () => {
    const d = new EventDecoder({ maxDepth: 6 });
    assert.deepEqual(d.decode({ body: nested(4) }), { kind: "event", name: "Deep", payload: { a: { a: { a: { a: "x" } } } }, xml: nested(4) });
    assert.equal(
      code(() => d.decode({ body: nested(5) })),
      "xml-too-deep",
    );
    // The DOM path (an attribute keeps the fast reader out) refuses at the same level.
    const attr = (n: number) => nested(n).replace("<Deep>", '<Deep k="v">');
    assert.equal(d.decode({ body: attr(4) }).kind, "event");
    assert.equal(
      code(() => d.decode({ body: attr(5) })),
      "xml-too-deep",
    );
    // The fast reader alone declines (returns undefined) rather than recursing past the limit.
    assert.equal(readSimpleEvent(nested(5), CLACKS_NS, 6), undefined);
    assert.ok(readSimpleEvent(nested(4), CLACKS_NS, 6));
  });

  it("a depth setting is a whole number from 2 to 1000", () => {
    assert.equal(depthSetting(undefined), 64);
    assert.equal(depthSetting(""), 64);
    assert.equal(depthSetting("10"), 10);
    for (const bad of ["1", "1001", "abc", "2.5", -3]) assert.throws(() => depthSetting(bad), RangeError);
    assert.throws(() => new EventDecoder({ maxDepth: 5000 }), RangeError);
  });
});

describe("amqp redelivery-limit: a message that keeps failing is given up", () => {
  const m = (body: string, extra: Partial<Message> = {}): Message => ({ body, message_id: "id-1", ...extra });

  it("gives up on the third failure of the same message, counting by content on RabbitMQ (no delivery-count)", () => {
    const f = new FailureCounter();
    assert.deepEqual(f.failed(m("a")), { attempts: 1, giveUp: false });
    assert.deepEqual(f.failed(m("b")), { attempts: 1, giveUp: false }); // same id, other body: another message
    assert.deepEqual(f.failed(m("a", { first_acquirer: false })), { attempts: 2, giveUp: false });
    assert.deepEqual(f.failed(m("a", { first_acquirer: false })), { attempts: 3, giveUp: true });
    assert.equal(f.tracked, 1); // given up: only "b" is remembered
  });

  it("uses the broker's delivery-count when there is one", () => {
    const f = new FailureCounter(3);
    assert.deepEqual(f.failed(m("a", { delivery_count: 2 })), { attempts: 3, giveUp: true });
  });

  it("forgets a message once it was handled, and bounds what it remembers", () => {
    const f = new FailureCounter(2);
    f.failed(m("a"));
    f.succeeded(m("a", { first_acquirer: false }));
    assert.equal(f.tracked, 0);
    assert.deepEqual(f.failed(m("a")), { attempts: 1, giveUp: false });
    for (let i = 0; i < 5000; i++) f.failed(m(`x${i}`));
    assert.equal(f.tracked, 1000);
  });
});
