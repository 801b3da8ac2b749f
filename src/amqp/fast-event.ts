import { addChild, EventObject, EventValue, setOwn } from "./event-object";
import { XAttr, XDoc, XElem } from "./xml-tree";
import { DEFAULT_MAX_EVENT_DEPTH } from "./xml-limits";

/**
 * A DOM-free reader for the plain shape almost every Clacks event has (what the EventMaker
 * writes): `<Event xmlns="ns">` around nested elements with unprefixed names, unprefixed
 * attributes (not on Event) and text; no comments, CDATA, processing instructions or entity
 * references beyond the five predefined ones. It builds the payload object directly, several
 * times faster than a DOM, and on request the node tree an XQuery runs on (xml-tree.ts) in the
 * same pass.
 *
 * It is deliberately narrow: the moment it meets anything else it returns `undefined` and the
 * caller parses with slimdom, which also produces every error message. It never accepts a
 * document slimdom would refuse (tested against slimdom on generated and mutated input).
 *
 * It runs once per delivery, so it works on char codes and keeps its position in one small
 * reader object: no closures or one-character strings per call.
 */
export interface FastEvent {
  name: string;
  payload: EventObject;
  /** The node tree, when asked for. */
  tree?: XDoc;
}

export interface ReadOptions {
  /** Build the node tree as well (for the compiled XQuery). */
  tree?: boolean;
  /** Most elements, Event included; beyond it the reader gives up (the DOM path refuses the event). */
  maxElements?: number;
}

// A Map: `&constructor;` must be an unknown entity, not Object.prototype.constructor.
const ENTITIES = new Map<string, string>([
  ["lt", "<"],
  ["gt", ">"],
  ["amp", "&"],
  ["quot", '"'],
  ["apos", "'"],
]);
// Characters XML 1.0 does not allow in a document at all (slimdom refuses them).
// eslint-disable-next-line no-control-regex -- matching the control characters XML 1.0 forbids is the point
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const CR = 0x0d;
const QUOT = 0x22;
const APOS = 0x27;
const EQ = 0x3d;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
// [A-Za-z_]
const isNameStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
// [A-Za-z0-9_.-]
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;

type ElementValue = EventValue & (string | EventObject);

class SimpleEventReader {
  i = 0;
  readonly n: number;
  /** The last element's name (set by element(), read by its caller). */
  tag = "";
  /** Elements read so far, Event included. */
  elements = 1;
  /** Document order of the next tree node (the document is 0, Event 1). */
  ord = 2;
  depth = 1;

  constructor(
    readonly xml: string,
    /** Deepest nesting, Event being level 1 (the event element is level 2, `element(0)`). */
    private readonly maxDepth: number,
    private readonly maxElements: number,
    private readonly tree: boolean,
  ) {
    this.n = xml.length;
  }

  ws(): void {
    const { xml, n } = this;
    while (this.i < n && isSpace(xml.charCodeAt(this.i))) this.i++;
  }

  name(): string | undefined {
    const { xml, n } = this;
    const s = this.i;
    if (s >= n || !isNameStart(xml.charCodeAt(s))) return undefined;
    let i = s + 1;
    while (i < n && isNameChar(xml.charCodeAt(i))) i++;
    this.i = i;
    // A colon would mean a prefix (namespaces): leave that to the DOM parser.
    if (xml.charCodeAt(i) === 0x3a) return undefined;
    return xml.slice(s, i);
  }

  text(): string | undefined {
    const { xml, n } = this;
    let i = this.i;
    let s = i;
    let out = "";
    for (; i < n; i++) {
      const c = xml.charCodeAt(i);
      if (c === LT) break;
      if (c === AMP) {
        const semi = xml.indexOf(";", i);
        if (semi < 0) return undefined;
        const ent = ENTITIES.get(xml.slice(i + 1, semi));
        if (ent === undefined) return undefined;
        out += xml.slice(s, i) + ent;
        i = semi;
        s = semi + 1;
      } else if (c === GT && xml.startsWith("]]>", i - 2)) {
        return undefined; // "]]>" in text is an error; let the DOM parser say so
      } else if (c === CR) {
        return undefined; // line-end normalisation: leave it to the DOM parser
      }
    }
    this.i = i;
    return s === i ? out : out + xml.slice(s, i);
  }

  /**
   * The attributes after an element name, as the payload's `$` (and the tree's nodes; undefined
   * when there are none), or null outside the plain shape: a prefix or `xmlns` (namespaces), a duplicate, a
   * reference other than the five entities, a carriage return (normalisation), a `<` (an error).
   */
  attributes(el: XElem | undefined): Record<string, string> | undefined | null {
    const { xml, n } = this;
    let out: Record<string, string> | undefined;
    while (isSpace(xml.charCodeAt(this.i))) {
      this.ws();
      const c = xml.charCodeAt(this.i);
      if (c === GT || c === SLASH) break;
      const name = this.name();
      if (!name || name === "xmlns" || (out && Object.prototype.hasOwnProperty.call(out, name))) return null;
      this.ws();
      if (xml.charCodeAt(this.i) !== EQ) return null;
      this.i++;
      this.ws();
      const q = xml.charCodeAt(this.i);
      if (q !== QUOT && q !== APOS) return null;
      let value = "";
      let s = ++this.i;
      let i = s;
      for (; ; i++) {
        if (i >= n) return null;
        const d = xml.charCodeAt(i);
        if (d === q) break;
        if (d === LT || d === CR) return null;
        if (d === AMP) {
          const semi = xml.indexOf(";", i);
          const ent = semi < 0 ? undefined : ENTITIES.get(xml.slice(i + 1, semi));
          if (ent === undefined) return null;
          value += xml.slice(s, i) + ent;
          i = semi;
          s = semi + 1;
        } else if (d === 0x09 || d === 0x0a) {
          value += xml.slice(s, i) + " "; // attribute-value normalisation
          s = i + 1;
        }
      }
      value += xml.slice(s, i);
      this.i = i + 1;
      setOwn((out ??= {}), name, value);
      if (el) (el.attrs ??= []).push({ kind: 2, ord: this.ord++, name, value, parent: el } satisfies XAttr);
    }
    return out;
  }

  /** One element at the position (its name lands in `tag`), or undefined outside the plain shape. */
  element(depth: number, parent: XElem | undefined): ElementValue | undefined {
    const xml = this.xml;
    // Too deep or too many: the DOM path checks the limits again and refuses the event with its own error.
    if (depth + 2 > this.maxDepth || ++this.elements > this.maxElements || xml.charCodeAt(this.i) !== LT) return undefined;
    if (depth + 2 > this.depth) this.depth = depth + 2;
    this.i++;
    const tag = this.name();
    // "_" is where text goes and "__proto__" cannot be a plain property: leave both to the DOM path.
    if (!tag || tag === "_" || tag === "__proto__") return undefined;
    let el: XElem | undefined;
    if (parent) parent.kids.push((el = { kind: 1, ord: this.ord++, name: tag, attrs: undefined, kids: [], parent }));
    let obj: EventObject | undefined;
    const attrs = this.attributes(el);
    if (attrs === null) return undefined;
    if (attrs) obj = { $: attrs };
    this.ws();
    if (xml.charCodeAt(this.i) === SLASH && xml.charCodeAt(this.i + 1) === GT) {
      this.i += 2;
      this.tag = tag;
      return obj ?? "";
    }
    if (xml.charCodeAt(this.i) !== GT) return undefined;
    this.i++;
    let textAll = "";
    let children = false;
    for (;;) {
      const t = this.text();
      if (t === undefined) return undefined;
      textAll += t;
      if (el && t) el.kids.push({ kind: 3, ord: this.ord++, value: t, parent: el });
      if (this.i >= this.n) return undefined;
      const next = xml.charCodeAt(this.i + 1);
      if (next === SLASH) {
        this.i += 2;
        const close = this.name();
        if (close !== tag) return undefined;
        this.ws();
        if (xml.charCodeAt(this.i) !== GT) return undefined;
        this.i++;
        this.tag = tag;
        if (!obj) return textAll;
        // Whitespace between child elements is indentation, not content (as in elementToValue).
        const text = children ? textAll.trim() : textAll;
        if (text) obj._ = text;
        return obj;
      }
      if (next === 0x21 || next === 0x3f) return undefined; // "<!" comment/CDATA, "<?" PI
      children = true;
      const child = this.element(depth + 1, el);
      if (child === undefined) return undefined;
      const childName = this.tag;
      // Names are data (`constructor`, `toString`): own properties only.
      addChild((obj ??= {}), childName, child);
    }
  }

  /** `<Event xmlns="ns">`, exactly one event element, `</Event>`, nothing else. */
  read(ns: string): FastEvent | undefined {
    const xml = this.xml;
    this.ws();
    if (!xml.startsWith("<Event", this.i)) return undefined;
    this.i += 6;
    if (!isSpace(xml.charCodeAt(this.i))) return undefined;
    this.ws();
    if (!xml.startsWith("xmlns", this.i)) return undefined;
    this.i += 5;
    this.ws();
    if (xml.charCodeAt(this.i) !== 0x3d) return undefined; // "="
    this.i++;
    this.ws();
    const q = xml.charCodeAt(this.i);
    if (q !== QUOT && q !== APOS) return undefined;
    const end = xml.indexOf(q === QUOT ? '"' : "'", this.i + 1);
    if (end < 0) return undefined;
    const nsValue = xml.slice(this.i + 1, end);
    if (nsValue !== ns || /[<&]/.test(nsValue)) return undefined;
    this.i = end + 1;
    this.ws();
    if (xml.charCodeAt(this.i) !== GT) return undefined;
    this.i++;

    const doc: XDoc | undefined = this.tree ? { kind: 9, ord: 0, ns, kids: [], parent: null, elements: 0, depth: 0 } : undefined;
    const root: XElem | undefined = doc ? { kind: 1, ord: 1, name: "Event", attrs: undefined, kids: [], parent: doc } : undefined;
    if (doc && root) doc.kids.push(root);
    const lead = this.text();
    if (lead === undefined || lead.trim() !== "") return undefined;
    if (root && lead) root.kids.push({ kind: 3, ord: this.ord++, value: lead, parent: root });
    const ev = this.element(0, root);
    if (ev === undefined) return undefined;
    const name = this.tag;
    const trail = this.text();
    if (trail === undefined || trail.trim() !== "") return undefined;
    if (root && trail) root.kids.push({ kind: 3, ord: this.ord++, value: trail, parent: root });
    if (!xml.startsWith("</Event", this.i)) return undefined;
    this.i += 7;
    this.ws();
    if (xml.charCodeAt(this.i) !== GT) return undefined;
    this.i++;
    this.ws();
    if (this.i !== this.n) return undefined;
    const payload: EventObject = typeof ev === "string" ? (ev.trim() ? { _: ev } : {}) : ev;
    if (!doc) return { name, payload };
    doc.elements = this.elements;
    doc.depth = this.depth;
    return { name, payload, tree: doc };
  }
}

export function readSimpleEvent(xml: string, ns: string, maxDepth: number = DEFAULT_MAX_EVENT_DEPTH, opts: ReadOptions = {}): FastEvent | undefined {
  if (ILLEGAL.test(xml)) return undefined;
  return new SimpleEventReader(xml, maxDepth, opts.maxElements ?? Infinity, opts.tree ?? false).read(ns);
}
