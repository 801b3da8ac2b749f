import { ProtocolError } from "../../core/errors";
import { Atom, ErlFloat, ImproperList, Term, Tuple } from "../term/types";

/**
 * Keypaths of a name-mode diff (docs/nso-maapi.md): a list with the leaf first
 * and the top node last; `[Uri|Tag]` where the namespace changes (always at the top), a bare
 * atom for other nodes, a tuple of key values after a list (or leaf-list) tag.
 *
 * Rendered top-first as `/devices/device{ce0}/address`: the top node bare, a `prefix:` where an
 * augment changes the namespace, keys in braces the way the NSO CLI and libconfd print them.
 */
export type Ikp = Term[];

/** Prefixes of namespaces every NSO has; anything else gets the last word of its URI. */
export const WELL_KNOWN_PREFIXES: Readonly<Record<string, string>> = {
  "http://tail-f.com/ns/ncs": "ncs",
  "http://tail-f.com/ns/ncs-ned": "ned",
  "urn:ietf:params:xml:ns:yang:ietf-netconf-acm": "nacm",
  "http://tail-f.com/yang/acm": "tailf-acm",
  "http://tail-f.com/ns/aaa/1.1": "aaa",
  "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications": "ncn",
};

/** Namespaces of well-known top-level nodes, so `/nacm/...` reads back without a prefix. */
export const WELL_KNOWN_TOP_NODES: Readonly<Record<string, string>> = {
  nacm: "urn:ietf:params:xml:ns:yang:ietf-netconf-acm",
  aaa: "http://tail-f.com/ns/aaa/1.1",
};

export function prefixOf(uri: string, extra?: ReadonlyMap<string, string>): string {
  const known = extra?.get(uri) ?? WELL_KNOWN_PREFIXES[uri];
  if (known) return known;
  const m = /[:/]([^:/]+)\/?$/.exec(uri);
  return m ? m[1] : uri;
}

function bad(message: string): never {
  throw new ProtocolError("maapi-bad-keypath", message);
}

/** Validates a leaf-first name-mode keypath and returns it top-first (for XPath and DIFF_IKP_ITER). */
export function topFirst(ikp: Term): Ikp {
  if (!Array.isArray(ikp) || ikp.length === 0) bad("keypath is not a non-empty list");
  return ikp.slice().reverse();
}

/**
 * `/devices/device{dev1}/port` from a leaf-first keypath. Throws ProtocolError on elements
 * that are none of the three forms, so a hostile path is a counted drop, never a bad string.
 */
export function renderKeypath(ikp: Term, prefixes?: ReadonlyMap<string, string>): string {
  const path = topFirst(ikp);
  let out = "";
  let ns: string | undefined;
  for (let i = 0; i < path.length; i++) {
    const e = path[i];
    if (e instanceof Tuple) {
      if (i === 0) bad("keypath starts with a key");
      out += "{" + e.elements.map(keyText).join(" ") + "}";
      continue;
    }
    if (e instanceof ImproperList && e.elements.length === 1) {
      const [uri, tag] = [e.elements[0], e.tail];
      if (!(uri instanceof Atom) || !(tag instanceof Atom)) bad("namespace element is not [Uri|Tag] of atoms (hash-mode keypath?)");
      const u = uri.name;
      // The top node stays bare (as NSO prints it); an augment in the middle gets its prefix.
      out += "/" + (i === 0 || u === ns ? "" : prefixOf(u, prefixes) + ":") + tag.name;
      ns = u;
      continue;
    }
    if (e instanceof Atom) {
      if (i === 0) bad("keypath top node has no namespace");
      out += "/" + e.name;
      continue;
    }
    bad(`keypath element ${i} is neither a tag, a [Uri|Tag] nor a key tuple`);
  }
  return out;
}

/** A key value as text: binaries as UTF-8, numbers, IP tuples, typed `{T, V}` by their value. */
export function keyText(k: Term): string {
  let s: string;
  if (Buffer.isBuffer(k)) s = k.toString("utf8");
  else if (typeof k === "number" || typeof k === "bigint") s = String(k);
  else if (k instanceof Atom) s = k.name;
  else if (k instanceof ErlFloat) s = String(k.value);
  else if (k instanceof Tuple && (k.arity === 4 || k.arity === 8) && k.elements.every((x) => typeof x === "number")) {
    s = k.arity === 4 ? k.elements.join(".") : k.elements.map((x) => x.toString(16)).join(":");
  } else if (k instanceof Tuple && k.arity === 2 && typeof k.get(0) === "number") s = keyText(k.get(1));
  else bad("key value of an unexpected kind");
  // Quote like the CLI does when a key would not read back as one word.
  return s === "" || /[\s{}"\\]/.test(s) ? JSON.stringify(s) : s;
}

/**
 * The schema path of a keypath (keys dropped), as a cache key: every list entry of the same
 * node shares the enum labels of its leaves.
 */
export function schemaKey(ikp: Term): string {
  const path = topFirst(ikp);
  const parts: string[] = [];
  for (const e of path) {
    if (e instanceof Tuple) continue;
    if (e instanceof ImproperList && e.elements[0] instanceof Atom && e.tail instanceof Atom) parts.push(`{${e.elements[0].name}}${e.tail.name}`);
    else if (e instanceof Atom) parts.push(e.name);
    else bad("keypath element of an unexpected kind");
  }
  return parts.join("/");
}

/**
 * A subtree filter typed by a user, as a top-first name keypath for DIFF_IKP_ITER (§4.2):
 * `/devices/device`, `/ncs:devices/device{ce0}`, `/{urn:…}nacm`. The top node needs its
 * namespace: a prefix from `prefixes`/the well-known table, or `{uri}`; without either, a
 * well-known top node (`/nacm`, `/aaa`) gets its own, anything else the NSO namespace (the top
 * node of most user filters is `/devices` or `/services`).
 */
export function parseSubtree(text: string, prefixes?: ReadonlyMap<string, string>): Ikp {
  const s = text.trim();
  if (!s.startsWith("/") || s.length < 2) throw new RangeError(`subtree filter must be an absolute path like /devices/device, got ${JSON.stringify(text)}`);
  const byPrefix = new Map<string, string>();
  for (const [uri, p] of Object.entries(WELL_KNOWN_PREFIXES)) byPrefix.set(p, uri);
  for (const [uri, p] of prefixes ?? []) byPrefix.set(p, uri);
  const out: Ikp = [];
  let i = 1;
  let first = true;
  while (i <= s.length) {
    let uri: string | undefined;
    if (s[i] === "{") {
      const end = s.indexOf("}", i);
      if (end < 0) throw new RangeError(`unterminated {namespace} in ${JSON.stringify(text)}`);
      uri = s.slice(i + 1, end);
      i = end + 1;
    }
    const m = /^([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(s.slice(i));
    if (!m) throw new RangeError(`bad node name at ${i} in ${JSON.stringify(text)}`);
    i += m[0].length;
    if (m[1]) {
      const p = m[1].slice(0, -1);
      uri = byPrefix.get(p);
      if (!uri) throw new RangeError(`unknown prefix ${JSON.stringify(p)} in ${JSON.stringify(text)}`);
    }
    if (first && !uri) uri = WELL_KNOWN_TOP_NODES[m[2]] ?? "http://tail-f.com/ns/ncs";
    out.push(uri ? new ImproperList([Atom.of(uri)], Atom.of(m[2])) : Atom.of(m[2]));
    first = false;
    if (s[i] === "{") {
      const end = s.indexOf("}", i);
      if (end < 0) throw new RangeError(`unterminated {keys} in ${JSON.stringify(text)}`);
      const keys = s
        .slice(i + 1, end)
        .trim()
        .split(/\s+/)
        .filter((k) => k !== "");
      if (keys.length === 0) throw new RangeError(`empty {keys} in ${JSON.stringify(text)}`);
      out.push(new Tuple(keys.map((k) => Buffer.from(k, "utf8"))));
      i = end + 1;
    }
    if (i >= s.length) break;
    if (s[i] !== "/") throw new RangeError(`expected '/' at ${i} in ${JSON.stringify(text)}`);
    i++;
  }
  return out;
}
