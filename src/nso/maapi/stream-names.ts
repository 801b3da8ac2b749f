import type { JsonValue } from "../term/json";
import type { TagValue } from "../notifications/values";
import type { HashDb } from "./hash-db";

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

/** Adds `name`/`nsUri` from the hash DB; unknown hashes keep their number as the name. */
export function nameTagValues(values: readonly TagValue[], db?: HashDb): NamedTagValue[] {
  return values.map((v) => {
    const name = typeof v.tag === "string" ? v.tag : (db?.name(v.tag) ?? String(v.tag));
    const nsUri = typeof v.ns === "string" ? v.ns : v.ns === 0 ? "" : (db?.name(v.ns) ?? "");
    return { ...v, name, nsUri };
  });
}

/** An unknown hash as a name would not be an XML name; `_42` is. */
const xmlName = (n: string): string => (/^[A-Za-z_][\w.-]*$/.test(n) ? n : "_" + n.replace(/[^\w.-]/g, "_"));
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function text(v: JsonValue): string {
  if (v === null) return "";
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) return v.map(text).join(" ");
  const o = v as Record<string, JsonValue>;
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
    else out.push(`${open(v, false)}${esc(text(v.value))}</${xmlName(v.name)}>`);
  }
  while (stack.length) out.push(`</${stack.pop()!.name}>`);
  return out.join("");
}
