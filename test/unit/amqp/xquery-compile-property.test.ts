import * as assert from "node:assert/strict";
import fc from "fast-check";
import { EventDecoder } from "../../../src/amqp/event-decoder";
import { readSimpleEvent } from "../../../src/amqp/fast-event";
import { CLACKS_NS, parseEvent } from "../../../src/amqp/xml-event";
import { XQueryFilter } from "../../../src/amqp/xquery-filter";

/**
 * The compiled XQuery (xquery-compile.ts) against fontoxpath on generated Clacks-like events and
 * generated queries of the subset: wherever the compiled query answers, fontoxpath must give the
 * same answer and no error; and the decoder, which takes the compiled answer or falls back, must
 * deliver or filter exactly as fontoxpath decides.
 */
const NS = CLACKS_NS;
const TEXTS = [
  "",
  " ",
  "1",
  " 2 ",
  "1.5",
  "-3",
  "+4",
  "1e2",
  "abc",
  "a b",
  " a  b ",
  "busy",
  "idle",
  "INF",
  "NaN",
  "\n\t7\n",
  "0",
  "10",
  "9",
  "a&b",
  "x<y",
  "\u00a0 5",
  ".5",
];
const escText = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const escAttr = (s: string): string => escText(s).replace(/"/g, "&quot;");

interface El {
  name: string;
  attrs: Array<[string, string]>;
  kids: Array<El | string>;
}
const textArb = fc.constantFrom(...TEXTS);
const elArb: fc.Arbitrary<El> = fc.letrec<{ el: El }>((tie) => ({
  el: fc.record({
    name: fc.constantFrom("A", "B", "Status", "Id"),
    attrs: fc.subarray(["x", "y", "id"]).chain((names) => fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), textArb)))),
    kids: fc.array(fc.oneof({ depthSize: "small", maxDepth: 3 }, textArb, tie("el")), { maxLength: 3 }),
  }),
})).el;
const write = (e: El): string =>
  `<${e.name}${e.attrs.map(([n, v]) => ` ${n}="${escAttr(v)}"`).join("")}>${e.kids.map((k) => (typeof k === "string" ? escText(k) : write(k))).join("")}</${e.name}>`;
const eventArb = fc
  .tuple(fc.constantFrom("PhoneStatus", "NodeStatus"), elArb, fc.boolean())
  .map(([name, body, indent]) => `<Event xmlns="${NS}">${indent ? "\n  " : ""}${write({ ...body, name })}${indent ? "\n" : ""}</Event>`);

// Queries: paths, predicates, comparisons, boolean operators and functions of the subset (and a
// few things outside it, which must fall back).
const nameTest = fc.constantFrom("f:A", "f:B", "f:Status", "A", "*:A", "*", "f:*", "*:Status", "f:Id");
const otherStep = fc.constantFrom("@x", "@y", "@*", "@id", "text()", "..", "node()", "self::f:A", "descendant::f:B", "@f:x");
const lit = fc.constantFrom("'busy'", "'1'", "''", "' 2 '", "1", "2", "1.5", "0", "'abc'", "1e2", "'a b'", "10", "-1", "$v", ".");
const cmpOp = fc.constantFrom("=", "!=", "<", "<=", ">", ">=", "eq", "ne", "lt", "ge");
const strFn = fc.constantFrom("contains", "starts-with", "ends-with");
const starts = fc.constantFrom("/f:Event/", "//", "/*/", "./f:Event//", "f:Event/", "/Event/", "/*:Event/*/", "$e/", "");

const queryArb = fc.letrec<{ expr: string; operand: string; path: string; step: string; pred: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    tie("path"),
    fc.tuple(tie("operand"), cmpOp, tie("operand")).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(tie("expr"), fc.constantFrom("and", "or"), tie("expr")).map(([a, o, b]) => `(${a}) ${o} (${b})`),
    tie("expr").map((e) => `not(${e})`),
    tie("path").map((p) => `exists(${p})`),
    tie("path").map((p) => `empty(${p})`),
    tie("operand").map((p) => `boolean(${p})`),
    fc.tuple(strFn, tie("operand"), tie("operand")).map(([f, a, b]) => `${f}(${a}, ${b})`),
  ),
  operand: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    lit,
    tie("path"),
    tie("path").map((p) => `count(${p})`),
    tie("path").map((p) => `string(${p})`),
    tie("path").map((p) => `number(${p})`),
    tie("path").map((p) => `normalize-space(${p})`),
  ),
  path: fc
    .tuple(starts, fc.array(fc.tuple(fc.constantFrom("/", "//"), tie("step")), { minLength: 1, maxLength: 3 }))
    .map(([s, steps]) => s + steps.map(([sep, st], i) => (i ? sep : "") + st).join("")),
  step: fc.tuple(fc.oneof(nameTest, otherStep), fc.option(tie("pred"), { freq: 3 })).map(([s, p]) => (p === null ? s : `${s}[${p}]`)),
  pred: fc.oneof({ depthSize: "small", maxDepth: 2 }, fc.constantFrom("1", "2", "last()", ". = '1'", "@x", "count(*) > 1", "position() = 1"), tie("expr")),
})).expr;

const fullQuery = fc
  .tuple(fc.boolean(), fc.boolean(), queryArb, fc.constantFrom("/f:Event/*", "//f:A", "./f:Event", "//*:Status"))
  .map(([dflt, asLet, body, bound]) => {
    const prolog = `declare namespace f = '${NS}';${dflt ? ` declare default element namespace '${NS}';` : ""} declare variable $v external;\n`;
    return asLet ? `${prolog}let $e := ${bound} return ${body}` : prolog + body.replace(/\$e\//g, "/f:Event/");
  });
const varArb = fc.constantFrom<unknown>("busy", "1", 1, 2.5, "", true, " 2 ");

describe("amqp compiled XQuery agrees with fontoxpath (property)", () => {
  it("on generated events and queries: same answer wherever the compiled query answers; the decoder always decides as fontoxpath", function () {
    this.timeout(120_000);
    const tally = { runs: 0, invalid: 0, notCompiled: 0, unsure: 0, match: 0, noMatch: 0 };
    fc.assert(
      fc.property(eventArb, fullQuery, varArb, (xml, query, v) => {
        tally.runs++;
        let filter: XQueryFilter;
        try {
          filter = new XQueryFilter(query);
        } catch {
          tally.invalid++; // refused at deploy either way: the probe runs before the compiler
          return;
        }
        const vars = { v };
        const expected = filter.evaluate(parseEvent(xml).doc, vars);
        const tree = readSimpleEvent(xml, NS, 64, { tree: true })?.tree;
        assert.ok(tree, `the reader must take every generated event: ${xml}`);
        const decoded = new EventDecoder({ xquery: query }).decode({ body: xml, application_properties: vars });
        assert.equal(decoded.kind, expected.match ? "event" : "filtered", `decoder vs fontoxpath on ${query}\n${xml}`);
        if (decoded.kind === "filtered") assert.equal(decoded.error?.message, expected.error?.message);
        if (!filter.compiled) {
          tally.notCompiled++;
          return;
        }
        const got = filter.compiled.evaluate(tree, vars);
        if (got === undefined) {
          tally.unsure++;
          return;
        }
        assert.equal(expected.error, undefined, `compiled answered ${got} where fontoxpath failed (${expected.error?.message}): ${query}\n${xml}`);
        assert.equal(got, expected.match, `${query}\n${xml} (v = ${JSON.stringify(v)})`);
        tally[got ? "match" : "noMatch"]++;
      }),
      { numRuns: 3000 },
    );
    if (process.env.XQ_TALLY) console.log(tally);
    // The property proves something only if the compiled path answered often, both ways.
    const answered = tally.match + tally.noMatch;
    assert.ok(answered > tally.runs * 0.5, JSON.stringify(tally));
    assert.ok(tally.match > tally.runs * 0.1 && tally.noMatch > tally.runs * 0.1, JSON.stringify(tally));
    assert.ok(tally.notCompiled > 0 && tally.unsure > 0, `fallbacks exercised: ${JSON.stringify(tally)}`);
  });
});
