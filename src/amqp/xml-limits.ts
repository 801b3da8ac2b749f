import { ProtocolError } from "../core/errors";
import { asText } from "../core/describe";

/**
 * Shape limits on an XML event, checked on the text before any DOM is built or any XQuery runs.
 *
 * Depth: a Clacks event is a few levels deep. A hostile one nested thousands deep costs nothing
 * to parse, but every recursive walk after it does not: Node-RED's message clone (a second wire)
 * overflowed the stack at ~3,000 levels, and fontoxpath's descendant steps grow with the cube of
 * the depth (112 KB nested 16,000 deep blocked the runtime for 153 s).
 * Elements: what a descendant-of-descendant XQuery (`//a//b`) costs grows with the square of the
 * element count (30,000 siblings: 150 s), so the XQuery path bounds that count as well.
 */
export const DEFAULT_MAX_EVENT_DEPTH = 64;
/** Deepest a user may allow: Node-RED's clone of the payload object stays far from the stack limit. */
export const MAX_EVENT_DEPTH_LIMIT = 1000;
/**
 * Elements an event may have when an XQuery is evaluated on it. Clacks events have tens; the
 * worst query measured (`//a//a` on 60-deep chains) costs ~1 ms per element, so ~2 s here.
 */
export const DEFAULT_MAX_XQUERY_ELEMENTS = 2000;

export interface ShapeLimits {
  /** Deepest element nesting, counting the root element as level 1. */
  maxDepth: number;
  /** Most elements in the document (Infinity: not checked). */
  maxElements?: number;
}

const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QMARK = 0x3f;
const QUOT = 0x22;
const APOS = 0x27;

/**
 * Throws ProtocolError `xml-too-deep` or `xml-too-many-elements` as soon as the text exceeds a
 * limit; one linear pass over char codes, no allocation. Exact for well-formed XML (comments,
 * CDATA, processing instructions and quoted attribute values are skipped, so a `<` or `>` inside
 * them is not a tag). Malformed text is not judged here: the parser that runs next refuses it.
 */
export function checkXmlShape(xml: string, limits: ShapeLimits): void {
  const maxDepth = limits.maxDepth;
  const maxElements = limits.maxElements ?? Infinity;
  const n = xml.length;
  let depth = 0;
  let elements = 0;
  let i = xml.indexOf("<");
  while (i >= 0 && i < n) {
    const c = xml.charCodeAt(i + 1);
    if (c === SLASH) {
      depth--;
      i = xml.indexOf(">", i + 2);
    } else if (c === BANG) {
      if (xml.startsWith("<!--", i)) i = after(xml, "-->", i + 4);
      else if (xml.startsWith("<![CDATA[", i)) i = after(xml, "]]>", i + 9);
      else i = xml.indexOf(">", i + 2); // a DOCTYPE: the parser refuses it
    } else if (c === QMARK) {
      i = after(xml, "?>", i + 2);
    } else {
      // A start tag: find its end outside quoted attribute values.
      let j = i + 1;
      let quote = 0;
      for (; j < n; j++) {
        const d = xml.charCodeAt(j);
        if (quote !== 0) {
          if (d === quote) quote = 0;
        } else if (d === QUOT || d === APOS) quote = d;
        else if (d === GT) break;
      }
      if (++elements > maxElements) {
        throw new ProtocolError("xml-too-many-elements", `XML event has more than ${maxElements} elements (the limit for XQuery filtering)`, {
          limit: maxElements,
        });
      }
      // `<a/>` is as deep as its level but opens nothing.
      if (depth + 1 > maxDepth) {
        throw new ProtocolError("xml-too-deep", `XML event nests deeper than ${maxDepth} levels`, { limit: maxDepth });
      }
      if (xml.charCodeAt(j - 1) !== SLASH) depth++;
      i = j;
    }
    if (i < 0) return;
    i = xml.indexOf("<", i + 1);
  }
}

/** The index of the last character of `end` after `from`, or -1. */
function after(xml: string, end: string, from: number): number {
  const k = xml.indexOf(end, from);
  return k < 0 ? -1 : k + end.length - 1;
}

/** A depth setting as given in the editor: an integer from 2 (Event and its one element) to the limit. */
export function depthSetting(v: unknown, fallback: number = DEFAULT_MAX_EVENT_DEPTH): number {
  if (v === undefined || v === null || v === "") return fallback;
  const d = Number(v);
  if (!Number.isInteger(d) || d < 2 || d > MAX_EVENT_DEPTH_LIMIT) {
    throw new RangeError(`maximum nesting depth must be a whole number from 2 to ${MAX_EVENT_DEPTH_LIMIT}, got ${asText(v)}`);
  }
  return d;
}
