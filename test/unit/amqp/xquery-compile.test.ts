import * as assert from "node:assert/strict";
import { ProtocolError } from "../../../src/core/errors";
import { EventDecoder } from "../../../src/amqp/event-decoder";
import { readSimpleEvent } from "../../../src/amqp/fast-event";
import { makeEvent } from "../../../src/amqp/event-maker";
import { CLACKS_NS, parseEvent } from "../../../src/amqp/xml-event";
import { XQueryFilter } from "../../../src/amqp/xquery-filter";
import { compileXQuery } from "../../../src/amqp/xquery-compile";
import { errorCode } from "../../support/error-code";

const NS = CLACKS_NS;
const F = `declare namespace f='${NS}';`;
const SEED = `
                declare namespace f='http://www.gonicus.de/Events';
                let $e := ./f:Event
                return $e/f:PhoneStatus
            `;
const phone = (status: string): string => makeEvent({ PhoneStatus: { CallerId: "012345", ReceiverId: "12343424", Status: status } }).xml;
/** An event with attributes, repeated and nested elements, numbers, whitespace and empty text. */
const RICH = `<Event xmlns="${NS}">
  <NodeStatus id="n1" load=" 0.5 ">
    <Disk dev="sda" used="90">  12 </Disk><Disk dev="sdb" used="10"/>
    <Name>alpha  beta</Name><Empty></Empty><Mixed>a<B>b</B>c</Mixed>
  </NodeStatus>
</Event>`;

/** The decoder with its filter's DOM evaluations (fontoxpath) and tree evaluations (compiled) counted. */
function decoder(query: string): { d: EventDecoder; dom: () => number; tree: () => number } {
  const d = new EventDecoder({ xquery: query });
  const f = d.filter!;
  let dom = 0;
  let tree = 0;
  const realDom = f.evaluate.bind(f);
  const realTree = f.evaluateTree.bind(f);
  f.evaluate = (doc, vars) => (dom++, realDom(doc, vars));
  f.evaluateTree = (doc, vars) => (tree++, realTree(doc, vars));
  return { d, dom: () => dom, tree: () => tree };
}

/** The compiled answer, checked against fontoxpath's on the same event. */
function compiled(query: string, xml: string, vars: Record<string, unknown> = {}): boolean | undefined {
  const f = new XQueryFilter(query);
  assert.ok(f.compiled, `not compiled: ${query}`);
  const got = f.compiled.evaluate(readSimpleEvent(xml, NS, 64, { tree: true })!.tree!, vars);
  const want = f.evaluate(parseEvent(xml).doc, vars);
  if (got !== undefined) {
    assert.equal(want.error, undefined, `${query}: fontoxpath failed: ${want.error?.message}`);
    assert.equal(got, want.match, query);
  }
  return got;
}

describe("amqp compiled XQuery", () => {
  it("runs the seed's query without a DOM or fontoxpath, with fontoxpath's answers", () => {
    const { d, dom, tree } = decoder(SEED);
    assert.ok(d.filter!.compiled);
    const r = d.decode({ body: phone("busy") });
    assert.deepEqual(r, { kind: "event", name: "PhoneStatus", payload: { CallerId: "012345", ReceiverId: "12343424", Status: "busy" }, xml: phone("busy") });
    assert.deepEqual(d.decode({ body: makeEvent({ NodeLeave: { Id: "a" } }).xml }), { kind: "filtered", name: "NodeLeave" });
    assert.deepEqual([dom(), tree()], [0, 2]);
    assert.equal(compiled(SEED, phone("busy")), true);
    assert.equal(compiled(SEED, makeEvent({ NodeLeave: { Id: "a" } }).xml), false);
  });

  it("compiles every construct of the subset, each answering as fontoxpath does", () => {
    const cases: Array<[string, boolean]> = [
      // paths: absolute, relative, child, descendant, wildcards, attributes, text(), parent, axes
      [`${F} /f:Event/f:NodeStatus`, true],
      [`${F} f:Event/f:NodeStatus/f:Disk`, true],
      [`${F} ./f:Event/f:PhoneStatus`, false],
      [`/Event`, false], // unprefixed: no namespace
      [`declare default element namespace '${NS}'; /Event/NodeStatus/Disk`, true],
      [`${F} //f:Disk[@dev = 'sdb']`, true],
      [`${F} //f:Disk[@dev = 'sdc']`, false],
      [`//*:Disk/@used > 50`, true],
      [`//*:Disk/@used > 95`, false],
      [`/*/*/@*`, true],
      [`/*:Event/*:NodeStatus/@missing`, false],
      [`${F} //f:*[@f:id]`, false], // attributes are in no namespace
      [`//*:Mixed/text() = 'c'`, true],
      [`//*:Mixed = 'abc'`, true],
      [`//*:Empty/text()`, false],
      [`//*:Empty = ''`, true],
      [`${F} //f:B/../@id`, false],
      [`${F} //f:B/.. = 'abc'`, true],
      [`${F} /descendant::f:Name and /f:Event/child::f:NodeStatus/self::f:NodeStatus`, true],
      [`${F} count(/descendant-or-self::node()/f:Disk) = 2`, true],
      [`//node()[. = 'b']`, true],
      // predicates: boolean, positional, nested, last(), position()
      [`${F} //f:Disk[1]/@dev = 'sda'`, true],
      [`${F} //f:Disk[2]/@dev = 'sda'`, false],
      [`${F} //f:Disk[last()]/@used = 10`, true],
      [`${F} //f:Disk[position() = 2][@used = 10]`, true],
      [`${F} //f:NodeStatus[f:Disk[@used > 50]]`, true],
      [`${F} //f:NodeStatus[count(f:Disk) = 3]`, false],
      // comparisons: general (untypedAtomic as string or double), value comparisons
      [`//*:Disk[1] = 12`, true],
      [`//*:Disk = '12'`, false], // string comparison: '  12 '
      [`//*:Disk != '12'`, true],
      [`//*:NodeStatus/@load < 1`, true],
      [`//*:NodeStatus/@load >= 0.5`, true],
      [`//*:Name eq 'alpha  beta'`, true],
      [`//*:Name ne 'alpha  beta'`, false],
      [`//*:Name lt 'b'`, true],
      [`//*:Name gt 'b'`, false],
      [`//*:Name le 'alpha  beta' and //*:Name ge 'alpha'`, true],
      [`//*:Missing eq 'x'`, false], // empty sequence
      [`not(//*:Missing eq 'x')`, true],
      [`1 = 1.0 and 2 > 1e0 and 'a' < 'b'`, true],
      // boolean operators, literals, functions
      [`//*:Name or //*:Missing`, true],
      [`//*:Name and //*:Missing`, false],
      [`not(//*:Missing)`, true],
      [`exists(//*:Disk) and empty(//*:Missing)`, true],
      [`contains(//*:Name, 'a  b')`, true],
      [`starts-with(//*:Name, 'alpha') and ends-with(//*:Name, 'beta')`, true],
      [`starts-with(//*:Missing, '')`, true],
      [`normalize-space(//*:Name) = 'alpha beta'`, true],
      [`normalize-space(//*:Disk[1]) = '12'`, true],
      [`string(//*:Name) = 'alpha  beta' and string(//*:Missing) = ''`, true],
      [`number(//*:Disk[1]) = 12 and number(//*:Name) != number(//*:Name)`, true],
      [`//*:Disk[number() > 11]`, true],
      [`//*:Name[string() = 'alpha  beta'][normalize-space() = 'alpha beta']`, true],
      [`boolean('') or boolean(0) or boolean(())`, false],
      [`boolean('x') and true() and not(false())`, true],
      [`count(//*:Disk) = 2 and count(//*:Disk/@*) = 4`, true],
      [`'busy'`, true],
      [`0`, false],
      [`(: a comment (: nested :) :) //*:Name[. = "alpha  beta"]`, true],
      [`//*:Name = 'it''s'`, false],
      [`fn:exists(//*:Name)`, true],
      [`${F} let $s := //f:NodeStatus, $d := $s/f:Disk return $d[2]/@dev = 'sdb' and $s/@id = 'n1'`, true],
    ];
    for (const [q, want] of cases) assert.equal(compiled(q, RICH), want, q);
  });

  it("takes external variables declared in the prolog (application properties)", () => {
    const q = `${F} declare variable $site external; declare variable $max external; //f:Disk[@used > $max]/@dev = $site`;
    assert.equal(compiled(q, RICH, { site: "sda", max: 50 }), true);
    assert.equal(compiled(q, RICH, { site: "sdb", max: 50 }), false);
    assert.equal(compiled(`declare variable $b external; $b`, RICH, { b: true }), true);
    // Missing: fontoxpath's error, reported by the decoder as a non-match with the reason.
    assert.equal(compiled(q, RICH, { site: "sda" }), undefined);
    const { d, dom } = decoder(q);
    const r = d.decode({ body: RICH, application_properties: { site: "sda" } });
    assert.equal(r.kind, "filtered");
    assert.ok(r.kind === "filtered" && r.error);
    assert.equal(dom(), 1);
  });

  it("leaves queries outside the subset to fontoxpath, with fontoxpath's answers", () => {
    for (const [q, want] of [
      ["xs:integer(string(//*:Disk[1])) > 0", true],
      ["for $d in //*:Disk return $d/@dev = 'sdb'", false], // (false, true): no effective boolean value, an error
      ["//*:Disk | //*:Name", true],
      ["if (//*:Name) then true() else false()", true],
      ["count(//*:Disk) + 1 = 3", true],
      ["some $d in //*:Disk satisfies $d/@used = 90", true],
      ["//*:Name = 'a&amp;b'", false],
      ["declare variable $x as xs:string external; true()", true],
      ["//*:Disk[1] is //*:Disk[1]", true],
      ["//*:Disk = -12", false],
      ["string-length(//*:Name) = 11", true],
      ["(//*:Disk, //*:Name)[3] = 'alpha  beta'", true],
    ] as Array<[string, boolean]>) {
      const { d, dom, tree } = decoder(q);
      assert.equal(d.filter!.compiled, undefined, q);
      assert.equal(d.decode({ body: RICH }).kind, want ? "event" : "filtered", q);
      assert.deepEqual([dom(), tree()], [1, 0], q);
    }
  });

  it("hands an event to fontoxpath where the compiled answer is not certain, and fontoxpath's error with it", () => {
    const unsure = (q: string, xml: string, vars: Record<string, unknown> = {}): void => {
      assert.equal(compiled(q, xml, vars), undefined, q);
      const { d, dom } = decoder(q);
      const f = new XQueryFilter(q).evaluate(parseEvent(xml).doc, vars);
      const r = d.decode({ body: xml, application_properties: vars });
      assert.equal(r.kind, f.match ? "event" : "filtered", q);
      if (r.kind === "filtered") assert.equal(r.error?.message, f.error?.message, q);
      assert.equal(dom(), 1, q);
    };
    unsure(`//*:Name = 12`, RICH); // FORG0001: 'alpha  beta' is no xs:double
    unsure(`//*:Disk eq 12`, RICH); // fontoxpath casts untypedAtomic in eq (the spec says xs:string)
    unsure(`//*:Disk eq 'x'`, RICH); // two items
    unsure(`//*:Disk = 12`, RICH); // the second Disk is empty: no xs:double
    unsure(`contains(//*:Disk, 'x')`, RICH); // more than one item for xs:string?
    unsure(`string(//*:Disk)`, RICH);
    unsure(`'a' = 1`, RICH);
    unsure(`normalize-space(//*:Name) = 'x'`, `<Event xmlns="${NS}"><Name>\u00a0x</Name></Event>`); // JS whitespace, not XML's
    unsure(`number(//*:Name) = 1`, `<Event xmlns="${NS}"><Name>INF</Name></Event>`);
    unsure(`//*:Name < 'z'`, `<Event xmlns="${NS}"><Name>\u{1F600}</Name></Event>`); // code units vs code points
    unsure(`declare variable $b external; //*:Name = $b`, RICH, { b: true });
  });

  it("keeps events outside the reader's plain shape on the DOM path", () => {
    const { d, dom, tree } = decoder(SEED);
    const xml = `<?xml version="1.0"?><Event xmlns="${NS}"><!-- c --><PhoneStatus><Status><![CDATA[busy]]></Status></PhoneStatus></Event>`;
    assert.equal(d.decode({ body: xml }).kind, "event");
    assert.deepEqual([dom(), tree()], [1, 0]);
  });

  it("checks the limits before the compiled query runs: over them the event is dropped, not filtered", () => {
    const wide = (n: number): string => `<Event xmlns="${NS}"><PhoneStatus>${"<a>x</a>".repeat(n)}</PhoneStatus></Event>`;
    const deep = (n: number): string => `<Event xmlns="${NS}"><PhoneStatus>${"<a>".repeat(n)}x${"</a>".repeat(n)}</PhoneStatus></Event>`;
    const { d, dom, tree } = decoder(`${F} //f:a//f:a`);
    assert.equal(
      errorCode(ProtocolError, () => d.decode({ body: wide(1999) })),
      "xml-too-many-elements",
    );
    assert.equal(
      errorCode(ProtocolError, () => d.decode({ body: deep(63) })),
      "xml-too-deep",
    );
    assert.deepEqual([dom(), tree()], [0, 0]);
    assert.equal(d.decode({ body: wide(1998) }).kind, "filtered");
    assert.equal(d.decode({ body: deep(62) }).kind, "event");
    assert.deepEqual([dom(), tree()], [0, 2]);
  });

  it("compiles only what it can resolve: undeclared prefixes and variables, odd prologs and syntax stay with fontoxpath", () => {
    for (const q of [
      "$x",
      "g:a",
      `declare namespace f='${NS}'; declare namespace f='${NS}'; /f:Event`,
      `declare variable $x external; declare namespace f='${NS}'; /f:Event`,
      "xquery version '3.1'; /*",
      "//*:a[",
      "//*:a = 1 = 1",
      "1div 2",
      "/*:Event/$x",
      "/*:Event/(a)",
      "element(a)",
      "/*:Événement",
      "$ x",
      "true(1)",
      "unknown()",
    ]) {
      assert.equal(compileXQuery(q), undefined, q);
    }
    assert.ok(compileXQuery(`declare default element namespace ''; declare namespace g = 'urn:g'; /g:Event or /Event`));
  });
});
