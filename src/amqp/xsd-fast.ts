/**
 * The fast path of XSD validation: a check in plain JS, compiled from the same schema files,
 * for the shape almost every Clacks event has and the schemas Clacks events use. It only
 * ever answers "valid" when it is sure; anything it does not cover, and every invalid event,
 * goes to libxml2, which also writes every error message. So it can make validation faster,
 * never different (a property test checks it against libxml2 on generated events).
 *
 * Why: libxml2 costs ~7 µs per event back to back, but 25–35 µs between one-at-a-time sends
 * (its WASM code and heap are cache-cold after every broker round trip): 10–17 % of such a
 * send on a shared 2-CPU machine. This check costs ~1 µs.
 *
 * Covered events: `<Event xmlns="ns">` around one event element, no attributes, prefixes,
 * comments, CDATA, PIs, character references or CRs, text with the five predefined entities.
 * Covered schemas: a global complexType named after the event, in a schema document with
 * targetNamespace = ns and elementFormDefault="qualified", that is empty or holds one
 * xs:sequence or xs:all (occurring once) of local elements with a built-in simple type
 * (string, boolean, decimal, float, double, integer and its common subtypes), minOccurs 0 or 1,
 * maxOccurs 1, distinct names, nothing else (no attributes, defaults, fixed values, nillable,
 * identity constraints). A schema set that uses xs:redefine or xs:override gets no fast path.
 */

/** The part of libxml2-wasm's object API used to read the schema files. */
export interface XsdReadApi {
  XmlDocument: { fromBuffer(bytes: Uint8Array): XsdDoc };
  XmlElement: abstract new (...args: never[]) => object;
  XmlText: abstract new (...args: never[]) => object;
  XmlComment: abstract new (...args: never[]) => object;
}
interface XsdDoc {
  readonly root: XsdNode;
  dispose(): void;
}
interface XsdNode {
  readonly name: string;
  readonly namespaceUri: string;
  readonly firstChild: XsdNode | null;
  readonly next: XsdNode | null;
  readonly content: string;
  readonly attrs: Array<{ name: string; namespaceUri: string; value: string }>;
  namespaceForPrefix(prefix: string): string | null;
}

const XSD = "http://www.w3.org/2001/XMLSchema";

type ValueCheck = (text: string) => boolean;
interface Particle {
  name: string;
  required: boolean;
  check: ValueCheck;
}
interface TypeRule {
  kind: "empty" | "sequence" | "all";
  particles: Particle[];
  byName: Map<string, number>;
}

export class FastCheck {
  private readonly start: string;

  constructor(
    private readonly ns: string,
    /** Event name → rule, for the events whose type is covered. */
    readonly rules: ReadonlyMap<string, TypeRule>,
  ) {
    this.start = `<Event xmlns="${ns}">`;
  }

  /** True only when the event is certainly valid; false = ask libxml2. */
  accepts(xml: string): boolean {
    if (!xml.startsWith(this.start)) return false;
    const r = new Reader(xml, this.start.length);
    if (!r.skipSpace()) return false;
    const ev = r.element();
    const rule = ev && this.rules.get(ev.name);
    if (!rule || !r.skipSpace() || !r.expect("</Event>") || !r.atEndAfterSpace()) return false;
    return matches(rule, ev.content);
  }
}

function matches(rule: TypeRule, content: string | Children): boolean {
  // Empty content: nothing at all inside, not even white space.
  if (rule.kind === "empty") return content === "";
  // Element-only content: white space between the elements, no other text.
  const children: Children = typeof content === "string" ? (content.trim() ? Object.assign([], { text: true }) : []) : content;
  if (children.text) return false;
  const seen = new Array<boolean>(rule.particles.length).fill(false);
  let last = -1;
  for (const c of children) {
    const i = rule.byName.get(c.name);
    if (i === undefined || seen[i] || typeof c.content !== "string") return false;
    if (rule.kind === "sequence" && i < last) return false;
    if (!rule.particles[i].check(c.content)) return false;
    seen[i] = true;
    last = i;
  }
  return rule.particles.every((p, i) => seen[i] || !p.required);
}

// ---- The event reader: only the plain shape, everything else is "not sure" (undefined). ----

type Child = { name: string; content: string | Children };
type Children = Child[] & { text?: boolean };

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09;
const isNameStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
const ENTITIES = new Map([
  ["lt", "<"],
  ["gt", ">"],
  ["amp", "&"],
  ["quot", '"'],
  ["apos", "'"],
]);
const MAX_DEPTH = 3; // the event element, its children, nothing deeper (simple values)

class Reader {
  constructor(
    private readonly xml: string,
    private i: number,
  ) {}

  skipSpace(): boolean {
    while (this.i < this.xml.length && isSpace(this.xml.charCodeAt(this.i))) this.i++;
    return true;
  }

  expect(s: string): boolean {
    if (!this.xml.startsWith(s, this.i)) return false;
    this.i += s.length;
    return true;
  }

  atEndAfterSpace(): boolean {
    this.skipSpace();
    return this.i === this.xml.length;
  }

  private name(): string | undefined {
    const xml = this.xml;
    const s = this.i;
    if (!isNameStart(xml.charCodeAt(s))) return undefined;
    let i = s + 1;
    while (isNameChar(xml.charCodeAt(i))) i++;
    this.i = i;
    return xml.slice(s, i);
  }

  /** Character data up to the next `<`: decoded, or undefined for anything not plain. */
  private text(): string | undefined {
    const xml = this.xml;
    let out = "";
    let s = this.i;
    let i = s;
    for (; i < xml.length; i++) {
      const c = xml.charCodeAt(i);
      if (c === 0x3c) break;
      if (c < 0x20 ? c !== 0x09 && c !== 0x0a : c >= 0xd800 && (c <= 0xdfff || c >= 0xfffe)) return undefined;
      if (c === 0x26) {
        const semi = xml.indexOf(";", i);
        const ent = semi > i ? ENTITIES.get(xml.slice(i + 1, semi)) : undefined;
        if (ent === undefined) return undefined;
        out += xml.slice(s, i) + ent;
        i = semi;
        s = semi + 1;
      } else if (c === 0x3e && i >= 2 && xml.charCodeAt(i - 1) === 0x5d && xml.charCodeAt(i - 2) === 0x5d) {
        return undefined; // "]]>"
      }
    }
    this.i = i;
    return out + xml.slice(s, i);
  }

  /** `<Name>…</Name>` or `<Name/>`: its text when it holds no element, else its children. */
  element(depth = 1): Child | undefined {
    const xml = this.xml;
    if (depth > MAX_DEPTH || xml.charCodeAt(this.i) !== 0x3c) return undefined;
    this.i++;
    const name = this.name();
    if (!name) return undefined;
    this.skipSpace();
    if (this.expect("/>")) return { name, content: "" };
    if (!this.expect(">")) return undefined; // attributes, prefixes: not plain
    const children: Children = [];
    let text = "";
    for (;;) {
      const t = this.text();
      if (t === undefined || this.i >= xml.length) return undefined;
      text += t;
      if (xml.charCodeAt(this.i + 1) === 0x2f) break; // "</"
      const child = this.element(depth + 1);
      if (!child) return undefined;
      children.push(child);
    }
    this.i += 2;
    if (this.name() !== name) return undefined;
    this.skipSpace();
    if (!this.expect(">")) return undefined;
    if (children.length === 0) return { name, content: text };
    if (text.trim() !== "") children.text = true; // kept only as "there was text"
    return { name, content: children };
  }
}

// ---- Built-in simple types: each check accepts only lexical forms certainly in the type. ----

const collapsed = (t: string): string | undefined => {
  const v = t.replace(/^[ \t\n]+|[ \t\n]+$/g, "");
  return /[ \t\n]/.test(v) ? undefined : v;
};
// At most 18 digits: well inside what every libxml2 version takes for decimals and integers.
const integer =
  (re: RegExp, min?: bigint, max?: bigint): ValueCheck =>
  (t) => {
    const v = collapsed(t);
    if (v === undefined || !re.test(v) || v.replace(/^[-+]/, "").length > 18) return false;
    const n = BigInt(v);
    return (min === undefined || n >= min) && (max === undefined || n <= max);
  };
const floating =
  (max: number): ValueCheck =>
  (t) => {
    const v = collapsed(t);
    if (v === undefined || !/^-?\d{1,15}(\.\d{1,15})?([eE]-?\d{1,2})?$/.test(v)) return false;
    const n = Math.abs(Number(v));
    return n === 0 || (n <= max && n >= 1e-30);
  };
const BUILTINS = new Map<string, ValueCheck>([
  ["string", () => true],
  ["boolean", (t) => /^(true|false|1|0)$/.test(collapsed(t) ?? "")],
  ["decimal", (t) => /^-?\d{1,9}(\.\d{1,9})?$/.test(collapsed(t) ?? "")],
  ["float", floating(3.4e38)],
  ["double", floating(1.7e308)],
  ["integer", integer(/^-?\d+$/)],
  ["long", integer(/^-?\d+$/, -(2n ** 63n), 2n ** 63n - 1n)],
  ["int", integer(/^-?\d+$/, -(2n ** 31n), 2n ** 31n - 1n)],
  ["nonNegativeInteger", integer(/^\d+$/, 0n)],
  ["positiveInteger", integer(/^\d+$/, 1n)],
  ["unsignedInt", integer(/^\d+$/, 0n, 2n ** 32n - 1n)],
]);

// ---- Compiling the covered part of a schema set. ----

/**
 * The fast check for the events whose complexType is covered, or undefined when none is
 * (or the set redefines components). `files` are the folder's schema files, already
 * compiled by libxml2 without error.
 */
export function compileFastCheck(api: XsdReadApi, files: ReadonlyMap<string, Uint8Array>, events: readonly string[], ns: string): FastCheck | undefined {
  if (/[<&"]/.test(ns)) return undefined;
  const types = new Map<string, TypeRule | null>();
  for (const bytes of files.values()) {
    const doc = api.XmlDocument.fromBuffer(bytes);
    try {
      const schema = doc.root;
      if (schema.name !== "schema" || schema.namespaceUri !== XSD) return undefined;
      const covered = attr(schema, "targetNamespace") === ns && attr(schema, "elementFormDefault") === "qualified";
      for (const top of elements(api, schema)) {
        if (top === undefined) continue; // text in a schema: libxml2 compiled it, so it is whitespace
        if (top.namespaceUri === XSD && (top.name === "redefine" || top.name === "override")) return undefined;
        if (top.namespaceUri !== XSD || top.name !== "complexType") continue;
        const name = attr(top, "name");
        if (name !== undefined) types.set(name, covered ? typeRule(api, top) : null);
      }
    } finally {
      doc.dispose();
    }
  }
  const rules = new Map<string, TypeRule>();
  for (const e of events) {
    const rule = types.get(e);
    if (rule) rules.set(e, rule);
  }
  return rules.size ? new FastCheck(ns, rules) : undefined;
}

function typeRule(api: XsdReadApi, type: XsdNode): TypeRule | null {
  if (!onlyAttrs(type, ["name"])) return null;
  const body = elements(api, type).filter((c) => !(c?.namespaceUri === XSD && c.name === "annotation"));
  if (body.length === 0) return { kind: "empty", particles: [], byName: new Map() };
  const group = body[0];
  if (body.length !== 1 || !group || group.namespaceUri !== XSD || (group.name !== "sequence" && group.name !== "all")) return null;
  if (!onlyAttrs(group, ["minOccurs", "maxOccurs"]) || !once(group)) return null;
  const particles: Particle[] = [];
  for (const el of elements(api, group)) {
    if (!el || el.namespaceUri !== XSD) return null;
    if (el.name === "annotation") continue;
    if (el.name !== "element" || !onlyAttrs(el, ["name", "type", "minOccurs", "maxOccurs"])) return null;
    if (elements(api, el).some((c) => !(c?.namespaceUri === XSD && c.name === "annotation"))) return null;
    const name = attr(el, "name");
    const type = attr(el, "type")?.trim() ?? "";
    const colon = type.indexOf(":");
    const check = colon > 0 && el.namespaceForPrefix(type.slice(0, colon)) === XSD ? BUILTINS.get(type.slice(colon + 1)) : undefined;
    const min = attr(el, "minOccurs") ?? "1";
    if (!name || !check || (min !== "0" && min !== "1") || (attr(el, "maxOccurs") ?? "1") !== "1") return null;
    if (particles.some((p) => p.name === name)) return null;
    particles.push({ name, required: min === "1", check });
  }
  return { kind: group.name === "all" ? "all" : "sequence", particles, byName: new Map(particles.map((p, i) => [p.name, i])) };
}

function once(group: XsdNode): boolean {
  return (attr(group, "minOccurs") ?? "1") === "1" && (attr(group, "maxOccurs") ?? "1") === "1";
}

function attr(el: XsdNode, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name && !a.namespaceUri)?.value;
}

/** Any attribute outside `allowed` (foreign ones included) means: not covered. */
function onlyAttrs(el: XsdNode, allowed: string[]): boolean {
  return el.attrs.every((a) => !a.namespaceUri && allowed.includes(a.name));
}

/** Element children; `undefined` for a non-blank text child; comments skipped. */
function elements(api: XsdReadApi, el: XsdNode): Array<XsdNode | undefined> {
  const out: Array<XsdNode | undefined> = [];
  for (let c = el.firstChild; c; c = c.next) {
    if (isA(c, api.XmlElement)) out.push(c);
    else if (isA(c, api.XmlText)) {
      if (c.content.trim()) out.push(undefined);
    } else if (!isA(c, api.XmlComment)) out.push(undefined);
  }
  return out;
}

// A plain boolean, not a type guard: the classes share one shape in the interfaces above.
function isA(x: XsdNode, cls: abstract new (...args: never[]) => object): boolean {
  return x instanceof cls;
}
