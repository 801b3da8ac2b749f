import type { JsonValue } from "../term/json";
import type { TagValue } from "../notifications/values";
import type { HashDb } from "./hash-db";
import { prefixOf } from "./keypath";
import type { SchemaStep, YangSchema } from "./yang-schema";
import { asText } from "../../core/describe";

/**
 * Names for the tagged values of a stream event (`msg.payload.values`, notifications/values.ts)
 * and the notification rendered back to XML, the form NETCONF subscribers know.
 */
export interface NamedTagValue extends TagValue {
  /** The YANG node name (the tag itself when it already is a name, UseIKP = 1). */
  name: string;
  /** The namespace URI, when known ("" for an element with no namespace). */
  nsUri: string;
}

type Obj = Record<string, JsonValue>;
const isObj = (v: JsonValue): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** Whether a value's text needs the full schema (labels, key names, module prefixes). */
export function needsSchema(v: TagValue): boolean {
  const t = isObj(v.value) ? v.value.type : undefined;
  return t === "C_ENUM_VALUE" || t === "C_OBJECTREF" || t === "C_IDENTITYREF";
}

/**
 * Adds `name`/`nsUri` from the hash DB (unknown hashes keep their number as the name), and
 * gives values the text NSO's own XML has for them: an enumeration gains `label` (from the
 * schema), an identityref `label` (`prefix:name`) and an instance-identifier `path`
 * (`/ncs:devices/ncs:device[ncs:name='d1']`), both with the `xmlns` prefix declarations the
 * text needs. Without the schema, prefixes fall back to the well-known ones and list keys are
 * shown in braces (`/ncs:devices/ncs:device{d1}`): key names are only in the schema.
 */
export function nameTagValues(values: readonly TagValue[], db?: HashDb, schema?: YangSchema): NamedTagValue[] {
  const stack: SchemaStep[] = [];
  return values.map((v) => {
    const name = typeof v.tag === "string" ? v.tag : (db?.name(v.tag) ?? String(v.tag));
    const nsUri = typeof v.ns === "string" ? v.ns : v.ns === 0 ? "" : (db?.name(v.ns) ?? "");
    const step = { uri: nsUri || (stack.length ? stack[stack.length - 1].uri : ""), name };
    const type = isObj(v.value) ? v.value.type : undefined;
    if (type === "C_XMLBEGIN") stack.push(step);
    else if (type === "C_XMLEND") stack.pop();
    const value = isObj(v.value) ? valueText(v.value, [...stack, step], db, schema) : v.value;
    return { ...v, value, name, nsUri };
  });
}

function valueText(v: Obj, path: SchemaStep[], db: HashDb | undefined, schema: YangSchema | undefined): Obj {
  if (v.type === "C_ENUM_VALUE" && typeof v.value === "number") {
    const label = schema?.enumLabel(path, v.value);
    return label === undefined ? v : { ...v, label };
  }
  if (v.type === "C_IDENTITYREF" && isObj(v.value)) {
    const uri = nameOfHash(v.value.ns, db);
    const id = nameOfHash(v.value.id, db);
    if (uri === undefined || id === undefined) return v;
    const ns = new Prefixes(schema);
    return { ...v, label: `${ns.of(uri)}:${id}`, xmlns: ns.declared };
  }
  if (v.type === "C_OBJECTREF" && Array.isArray(v.value)) {
    const ns = new Prefixes(schema);
    const path = instancePath(v.value, db, schema, ns);
    return path === undefined ? v : { ...v, path, xmlns: ns.declared };
  }
  return v;
}

const nameOfHash = (t: JsonValue | undefined, db: HashDb | undefined): string | undefined =>
  typeof t === "string" ? t : typeof t === "number" ? db?.name(t) : undefined;

/** The prefixes one value uses, each bound to one URI (a derived prefix never clashes). */
class Prefixes {
  readonly declared: Record<string, string> = {};
  private readonly byUri = new Map<string, string>();
  constructor(private readonly schema: YangSchema | undefined) {}
  of(uri: string): string {
    let p = this.byUri.get(uri);
    if (p !== undefined) return p;
    const base = this.schema?.prefix(uri) ?? prefixOf(uri);
    p = base;
    for (let i = 2; p in this.declared; i++) p = `${base}${i}`;
    this.byUri.set(uri, p);
    this.declared[p] = uri;
    return p;
  }
}

/**
 * An instance-identifier as NSO writes it in XML: every step prefixed, list keys as
 * `[prefix:key='value']` predicates. The decoded keypath is leaf-first (values.ts); steps
 * without a namespace inherit the one before them. Undefined for a keypath of no known shape.
 */
function instancePath(kp: JsonValue[], db: HashDb | undefined, schema: YangSchema | undefined, ns: Prefixes): string | undefined {
  const steps: SchemaStep[] = [];
  let out = "";
  let uri = "";
  for (let i = kp.length - 1; i >= 0; i--) {
    const e = kp[i];
    if (!isObj(e)) return undefined;
    if (Array.isArray(e.keys)) {
      const keys = e.keys.map(keyValueText);
      const names = schema?.keysOf(steps);
      if (steps.length === 0) return undefined;
      if (names && names.length === keys.length) {
        const p = ns.of(steps[steps.length - 1].uri);
        out += names.map((k, j) => `[${p}:${k}=${xpathLiteral(keys[j])}]`).join("");
      } else out += `{${keys.map((k) => (k === "" || /[\s{}"]/.test(k) ? JSON.stringify(k) : k)).join(" ")}}`;
      continue;
    }
    // A hash the table does not know stays a number: visible, never silently dropped.
    if (e.ns !== undefined) uri = nameOfHash(e.ns, db) ?? "";
    const name = nameOfHash(e.tag, db) ?? asText(e.tag);
    steps.push({ uri, name });
    out += `/${uri ? ns.of(uri) + ":" : ""}${name}`;
  }
  return out || undefined;
}

function keyValueText(k: JsonValue): string {
  if (k === null) return "";
  if (typeof k !== "object") return String(k);
  if (isObj(k)) return "label" in k ? keyValueText(k.label) : "value" in k ? keyValueText(k.value) : "";
  return k.map(keyValueText).join(" ");
}

/** An XPath string literal: single quotes, double when the value has one, concat() for both. */
function xpathLiteral(s: string): string {
  if (!s.includes("'")) return `'${s}'`;
  if (!s.includes('"')) return `"${s}"`;
  return `concat(${s
    .split("'")
    .map((part) => `'${part}'`)
    .join(`, "'", `)})`;
}

/** An unknown hash as a name would not be an XML name; `_42` is. */
const xmlName = (n: string): string => (/^[A-Za-z_][\w.-]*$/.test(n) ? n : "_" + n.replace(/[^\w.-]/g, "_"));
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function text(v: JsonValue): string {
  if (v === null) return "";
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) return v.map(text).join(" ");
  const o = v as Record<string, JsonValue>;
  if ("path" in o) return text(o.path);
  if ("label" in o) return text(o.label);
  if ("value" in o) return text(o.value);
  return "";
}

/**
 * `<netconf-config-change xmlns="…"><changed-by>…</changed-by>…</netconf-config-change>`:
 * C_XMLBEGIN/C_XMLEND open and close an element, C_XMLTAG is an empty leaf, C_XMLBEGINDEL an
 * element carrying `nc:operation="delete"`-style meaning (rendered as an empty element with
 * `operation="delete"`), anything else a leaf with its value as text. `xmlns` is written where
 * the namespace changes. Unbalanced input (a stop without a start) never throws: the XML is
 * for people, the values array stays the faithful form.
 */
export function renderNotificationXml(values: readonly NamedTagValue[]): string {
  const out: string[] = [];
  const stack: Array<{ name: string; ns: string }> = [];
  const nsNow = (): string => (stack.length ? stack[stack.length - 1].ns : "");
  const open = (v: NamedTagValue, close: boolean, attrs = ""): string => {
    const xmlns = v.nsUri && v.nsUri !== nsNow() ? ` xmlns="${esc(v.nsUri)}"` : "";
    return `<${xmlName(v.name)}${xmlns}${attrs}${close ? "/>" : ">"}`;
  };
  for (const v of values) {
    const type = v.value && typeof v.value === "object" && !Array.isArray(v.value) ? (v.value as Record<string, JsonValue>).type : undefined;
    if (type === "C_XMLBEGIN") {
      out.push(open(v, false));
      stack.push({ name: xmlName(v.name), ns: v.nsUri || nsNow() });
    } else if (type === "C_XMLEND") {
      const top = stack.pop();
      out.push(`</${top ? top.name : xmlName(v.name)}>`);
    } else if (type === "C_XMLTAG" || type === "C_NOEXISTS") out.push(open(v, true));
    else if (type === "C_XMLBEGINDEL") out.push(open(v, true, ' operation="delete"'));
    else {
      // An identityref or instance-identifier declares the prefixes its text uses.
      const decl = v.value && typeof v.value === "object" && !Array.isArray(v.value) ? (v.value as Record<string, JsonValue>).xmlns : undefined;
      const attrs =
        decl && typeof decl === "object" && !Array.isArray(decl)
          ? Object.entries(decl)
              .map(([p, u]) => ` xmlns:${xmlName(p)}="${esc(asText(u))}"`)
              .join("")
          : "";
      out.push(`${open(v, false, attrs)}${esc(text(v.value))}</${xmlName(v.name)}>`);
    }
  }
  while (stack.length) out.push(`</${stack.pop()!.name}>`);
  return out.join("");
}
