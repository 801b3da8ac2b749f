import * as assert from "node:assert/strict";
import fc from "fast-check";
import { readSimpleEvent } from "../../../src/amqp/fast-event";
import { makeEvent } from "../../../src/amqp/event-maker";
import { eventToObject } from "../../../src/amqp/event-object";
import { CLACKS_NS, parseEvent } from "../../../src/amqp/xml-event";
import { domShape, treeShape } from "./support/xml-tree-shape";

/** The DOM path's answer, or "error". */
function viaDom(xml: string): { name: string; payload: unknown } | "error" {
  try {
    const p = parseEvent(xml);
    return { name: p.name, payload: eventToObject(p.element) };
  } catch {
    return "error";
  }
}

/** The reader with its node tree: the same payload as without, and the tree the DOM has. */
function checkTree(xml: string): void {
  const fast = readSimpleEvent(xml, CLACKS_NS);
  const withTree = readSimpleEvent(xml, CLACKS_NS, undefined, { tree: true });
  assert.equal(withTree === undefined, fast === undefined, xml);
  if (!fast || !withTree) return;
  assert.deepEqual({ name: withTree.name, payload: withTree.payload }, fast);
  assert.equal(treeShape(withTree.tree!, CLACKS_NS), domShape(parseEvent(xml).doc), xml);
}

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,6}$/).filter((n) => !n.toLowerCase().startsWith("xml"));
const text = fc.string({ unit: "binary", maxLength: 12 });
const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    text,
    fc
      .record({
        children: fc.dictionary(name, fc.oneof(tie("node"), fc.array(tie("node"), { minLength: 2, maxLength: 3 })), { maxKeys: 3 }),
        attrs: fc.option(fc.dictionary(name, fc.string({ maxLength: 6 }), { maxKeys: 2 })),
        text: fc.option(text),
      })
      .map(({ children, attrs, text: t }) => ({ ...(attrs ? { $: attrs } : {}), ...(t !== null && attrs ? { _: t } : {}), ...children })),
  ),
})).node;

describe("amqp fast event reader (DOM-free path)", () => {
  it("reads the EventMaker's output exactly like the DOM path", () => {
    const e = makeEvent({
      PuppetReport: {
        Id: "c1",
        PuppetLog: [
          { Level: "err", Message: "a < b & c" },
          { Level: "info", Message: "" },
        ],
      },
    });
    const fast = readSimpleEvent(e.xml, CLACKS_NS);
    assert.ok(fast);
    assert.deepEqual(fast, viaDom(e.xml));
    assert.deepEqual(readSimpleEvent(makeEvent({ ClientPoll: {} }).xml, CLACKS_NS), { name: "ClientPoll", payload: {} });
  });

  it("leaves everything outside the plain shape to the DOM parser", () => {
    const ns = CLACKS_NS;
    for (const xml of [
      `<?xml version="1.0"?><Event xmlns="${ns}"><A/></Event>`,
      `<Event xmlns="${ns}" x="1"><A/></Event>`,
      `<Event xmlns="${ns}"><A xmlns="${ns}"/></Event>`,
      `<Event xmlns="${ns}"><A e:x="1" xmlns:e="urn:e"/></Event>`,
      `<Event xmlns="${ns}"><A x="1" x="2"/></Event>`,
      `<Event xmlns="${ns}"><A x="1"y="2"/></Event>`,
      `<Event xmlns="${ns}"><A x="&#65;"/></Event>`,
      `<Event xmlns="${ns}"><A x="a\r\nb"/></Event>`,
      `<Event xmlns="${ns}"><A x="a<b"/></Event>`,
      `<Event xmlns="${ns}"><A x=1/></Event>`,
      `<Event xmlns="${ns}"><A x="1></A></Event>`,
      `<e:Event xmlns:e="${ns}"><e:A/></e:Event>`,
      `<Event xmlns="${ns}"><!-- c --><A/></Event>`,
      `<Event xmlns="${ns}"><A><![CDATA[x]]></A></Event>`,
      `<Event xmlns="${ns}"><A>&#65;</A></Event>`,
      `<Event xmlns="${ns}"><A>&foo;</A></Event>`,
      `<Event xmlns="${ns}"><_>x</_></Event>`,
      `<Event xmlns="${ns}"><A><__proto__>x</__proto__></A></Event>`,
      `<!DOCTYPE x><Event xmlns="${ns}"><A/></Event>`,
      `<Event xmlns="urn:other"><A/></Event>`,
      `<Event xmlns="${ns}"><A/><B/></Event>`,
      `<Event xmlns="${ns}"><A></B></Event>`,
      `<Event xmlns="${ns}"><A>x\r\ny</A></Event>`,
      `<Event xmlns="${ns}"><A>]]></A></Event>`,
      `<Event xmlns="${ns}"><A>\u0001</A></Event>`,
    ]) {
      assert.equal(readSimpleEvent(xml, ns), undefined, xml);
    }
  });

  it("reads attributes (unprefixed, not on Event) like the DOM path, and builds the DOM's node tree on request", () => {
    const ns = CLACKS_NS;
    const xml = `<Event xmlns="${ns}">\n <A x = '1&amp;2' y="a\tb\nc" __proto__="p"> t <B z="">x</B><C/>  </A>\n</Event>`;
    const fast = readSimpleEvent(xml, ns);
    assert.deepEqual(fast, viaDom(xml));
    assert.deepEqual(fast?.payload.$, { x: "1&2", y: "a b c", ["__proto__"]: "p" });
    checkTree(xml);
    assert.deepEqual(readSimpleEvent(`<Event xmlns="${ns}"><A x="1"/></Event>`, ns), { name: "A", payload: { $: { x: "1" } } });
    assert.deepEqual(readSimpleEvent(`<Event xmlns="${ns}"><A x="1"> t </A></Event>`, ns), viaDom(`<Event xmlns="${ns}"><A x="1"> t </A></Event>`));
    // The tree counts elements and depth; over a given element limit the reader gives up.
    const t = readSimpleEvent(xml, ns, 64, { tree: true })!.tree!;
    assert.deepEqual([t.elements, t.depth], [4, 3]);
    assert.equal(readSimpleEvent(xml, ns, 64, { tree: true, maxElements: 3 }), undefined);
    assert.ok(readSimpleEvent(xml, ns, 64, { tree: true, maxElements: 4 }));
  });

  it("agrees with the DOM path on generated events (property)", () => {
    let hits = 0;
    let runs = 0;
    let withAttributes = 0;
    fc.assert(
      fc.property(name, tree, (n, body) => {
        let xml: string;
        try {
          xml = makeEvent({ [n]: body }).xml;
        } catch {
          return true; // the maker refused (control characters): nothing to read
        }
        runs++;
        const fast = readSimpleEvent(xml, CLACKS_NS);
        if (fast === undefined) return true;
        hits++;
        if (/<[^>]* [A-Za-z_][\w.-]*="/.test(xml.slice(1))) withAttributes++;
        assert.deepEqual(fast, viaDom(xml));
        checkTree(xml);
        return true;
      }),
      { numRuns: 500 },
    );
    // The fast path must actually be the common path, or this property proves little.
    assert.ok(hits > runs * 0.5, `fast path taken in ${hits} of ${runs} runs`);
    assert.ok(withAttributes > 50, `only ${withAttributes} events with attributes took the fast path`);
  });

  it("never accepts what the DOM parser refuses, nor reads it differently (mutation property)", () => {
    const base = makeEvent({
      PhoneStatus: { CallerId: "012345", ReceiverId: "12343424", Status: "busy", Tags: { $: { n: "2", k: "x" }, Tag: ["a", "b"] } },
    }).xml;
    const mutated = fc
      .tuple(fc.nat(base.length), fc.nat(4), fc.string({ unit: "binary", maxLength: 4 }))
      .map(([at, del, ins]) => base.slice(0, at) + ins + base.slice(at + del));
    let accepted = 0;
    fc.assert(
      fc.property(mutated, (xml) => {
        const fast = readSimpleEvent(xml, CLACKS_NS);
        if (fast === undefined) return true;
        accepted++;
        const dom = viaDom(xml);
        assert.notEqual(dom, "error", `fast path accepted what the DOM refuses: ${JSON.stringify(xml)}`);
        assert.deepEqual(fast, dom);
        checkTree(xml);
        return true;
      }),
      { numRuns: 3000 },
    );
    assert.ok(accepted > 100, `only ${accepted} mutants took the fast path`);
  });
});
