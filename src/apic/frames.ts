import { ProtocolError } from "../core/errors";
import type { ChangeStatus } from "./types";

/** One MO from `imdata`: `{<class>: {attributes: {...}}}`. */
export interface MoChange {
  class: string;
  dn: string;
  status: ChangeStatus | "";
  attributes: Record<string, string>;
  /** The subtree a query with `rsp-subtree` returns with the object, as APIC sent it. */
  children?: unknown[];
}

export interface DecodedFrame {
  ids: string[];
  changes: MoChange[];
  /** Reasons for items that were skipped (counted by the caller; the rest of the frame is used). */
  skipped: string[];
}

const ID_RE = /^[0-9]{1,40}$/;

/** Subscription ids: a list in notifications, a scalar string in some captures; always strings. */
export function readIds(v: unknown): string[] | undefined {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? undefined : [v];
  if (!list) return undefined;
  const out: string[] = [];
  for (const x of list) {
    // A JSON number beyond 2^53 has already lost digits: an id we cannot trust is no id.
    if (typeof x === "number" && Number.isSafeInteger(x) && x >= 0) out.push(String(x));
    else if (typeof x === "string" && ID_RE.test(x.trim())) out.push(x.trim());
  }
  return out;
}

/** One imdata item as a change, or the reason it is unusable. */
export function readMo(item: unknown, allowEmptyStatus: boolean): MoChange | string {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "item-not-object";
  const keys = Object.keys(item);
  if (keys.length !== 1) return "item-not-one-class";
  const cls = keys[0];
  const body = (item as Record<string, unknown>)[cls] as { attributes?: unknown } | null;
  if (typeof body !== "object" || body === null || typeof body.attributes !== "object" || body.attributes === null || Array.isArray(body.attributes)) {
    return "item-without-attributes";
  }
  // Hot path: APIC sends only strings, so the parsed object is used as is; anything else is
  // normalised into a copy (numbers/booleans as strings, nested values dropped).
  const raw = body.attributes as Record<string, unknown>;
  let attributes = raw as Record<string, string>;
  for (const k in raw) {
    if (typeof raw[k] !== "string") {
      attributes = {};
      for (const [key, v] of Object.entries(raw)) {
        if (typeof v === "string") setOwn(attributes, key, v);
        else if (typeof v === "number" || typeof v === "boolean") setOwn(attributes, key, String(v));
      }
      break;
    }
  }
  const dn = attributes.dn;
  if (typeof dn !== "string" || dn === "") return "item-without-dn";
  const status = attributes.status ?? "";
  let mo: MoChange;
  if (status === "created" || status === "modified" || status === "deleted") mo = { class: cls, dn, status, attributes };
  else if (status === "" && allowEmptyStatus) mo = { class: cls, dn, status: "", attributes };
  else return "unknown-status";
  // Parsed JSON, so plain data: kept as it came (a query with rsp-subtree asked for it).
  const children = (body as { children?: unknown }).children;
  if (Array.isArray(children) && children.length > 0) mo.children = children;
  return mo;
}

/**
 * Attribute names are data: JSON.parse keeps a `"__proto__"` key as an own property, and so
 * must the copy (a plain assignment would try to set the prototype and lose the attribute).
 */
function setOwn(obj: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * Decode one notification frame. Throws ProtocolError when the frame as a whole is unusable
 * (not JSON, XML, no ids, no imdata); items that are individually broken are skipped and
 * listed in `skipped`, the good ones are kept.
 */
export function decodeFrame(data: string): DecodedFrame {
  const head = data.trimStart();
  if (head.startsWith("<")) throw new ProtocolError("apic-xml-frame", "XML notification frame (only JSON subscriptions are supported)");
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch (e) {
    throw new ProtocolError("apic-bad-json", `notification frame is not JSON: ${(e as Error).message}`, { sample: data.slice(0, 80) });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ProtocolError("apic-bad-frame", "notification frame is not a JSON object");
  const o = body as Record<string, unknown>;
  const ids = readIds(o.subscriptionId);
  if (!ids || ids.length === 0) throw new ProtocolError("apic-no-subscription-id", "notification frame has no usable subscriptionId");
  if (!Array.isArray(o.imdata)) throw new ProtocolError("apic-no-imdata", "notification frame has no imdata array");
  const changes: MoChange[] = [];
  const skipped: string[] = [];
  for (const item of o.imdata) {
    const c = readMo(item, false);
    if (typeof c === "string") skipped.push(c);
    else changes.push(c);
  }
  return { ids, changes, skipped };
}
