import { InfraError } from "../core/errors";
import { CLACKS_NS, DEFAULT_MAX_EVENT_BYTES, parseEvent } from "./xml-event";

/**
 * The EventMaker: builds `<Event xmlns="ns"><Name>…</Name></Event>` from a plain object the
 * way Clacks' lxml ElementMaker did (default namespace, so every child is in the Events
 * namespace too), or checks a given XML string. The inverse of event-object.ts:
 * `{PhoneStatus: {CallerId: "012345", Status: "busy"}}`, arrays = repeated elements,
 * `$` = attributes, `_` = text next to children or attributes.
 */
export interface BuiltEvent {
  xml: string;
  name: string;
}

export interface MakerOptions {
  namespace?: string;
  maxBytes?: number;
}

const MAX_DEPTH = 32;
// XML NCName, ASCII subset plus any non-ASCII letter: event and field names are identifiers.
const NCNAME = /^[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*$/;

export function makeEvent(data: unknown, opts: MakerOptions = {}): BuiltEvent {
  const ns = opts.namespace ?? CLACKS_NS;
  if (typeof data === "string") return checkEventXml(data, opts);
  if (!isPlainObject(data)) throw new InfraError("event-not-object", "an event must be an object like {PhoneStatus: {...}} or an XML string");
  const keys = Object.keys(data).filter((k) => data[k] !== undefined);
  if (keys.length !== 1) {
    throw new InfraError("event-needs-one-name", `an event object needs exactly one key, the event name; got ${keys.length ? keys.join(", ") : "none"}`);
  }
  const name = keys[0];
  const parts: string[] = [`<Event xmlns="${escapeAttr(ns)}">`];
  writeElement(parts, name, data[name], 1, name);
  parts.push("</Event>");
  const xml = parts.join("");
  const max = opts.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
  if (Buffer.byteLength(xml, "utf8") > max) throw new InfraError("event-too-large", `event ${name} is larger than ${max} bytes`);
  return { xml, name };
}

/** Given XML: the same checks a receiver applies (size, no DTD, envelope), so we never send what we would refuse. */
export function checkEventXml(xml: string, opts: MakerOptions = {}): BuiltEvent {
  // Strip a leading declaration: the old Clacks agent prepends its own, and a second one is invalid.
  const body = xml.replace(/^\uFEFF?\s*<\?xml[^?]*\?>\s*/, "");
  const parsed = parseEvent(body, { namespace: opts.namespace, maxBytes: opts.maxBytes });
  return { xml: body, name: parsed.name };
}

function writeElement(out: string[], name: string, value: unknown, depth: number, path: string): void {
  if (!NCNAME.test(name) || name.toLowerCase().startsWith("xml")) {
    throw new InfraError("bad-element-name", `"${name}" (at ${path}) is not a usable XML element name`);
  }
  if (depth > MAX_DEPTH) throw new InfraError("event-too-deep", `event nests deeper than ${MAX_DEPTH} levels at ${path} (a cycle?)`);
  if (Array.isArray(value)) {
    for (const v of value) writeElement(out, name, v, depth + 1, `${path}[]`);
    return;
  }
  if (value === null || value === undefined || value === "") {
    out.push(`<${name}/>`);
    return;
  }
  if (!isPlainObject(value)) {
    out.push(`<${name}>${escapeText(scalar(value, path))}</${name}>`);
    return;
  }
  const obj = value;
  let open = `<${name}`;
  if (obj.$ !== undefined) {
    if (!isPlainObject(obj.$)) throw new InfraError("bad-attributes", `$ at ${path} must be an object of attributes`);
    for (const [a, v] of Object.entries(obj.$)) {
      if (!/^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/.test(a) || a === "xmlns" || a.startsWith("xmlns:")) {
        throw new InfraError("bad-attributes", `"${a}" (at ${path}) is not a usable attribute name`);
      }
      if (v === undefined || v === null) continue;
      open += ` ${a}="${escapeAttr(scalar(v, `${path}/@${a}`))}"`;
    }
  }
  const inner: string[] = [];
  if (obj._ !== undefined && obj._ !== null) inner.push(escapeText(scalar(obj._, path)));
  for (const [k, v] of Object.entries(obj)) {
    if (k === "$" || k === "_" || v === undefined) continue;
    writeElement(inner, k, v, depth + 1, `${path}/${k}`);
  }
  out.push(inner.length ? `${open}>${inner.join("")}</${name}>` : `${open}/>`);
}

function scalar(v: unknown, path: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new InfraError("bad-value", `${path}: ${v} has no XML form`);
    return String(v);
  }
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Date) return v.toISOString();
  throw new InfraError("bad-value", `${path}: a ${typeof v} cannot be written as XML text`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Date || Buffer.isBuffer(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// Characters XML 1.0 cannot carry at all, not even escaped: refuse rather than send broken XML.
// eslint-disable-next-line no-control-regex -- matching the control characters XML 1.0 forbids is the point
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function escapeText(s: string): string {
  if (ILLEGAL.test(s)) throw new InfraError("bad-value", "text contains characters XML cannot carry (control characters)");
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\t/g, "&#9;");
}
