import * as assert from "node:assert/strict";
import { parseXmlDocument } from "slimdom";
import { ProtocolError } from "../../../src/core/errors";
import { errorCode } from "../../support/error-code";
import { CLACKS_NS } from "../../../src/amqp/xml-event";
import { EventDecoder } from "../../../src/amqp/event-decoder";
import { XQueryFilter } from "../../../src/amqp/xquery-filter";
import { readSimpleEvent } from "../../../src/amqp/fast-event";

const code = (fn: () => unknown): string => errorCode(ProtocolError, fn);
const F = `declare namespace f='${CLACKS_NS}';`;
const SEED = `${F} let $e := ./f:Event return $e/f:PhoneStatus`;
/** The costly shape measured: descendant of descendant (150 s on 30,000 siblings). */
const DESCENDANTS = `${F} //f:a//f:a`;

const deep = (n: number): string => `<Event xmlns="${CLACKS_NS}"><PhoneStatus>${"<a>".repeat(n)}x${"</a>".repeat(n)}</PhoneStatus></Event>`;
const wide = (n: number): string => `<Event xmlns="${CLACKS_NS}"><PhoneStatus>${"<a>x</a>".repeat(n)}</PhoneStatus></Event>`;

/**
 * The decoder with its filter's evaluations counted, on the DOM (fontoxpath) and on the DOM-free
 * tree (the compiled query), and made free on big events, so a missing bound shows as a count,
 * not a 150 s hang.
 */
function counted(query: string, opts: ConstructorParameters<typeof EventDecoder>[0] = {}): { d: EventDecoder; evaluations: () => number } {
  const d = new EventDecoder({ xquery: query, ...opts });
  let n = 0;
  const f = d.filter!;
  const real = f.evaluate.bind(f);
  f.evaluate = (doc, vars) => {
    n++;
    return doc.documentElement!.textContent!.length > 100 ? { match: false } : real(doc, vars);
  };
  const realTree = f.evaluateTree.bind(f);
  f.evaluateTree = (doc, vars) => {
    n++;
    return doc.elements > 100 ? { match: false } : realTree(doc, vars);
  };
  return { d, evaluations: () => n };
}

describe("amqp XQuery: bounded cost per event, checked before evaluation", () => {
  it("the 112 KB event nested 16,000 deep is dropped as too deep; the query never runs", () => {
    const x = deep(16000);
    assert.ok(x.length > 110000 && x.length < 115000);
    const { d, evaluations } = counted(SEED);
    assert.equal(
      code(() => d.decode({ body: x })),
      "xml-too-deep",
    );
    assert.equal(evaluations(), 0);
  });

  it("an event of 30,000 siblings (240 KB, under the size limit) is dropped for the XQuery path only", () => {
    const x = wide(30000);
    assert.ok(x.length < 256 * 1024);
    const { d, evaluations } = counted(DESCENDANTS);
    assert.equal(
      code(() => d.decode({ body: x })),
      "xml-too-many-elements",
    );
    assert.equal(evaluations(), 0);
    // Without an XQuery nothing grows with the square of the element count: it is delivered.
    const plain = new EventDecoder().decode({ body: x });
    assert.equal(plain.kind, "event");
  });

  it("events within the limits are evaluated as before (the default is 2000 elements, settable)", () => {
    const { d, evaluations } = counted(DESCENDANTS);
    assert.equal(d.decode({ body: wide(1998) }).kind, "filtered"); // + Event + PhoneStatus = 2000
    assert.equal(
      code(() => d.decode({ body: wide(1999) })),
      "xml-too-many-elements",
    );
    assert.equal(evaluations(), 1);
    const small = new EventDecoder({ xquery: DESCENDANTS, xqueryMaxElements: 10 });
    assert.equal(
      code(() => small.decode({ body: wide(9) })),
      "xml-too-many-elements",
    );
    assert.deepEqual(small.decode({ body: deep(3) }), { kind: "event", name: "PhoneStatus", payload: { a: { a: { a: "x" } } }, xml: deep(3) });
    // The decoder's depth setting is the filter's too.
    assert.equal(new EventDecoder({ xquery: SEED, maxDepth: 5 }).filter!.maxDepth, 5);
  });

  it("XQueryFilter.evaluateTree refuses an over-limit tree itself, like evaluate", () => {
    const tight = new XQueryFilter(SEED, CLACKS_NS, { maxDepth: 3, maxElements: 3 });
    const tree = (xml: string) => readSimpleEvent(xml, CLACKS_NS, 100, { tree: true })!.tree!;
    assert.deepEqual(tight.evaluateTree(tree(deep(1))), { match: true });
    assert.equal(
      code(() => new XQueryFilter(SEED, CLACKS_NS, { maxDepth: 3 }).evaluateTree(tree(deep(2)))),
      "xml-too-deep",
    );
    assert.equal(
      code(() => tight.evaluateTree(tree(wide(2)))),
      "xml-too-many-elements",
    );
  });

  it("XQueryFilter.evaluate refuses an over-limit DOM itself, without recursion, instead of calling it a non-match", () => {
    const f = new XQueryFilter(SEED);
    assert.equal(
      code(() => f.evaluate(parseXmlDocument(deep(20000)))),
      "xml-too-deep",
    );
    assert.equal(
      code(() => f.evaluate(parseXmlDocument(wide(5000)))),
      "xml-too-many-elements",
    );
    assert.deepEqual(f.evaluate(parseXmlDocument(deep(62))), { match: true }); // 64 levels
    assert.equal(
      code(() => f.evaluate(parseXmlDocument(deep(63)))),
      "xml-too-deep",
    );
    const tight = new XQueryFilter(SEED, CLACKS_NS, { maxDepth: 3, maxElements: 3 });
    assert.deepEqual(tight.evaluate(parseXmlDocument(deep(1))), { match: true });
    assert.equal(
      code(() => tight.evaluate(parseXmlDocument(wide(2)))),
      "xml-too-many-elements",
    );
  });
});
