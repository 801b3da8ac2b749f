import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { makeEvent } from "../../../src/amqp/event-maker";
import { SchemaValidator } from "../../../src/amqp/schema-validator";
import { CLACKS_NS } from "../../../src/amqp/xml-event";
import { loadLibxml2 } from "../../../src/amqp/xsd-compiled";
import { compileFastCheck, FastCheck } from "../../../src/amqp/xsd-fast";
import { SchemaFolder } from "./support/schema-folder";

const XS = `xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:ev="${CLACKS_NS}" targetNamespace="${CLACKS_NS}"`;
const schema = (body: string, form = `elementFormDefault="qualified"`) => `<?xml version="1.0"?>\n<xs:schema ${XS} ${form}>\n${body}\n</xs:schema>\n`;

/** Beside the three test schemas: one more the fast path covers, and three it must leave to libxml2. */
const EXTRA: Record<string, string> = {
  // A sequence with every covered built-in type, some optional.
  "Mixed.xsd": schema(`<xs:complexType name="Mixed"><xs:sequence>
    <xs:element name="A" type="xs:string"/><xs:element name="B" type="xs:int" minOccurs="0"/>
    <xs:element name="C" type="xs:boolean"/><xs:element name="D" type="xs:decimal" minOccurs="0"/>
    <xs:element name="E" type="xs:double"/><xs:element name="F" type="xs:long" minOccurs="0"/>
    <xs:element name="G" type="xs:positiveInteger" minOccurs="0"/><xs:element name="H" type="xs:unsignedInt" minOccurs="0"/>
    <xs:element name="I" type="xs:integer" minOccurs="0"/><xs:element name="J" type="xs:float" minOccurs="0"/>
  </xs:sequence></xs:complexType><xs:element name="Mixed" type="ev:Mixed"/>`),
  // An attribute: not covered.
  "Attrs.xsd": schema(`<xs:complexType name="Attrs"><xs:sequence><xs:element name="A" type="xs:string"/></xs:sequence>
    <xs:attribute name="id" type="xs:string" use="required"/></xs:complexType>`),
  // A child of a complex type: not covered.
  "Nested.xsd": schema(`<xs:complexType name="Nested"><xs:sequence><xs:element name="A"><xs:complexType><xs:sequence>
    <xs:element name="Inner" type="xs:string"/></xs:sequence></xs:complexType></xs:element></xs:sequence></xs:complexType>`),
  // Unqualified children: not covered (they must be in no namespace, unlike the reader's).
  "Unq.xsd": schema(`<xs:complexType name="Unq"><xs:sequence><xs:element name="A" type="xs:string"/></xs:sequence></xs:complexType>`, ""),
};
// One element `V` of each covered built-in type: every edge value against every type.
const BUILTIN_TYPES = ["string", "boolean", "decimal", "float", "double", "integer", "long", "int", "nonNegativeInteger", "positiveInteger", "unsignedInt"];
for (const t of BUILTIN_TYPES) {
  EXTRA[`T${t}.xsd`] = schema(`<xs:complexType name="T${t}"><xs:sequence><xs:element name="V" type="xs:${t}"/></xs:sequence></xs:complexType>`);
}
const CHILDREN: Record<string, string[]> = {
  PhoneStatus: ["CallerId", "ReceiverId", "Status"],
  NodeStatus: ["Id", "Load", "Latency", "Workers"],
  ClientPoll: [],
  Mixed: ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
  Attrs: ["A"],
  Nested: ["A"],
  Unq: ["A"],
  NoSuchEvent: ["A"],
};
// Lexical edge cases of every covered type, and text that is not XML at all.
const VALUES = [
  ...["", " ", "x", "busy", "0", "1", "-1", "-0", "+1", "007", "00", "+0", "true", "false", "TRUE", " true ", "1 2", "\n5\n", "\t7"],
  ...["2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808"],
  ...["123456789012345678", "1234567890123456789", "12345678901234567890123", "0.5", ".5", "5.", "-0.0", "1e5", "1E-5", "1e39"],
  ...["3.4e38", "3.5e38", "1e-30", "1e-31", "1.7e308", "1e308", "INF", "-INF", "NaN", "0.000000001", "1234567890.123456789"],
  ...["a&amp;b", "&lt;x&gt;", "&#65;", "&nbsp;", "a&b", "a<b", "]]>", "x\ry", "\u00e9t\u00e9", "\u{1F600}", "\uFFFE"],
];

interface ChildSpec {
  name: string;
  value: string;
  form: "text" | "self" | "spaced" | "nested" | "attr";
}
const child = (names: string[]) =>
  fc.record({
    name: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...(names.length ? names : ["A"])) },
      { weight: 1, arbitrary: fc.constantFrom("Extra", "Status", "A") },
    ),
    value: fc.constantFrom(...VALUES),
    form: fc.oneof(
      { weight: 12, arbitrary: fc.constant("text" as const) },
      { weight: 1, arbitrary: fc.constantFrom("self" as const, "spaced" as const, "nested" as const, "attr" as const) },
    ),
  });
const space = fc.constantFrom("", "", "", " ", "\n", "\n  ", "\t");

function childXml(c: ChildSpec): string {
  switch (c.form) {
    case "self":
      return `<${c.name}/>`;
    case "spaced":
      return `<${c.name} >${c.value}</${c.name} >`;
    case "nested":
      return `<${c.name}><Inner>${c.value}</Inner></${c.name}>`;
    case "attr":
      return `<${c.name} a="1">${c.value}</${c.name}>`;
    default:
      return `<${c.name}>${c.value}</${c.name}>`;
  }
}

/** An event of a known name: its own children (shuffled, some missing, some twice), or mistakes. */
const events = fc.constantFrom(...Object.keys(CHILDREN)).chain((name) => {
  const names = CHILDREN[name];
  const ordered = fc.subarray(names).chain((sub) => fc.shuffledSubarray(sub, { minLength: sub.length, maxLength: sub.length }));
  return fc
    .record({
      kids: fc.oneof(
        { weight: 4, arbitrary: fc.constant(names.map((n): ChildSpec => ({ name: n, value: "", form: "text" }))) },
        { weight: 3, arbitrary: fc.subarray(names).map((ns) => ns.map((n): ChildSpec => ({ name: n, value: "", form: "text" }))) },
        { weight: 3, arbitrary: ordered.map((ns) => ns.map((n): ChildSpec => ({ name: n, value: "", form: "text" }))) },
        { weight: 2, arbitrary: fc.array(child(names), { maxLength: 6 }) },
      ),
      values: fc.array(fc.constantFrom(...VALUES), { minLength: 12, maxLength: 12 }),
      gaps: fc.array(space, { minLength: 12, maxLength: 12 }),
      body: fc.constantFrom("elements", "elements", "elements", "elements", "elements", "self", "empty-open", "space", "text"),
      // Plausible values for every child (valid events are common), or one edge case among
      // plausible ones (so the verdict hangs on that one value), or edge cases throughout.
      mode: fc.constantFrom("plausible", "one-edge", "one-edge", "random"),
      edgeAt: fc.nat(11),
    })
    .map(({ kids, values, gaps, body, mode, edgeAt }) => {
      const plausible: Record<string, string> = {
        Load: "0.5",
        Latency: "1",
        Workers: "2",
        B: "-3",
        C: "true",
        D: "1.25",
        E: "2e3",
        F: "9",
        G: "4",
        H: "7",
        I: "-8",
        J: "1.5",
      };
      const pick = (name: string, i: number) =>
        mode === "random" || (mode === "one-edge" && i === edgeAt % Math.max(1, kids.length)) ? values[i] : (plausible[name] ?? `v${i}`);
      const specs = kids.map((k, i) => ({ ...k, value: k.form === "text" && k.value === "" ? pick(k.name, i) : k.value }));
      const inner = specs.map((c, i) => gaps[i] + childXml(c)).join("") + gaps[11];
      const ev =
        body === "self"
          ? `<${name}/>`
          : body === "empty-open"
            ? `<${name}></${name}>`
            : body === "space"
              ? `<${name}> </${name}>`
              : body === "text"
                ? `<${name}>x${inner}</${name}>`
                : `<${name}>${inner}</${name}>`;
      return `<Event xmlns="${CLACKS_NS}">${gaps[10]}${ev}${gaps[9]}</Event>${gaps[8].replace(/\t/g, "")}`;
    });
});

describe("amqp schema validation: the JS fast path against libxml2", function () {
  this.timeout(60000);
  let folder: SchemaFolder;
  let withFast: SchemaValidator;
  let libxml2Only: SchemaValidator;
  let fast: FastCheck;
  before(async () => {
    folder = new SchemaFolder();
    for (const [f, text] of Object.entries(EXTRA)) folder.write(f, text);
    withFast = new SchemaValidator(folder.dir);
    libxml2Only = new SchemaValidator(folder.dir, CLACKS_NS, { fastPath: false });
    await withFast.validate("<x/>");
    const files = new Map(fs.readdirSync(folder.dir).map((f) => [f, fs.readFileSync(path.join(folder.dir, f))]));
    fast = compileFastCheck((await loadLibxml2()).api, files, await withFast.events(), CLACKS_NS)!;
  });
  after(() => {
    withFast.close();
    libxml2Only.close();
    folder.remove();
  });

  it("covers the plain schemas and leaves attributes, nested types and unqualified children to libxml2", () => {
    const covered = ["ClientPoll", "Mixed", "NodeStatus", "PhoneStatus", ...BUILTIN_TYPES.map((t) => `T${t}`)].sort();
    assert.deepEqual(withFast.fastPathEvents, covered);
    assert.deepEqual([...fast.rules.keys()].sort(), covered);
    assert.equal(fast.accepts(makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } }).xml), true);
    assert.equal(fast.accepts(makeEvent({ Unq: { A: "x" } }).xml), false);
  });

  it("agrees with libxml2 on every edge value of every covered type, and on generated number-like text", async () => {
    const one = (t: string, v: string) => `<Event xmlns="${CLACKS_NS}"><T${t}><V>${v}</V></T${t}></Event>`;
    let accepted = 0;
    for (const t of BUILTIN_TYPES) {
      for (const v of VALUES) {
        const xml = one(t, v);
        const reference = await libxml2Only.validate(xml);
        if (fast.accepts(xml)) {
          accepted++;
          assert.equal(reference.valid, true, `fast path accepted ${v} as xs:${t}`);
        }
        assert.deepEqual(await withFast.validate(xml), reference, `${v} as xs:${t}`);
      }
    }
    assert.ok(accepted > 100, `the fast path took only ${accepted} values`);
    const numberLike = fc.stringMatching(/^[ \n]?[-+]?[0-9]{0,25}(\.[0-9]{0,20})?([eE][-+]?[0-9]{0,4})?[ \n]?$/);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BUILTIN_TYPES), fc.oneof(numberLike, fc.string({ maxLength: 8 })), async (t, raw) => {
        const v = raw.replace(/&/g, "&amp;").replace(/</g, "&lt;");
        const xml = one(t, v);
        const reference = await libxml2Only.validate(xml);
        if (fast.accepts(xml)) assert.equal(reference.valid, true, `fast path accepted ${JSON.stringify(v)} as xs:${t}`);
        assert.deepEqual(await withFast.validate(xml), reference);
      }),
      { numRuns: 3000 },
    );
  });

  it("gives the same verdict as libxml2 alone on every generated event, and takes the fast path for many", async () => {
    let accepted = 0;
    let valid = 0;
    let total = 0;
    await fc.assert(
      fc.asyncProperty(events, async (xml) => {
        const reference = await libxml2Only.validate(xml);
        const got = await withFast.validate(xml);
        total++;
        if (reference.valid) valid++;
        if (fast.accepts(xml)) {
          accepted++;
          // The only way the two could differ: the fast path says valid where libxml2 does not.
          assert.deepEqual(reference, { valid: true, errors: [] }, `fast path accepted ${JSON.stringify(xml)}`);
        }
        assert.deepEqual(got, reference);
      }),
      { numRuns: 4000 },
    );
    // Not vacuous: the generator makes valid events, and the fast path takes most of them.
    assert.ok(valid > total / 10, `only ${valid} of ${total} generated events were valid`);
    assert.ok(accepted > valid / 2, `the fast path took ${accepted} of ${valid} valid events`);
  });
});
