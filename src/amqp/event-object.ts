import { Element, Node } from "slimdom";

/**
 * A Clacks event as a plain object, so flows can read `msg.payload.Status` without XML:
 * - an element with only text becomes that string (XML has no types; the schema does);
 * - child elements become properties by local name; repeated ones become arrays;
 * - attributes are kept under `$` (by qualified name), and text next to elements or
 *   attributes under `_`, the convention xml2js users know;
 * - an empty element becomes "" (or `{}` for the event itself, e.g. `<ClientPoll/>`).
 */
export type EventValue = string | EventObject | EventValue[];
export interface EventObject {
  [key: string]: EventValue | Record<string, string> | undefined;
  $?: Record<string, string>;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

export function elementToValue(el: Element): EventValue {
  const attrs = attributesOf(el);
  const children: Element[] = [];
  let text = "";
  for (let n: Node | null = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) children.push(n as Element);
    else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) text += (n as unknown as { data: string }).data;
  }
  if (children.length === 0 && !attrs) return text;
  const obj: EventObject = {};
  if (attrs) obj.$ = attrs;
  // Whitespace between child elements is indentation, not content.
  const trimmed = children.length ? text.trim() : text;
  if (trimmed) obj._ = trimmed;
  for (const c of children) addChild(obj, c.localName, elementToValue(c));
  return obj;
}

/** The event element as the message payload: always an object, even for an empty event. */
export function eventToObject(el: Element): EventObject {
  const v = elementToValue(el);
  if (typeof v === "string") return v.trim() ? { _: v } : {};
  return v as EventObject;
}

/**
 * Adds a repeated-or-not child by name. Names are data: `constructor` or `toString` must not
 * find Object.prototype's functions as an "earlier" child, and `__proto__` must become a key,
 * not a new prototype (both were wrong before).
 */
export function addChild(obj: EventObject, key: string, value: EventValue): void {
  // `$`/`_` cannot be element names, so they never collide with children; and an element's
  // own value is never an array, so an existing array can only be a repeated element.
  const prev = hasOwn(obj, key) ? (obj[key] as EventValue) : undefined;
  if (prev === undefined) setOwn(obj, key, value);
  else if (Array.isArray(prev)) prev.push(value);
  else setOwn(obj, key, [prev, value]);
}

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

/** `obj[key] = value` as an own data property, for any key (a plain `__proto__` assignment would set the prototype). */
export function setOwn(obj: object, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else (obj as Record<string, unknown>)[key] = value;
}

function attributesOf(el: Element): Record<string, string> | undefined {
  const list = el.attributes;
  let out: Record<string, string> | undefined;
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    // Namespace declarations are syntax, not data.
    if (a.name === "xmlns" || a.prefix === "xmlns") continue;
    setOwn((out ??= {}), a.name, a.value);
  }
  return out;
}
