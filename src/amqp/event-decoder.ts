import type { Message } from "rhea";
import { ProtocolError } from "../core/errors";
import { DecodedBusEvent, fromBusEvent, isBusMessage } from "./bus-event";
import { EventObject, eventToObject } from "./event-object";
import { readSimpleEvent } from "./fast-event";
import { bodySize, bodyToText, checkSize, CLACKS_NS, DEFAULT_MAX_EVENT_BYTES, parseEvent } from "./xml-event";
import { depthSetting } from "./xml-limits";
import { propertiesAsVariables, XQueryFilter } from "./xquery-filter";

export type EventFormat = "xml-event" | "raw";

export interface DecoderOptions {
  format?: EventFormat;
  /** Optional XQuery; its effective boolean value decides delivery (xml-event format only). */
  xquery?: string;
  namespace?: string;
  maxBytes?: number;
  /** Deepest element nesting accepted, the Event element being level 1 (default 64, at most 1000). */
  maxDepth?: number;
  /** Most elements an event may have for the XQuery to run on it (default 2000). */
  xqueryMaxElements?: number;
}

export type Decoded =
  | { kind: "event"; name: string; payload: EventObject; xml: string }
  | { kind: "raw"; name: string | undefined; payload: unknown }
  | { kind: "filtered"; name: string; error?: Error }
  | DecodedBusEvent;

/**
 * Turns one AMQP message into what a flow sees: the event name, the event as an object and
 * the XML (xml-event), or the body untouched (raw). Bad input throws a ProtocolError with a
 * stable code; the caller drops, counts and settles it, and the link stays up.
 */
export class EventDecoder {
  readonly format: EventFormat;
  readonly filter: XQueryFilter | undefined;
  private readonly namespace: string;
  private readonly maxBytes: number;
  readonly maxDepth: number;

  constructor(opts: DecoderOptions = {}) {
    this.format = opts.format ?? "xml-event";
    this.namespace = opts.namespace ?? CLACKS_NS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.maxDepth = depthSetting(opts.maxDepth);
    this.filter =
      this.format === "xml-event" && opts.xquery && opts.xquery.trim()
        ? new XQueryFilter(opts.xquery, this.namespace, { maxDepth: this.maxDepth, maxElements: opts.xqueryMaxElements })
        : undefined;
  }

  decode(message: Message): Decoded {
    const size = bodySize(message.body);
    if (size !== undefined && size > this.maxBytes) {
      throw new ProtocolError("xml-too-large", `message body of ${size} bytes exceeds the limit of ${this.maxBytes}`, { size, limit: this.maxBytes });
    }
    if (this.format === "raw") return { kind: "raw", name: nameFromMessage(message), payload: rawBody(message.body) };
    // A bus event (amqp1-send's JSON format) is restored as its input node sent it; the XQuery
    // is for Clacks XML and does not apply.
    if (isBusMessage(message)) return fromBusEvent(bodyToText(message.body), message.message_id, message.application_properties);
    const xml = bodyToText(message.body);
    const filter = this.filter;
    if (!filter || filter.compiled) {
      // Without an XQuery, or with one compiled for it, no DOM is needed: the plain shape is read
      // directly, in one pass with the node tree the query runs on (anything else falls back below,
      // as does an event the compiled query is not certain about).
      checkSize(xml, this.maxBytes);
      const fast = readSimpleEvent(xml, this.namespace, this.maxDepth, filter ? { tree: true, maxElements: filter.maxElements } : undefined);
      if (fast) {
        const r = filter ? filter.evaluateTree(fast.tree!, propertiesAsVariables(message.application_properties)) : { match: true };
        if (r) return r.match ? { kind: "event", name: fast.name, payload: fast.payload, xml } : { kind: "filtered", name: fast.name };
      }
    }
    // Too deep (and, for an XQuery, too many elements) is refused here, on the text: before a
    // DOM, an XQuery evaluation or a payload object exists.
    const parsed = parseEvent(xml, { namespace: this.namespace, maxBytes: this.maxBytes, maxDepth: this.maxDepth, maxElements: this.filter?.maxElements });
    if (this.filter) {
      const r = this.filter.evaluate(parsed.doc, propertiesAsVariables(message.application_properties));
      if (!r.match) return { kind: "filtered", name: parsed.name, error: r.error };
    }
    return { kind: "event", name: parsed.name, payload: eventToObject(parsed.element), xml };
  }
}

/** The event name without parsing the body: `clacks_event`, else the subject's `…event.<Name>`. */
export function nameFromMessage(m: Message): string | undefined {
  const p = m.application_properties?.clacks_event;
  if (typeof p === "string" && p) return p;
  const subject = typeof m.subject === "string" ? m.subject : undefined;
  const i = subject ? subject.lastIndexOf(".event.") : -1;
  return subject && i >= 0 ? subject.slice(i + 7) || undefined : undefined;
}

// A data section arrives as rhea's section object; a flow wants the bytes.
function rawBody(body: unknown): unknown {
  const s = body as { typecode?: number; content?: unknown } | null;
  if (s && typeof s === "object" && s.typecode === 0x75 && Buffer.isBuffer(s.content)) return s.content;
  return body;
}
