import { InfraError } from "../core/errors";
import type { SubscriptionSpec } from "./types";

/**
 * Builds APIC query URLs by hand. APIC is picky about encoding (aci-containers: "properly
 * encoding the URI query parameters breaks APIC"; the GUI leaves `( ) , | .` raw and only
 * escapes `"`), so we never let a generic serialiser touch the query. Rules:
 *  - what the user wrote is kept, including `%XX` escapes they already made (never doubled);
 *  - only characters that cannot travel in a URL, or would change its structure, are escaped:
 *    controls, space, `"`, `#`, `<`, `>`, `'`, `` ` ``, `{`, `}`, `\`, `^`, non-ASCII, a lone
 *    `%`, and in values also `&` and `+` (which servers read as a separator / a space).
 * The result is also stable under WHATWG URL parsing (what axios does), so the bytes that
 * reach APIC are exactly these.
 */
export class QueryError extends InfraError {
  constructor(message: string) {
    super("apic-bad-query", message);
    this.name = "QueryError";
  }
}

export interface BuiltQuery {
  /** `/api/class/fvTenant.json?query-target=self`: the identity of the query (no subscription flags). */
  path: string;
  /** The same with `subscription=yes` (and `refresh-timeout`). */
  subscribePath: string;
  /** The subscription timeout the server will apply, in seconds (APIC default 60). */
  refreshTimeoutSeconds: number;
}

// What WHATWG URL parsing would escape (or, for `\` in a path, turn into `/`) is escaped by us
// first, so the bytes on the wire are the ones built here. `| ^ { }` stay raw in values, as the
// APIC GUI sends them (`order-by=x.dn|asc`, `wcard(x.name,"^a")`).
const ALWAYS = new Set([..." \"#<>'"]);
const IN_VALUE = new Set(["&", "+"]);
const IN_PATH = new Set([..."?`{}^\\"]);

function escapePart(s: string, extra: Set<string>): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = c.charCodeAt(0);
    if (c === "%") {
      out += /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3)) ? "%" : "%25";
    } else if (code < 0x21 || code === 0x7f || ALWAYS.has(c) || extra.has(c)) {
      out += `%${code.toString(16).toUpperCase().padStart(2, "0")}`;
    } else if (code > 0x7e) {
      // encodeURIComponent handles surrogate pairs as one code point.
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      // A lone surrogate has no UTF-8 form: send U+FFFD, as WHATWG URL parsing would.
      out += cp >= 0xd800 && cp <= 0xdfff ? "%EF%BF%BD" : encodeURIComponent(ch);
      i += ch.length - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** Option pairs from a query string (`a=1&b=2`, leading `?` allowed) or an object. */
export function parseOptions(options: SubscriptionSpec["options"]): Array<[string, string]> {
  if (options === undefined || options === null) return [];
  if (typeof options === "object") {
    return Object.entries(options).map(([k, v]) => [String(k).trim(), String(v)]);
  }
  if (typeof options !== "string") throw new QueryError("query options must be a string or an object");
  const s = options.trim().replace(/^\?/, "");
  if (s === "") return [];
  return s
    .split("&")
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf("=");
      return eq < 0 ? [p.trim(), ""] : [p.slice(0, eq).trim(), p.slice(eq + 1)];
    });
}

const CLASS_RE = /^(?:[A-Za-z0-9_.:\-[\]]+\/)*[A-Za-z][A-Za-z0-9]*$/;
const OPTION_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Check a spec and build its query paths; throws QueryError with a reason a user can act on. */
export function buildQuery(spec: SubscriptionSpec, defaultRefreshTimeoutSeconds?: number): BuiltQuery {
  if (!spec || (spec.kind !== "class" && spec.kind !== "dn")) throw new QueryError(`subscription kind must be "class" or "dn"`);
  const target = typeof spec.target === "string" ? spec.target.trim().replace(/^\/+/, "") : "";
  if (target === "") throw new QueryError(`subscription needs a ${spec.kind === "class" ? "class name" : "DN"}`);
  if (spec.kind === "class" && !CLASS_RE.test(target)) throw new QueryError(`"${target}" is not an APIC class name`);
  if (target.length > 2048) throw new QueryError("subscription target is longer than 2048 characters");

  let refreshTimeoutSeconds = defaultRefreshTimeoutSeconds;
  const parts: string[] = [];
  for (const [name, value] of parseOptions(spec.options)) {
    if (!OPTION_NAME_RE.test(name)) throw new QueryError(`"${name}" is not a query option name`);
    if (name === "subscription") throw new QueryError("do not set subscription=: the node subscribes by itself");
    if (name === "refresh-timeout") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new QueryError(`refresh-timeout must be a whole number of seconds, not "${value}"`);
      refreshTimeoutSeconds = n;
      continue;
    }
    parts.push(`${name}=${escapePart(value, IN_VALUE)}`);
  }
  const base = `/api/${spec.kind === "class" ? "class" : "mo"}/${escapePart(target, IN_PATH)}.json`;
  const path = parts.length ? `${base}?${parts.join("&")}` : base;
  const subParts = [...parts, "subscription=yes"];
  if (refreshTimeoutSeconds !== undefined) subParts.push(`refresh-timeout=${refreshTimeoutSeconds}`);
  return { path, subscribePath: `${base}?${subParts.join("&")}`, refreshTimeoutSeconds: refreshTimeoutSeconds ?? 60 };
}

/** A spec from loose input (a flow's msg.payload or the editor list); throws QueryError. */
export function normaliseSpec(v: unknown): SubscriptionSpec {
  if (typeof v !== "object" || v === null) throw new QueryError('a subscription is {kind: "class"|"dn", target, options}');
  const o = v as Record<string, unknown>;
  const kind = o.kind;
  if (kind !== "class" && kind !== "dn") throw new QueryError(`subscription kind must be "class" or "dn", not ${JSON.stringify(kind)}`);
  if (typeof o.target !== "string") throw new QueryError("subscription target must be a string");
  const options = o.options;
  if (options !== undefined && options !== null && typeof options !== "string" && typeof options !== "object") {
    throw new QueryError("subscription options must be a query string or an object");
  }
  const spec: SubscriptionSpec = { kind, target: o.target };
  if (options !== undefined && options !== null && options !== "") spec.options = options as SubscriptionSpec["options"];
  return spec;
}
