import { Document, Element, parseXmlDocument } from "slimdom";
import { ProtocolError } from "../core/errors";
import { checkXmlShape, DEFAULT_MAX_EVENT_DEPTH } from "./xml-limits";

/** The namespace Clacks' EventMaker puts every event element in. */
export const CLACKS_NS = "http://www.gonicus.de/Events";

/** Receive-side size cap: Clacks events are a few hundred bytes; 256 KiB leaves room for inventories. */
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;

export interface ParsedEvent {
  doc: Document;
  /** Local name of the single element inside `Event`, e.g. "PhoneStatus". */
  name: string;
  /** That element. */
  element: Element;
}

export interface ParseOptions {
  maxBytes?: number;
  namespace?: string;
  /** Deepest element nesting, the Event element being level 1 (default 64). */
  maxDepth?: number;
  /** Most elements (default: not checked); the XQuery path bounds it. */
  maxElements?: number;
}

// A DOCTYPE is the only door to entity expansion (billion laughs) and external entities; Clacks
// events never carry one, so refusing it outright is simpler and safer than taming the parser.
const DOCTYPE = /<!DOCTYPE/i;

/**
 * Parse an XML event safely: size cap, no DTD, depth (and element count) checked on the text
 * before a DOM is built, well-formed, root `{ns}Event` with exactly one element child in the
 * same namespace. Everything wrong is a ProtocolError with a stable code.
 */
export function parseEvent(xml: string, opts: ParseOptions = {}): ParsedEvent {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const ns = opts.namespace ?? CLACKS_NS;
  checkSize(xml, maxBytes);
  if (DOCTYPE.test(xml)) throw new ProtocolError("xml-doctype", "XML event carries a DOCTYPE (DTDs and entities are refused)");
  checkXmlShape(xml, { maxDepth: opts.maxDepth ?? DEFAULT_MAX_EVENT_DEPTH, maxElements: opts.maxElements });
  // An XML declaration may only appear at the very start; a second one (e.g. the old Clacks
  // agent prepending its own to a payload that already had one) is an error we name.
  const again = xml.indexOf("<?xml", 1);
  if (
    again > 0 &&
    /^<\?xml[\s?]/.test(xml.slice(again, again + 6)) &&
    xml
      .slice(0, again)
      .trim()
      .replace(/^\uFEFF/, "") !== ""
  ) {
    throw new ProtocolError("xml-malformed", "XML declaration not at the start of the document");
  }
  let doc: Document;
  try {
    doc = parseXmlDocument(xml.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new ProtocolError("xml-malformed", `malformed XML: ${firstLine(e)}`);
  }
  return checkEnvelope(doc, ns);
}

/** Refuse text over `maxBytes` UTF-8 bytes (length is a lower bound: count bytes only when it could matter). */
export function checkSize(xml: string, maxBytes: number = DEFAULT_MAX_EVENT_BYTES): void {
  if (xml.length > maxBytes || (xml.length * 3 > maxBytes && Buffer.byteLength(xml, "utf8") > maxBytes)) {
    throw new ProtocolError("xml-too-large", `XML event is larger than ${maxBytes} bytes`, { limit: maxBytes });
  }
}

export function checkEnvelope(doc: Document, ns: string = CLACKS_NS): ParsedEvent {
  const root = doc.documentElement;
  if (!root || root.localName !== "Event" || root.namespaceURI !== ns) {
    const got = root ? `{${root.namespaceURI ?? ""}}${root.localName}` : "nothing";
    throw new ProtocolError("not-an-event", `root element must be {${ns}}Event, got ${got}`);
  }
  const children = root.children;
  if (children.length !== 1) {
    throw new ProtocolError("bad-envelope", `Event must wrap exactly one event element, found ${children.length}`);
  }
  const element = children[0];
  if (element.namespaceURI !== ns) {
    throw new ProtocolError("bad-envelope", `event element ${element.localName} is not in namespace ${ns}`);
  }
  return { doc, name: element.localName, element };
}

/**
 * The text of an AMQP body: a data section (Buffer, or rhea's section object), an amqp-value
 * string, or a Buffer. Clacks sent UTF-8 text; other brokers' clients send any of these.
 */
export function bodyToText(body: unknown): string {
  if (typeof body === "string") return body;
  if (Buffer.isBuffer(body)) return body.toString("utf8");
  if (body instanceof Uint8Array) return Buffer.from(body).toString("utf8");
  const s = body as { typecode?: number; content?: unknown } | null | undefined;
  if (s && typeof s === "object" && s.typecode === 0x75 && Buffer.isBuffer(s.content)) return s.content.toString("utf8");
  throw new ProtocolError("body-not-text", `message body is not text or bytes (${describeBody(body)})`);
}

/** Byte size of a body before any decoding, so oversize bodies are refused without copying them. */
export function bodySize(body: unknown): number | undefined {
  if (typeof body === "string") return body.length;
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return body.byteLength;
  const s = body as { typecode?: number; content?: unknown } | null | undefined;
  if (s && typeof s === "object" && Buffer.isBuffer(s.content)) return s.content.length;
  return undefined;
}

function describeBody(body: unknown): string {
  if (body === null || body === undefined) return "empty";
  if (Array.isArray(body)) return "list";
  return typeof body;
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0].slice(0, 200);
}
