import { ProtocolError } from "../../core/errors";
import { Atom, ImproperList, isAtom, Term, Tuple } from "../term/types";

/**
 * What NSO's own XML needs beyond the hash table (docs/nso-maapi.md, LOAD_ALL_NS in its `ikp`
 * name form): the prefix of each namespace, the key names of each list, and the labels of each
 * enumeration leaf. The full schema is large (~1 MB on a bare NSO 6.2.5, more with NEDs), so
 * the reader keeps only these three things.
 *
 * A schema path is top-first, one `{uri}name` per step, with the namespace of every step
 * spelled out (a bare step inherits its parent's), so the stream renderer can look up the
 * element it is in without knowing where augments start.
 */
export interface SchemaStep {
  uri: string;
  name: string;
}

export const schemaPathKey = (steps: readonly SchemaStep[]): string => steps.map((s) => `{${s.uri}}${s.name}`).join("/");

/** A type: its own enumeration labels, or the type it restricts (labels are inherited). */
interface TypeInfo {
  labels?: Map<number, string>;
  base?: string;
}

export class YangSchema {
  readonly prefixes = new Map<string, string>();
  /** Schema path -> key leaf names, for lists. */
  readonly listKeys = new Map<string, string[]>();
  /** Schema path -> type key (`{uri}name`), for enumeration leaves. */
  readonly enumLeaves = new Map<string, string>();
  readonly types = new Map<string, TypeInfo>();

  prefix(uri: string): string | undefined {
    return this.prefixes.get(uri);
  }

  keysOf(path: readonly SchemaStep[]): string[] | undefined {
    return this.listKeys.get(schemaPathKey(path));
  }

  /** The label of enum value `n` of the leaf at `path`, following typedef chains. */
  enumLabel(path: readonly SchemaStep[], n: number): string | undefined {
    let key = this.enumLeaves.get(schemaPathKey(path));
    // A typedef chain is short; the bound only guards against a cycle in hostile input.
    for (let hops = 0; key !== undefined && hops < 16; hops++) {
      const t = this.types.get(key);
      if (!t) return undefined;
      if (t.labels) return t.labels.get(n);
      key = t.base;
    }
    return undefined;
  }
}

/** C type number of an enumeration leaf (`confd_vtype` C_ENUM_VALUE). */
const PRIMITIVE_ENUM = 28;

const bad = (message: string): never => {
  throw new ProtocolError("maapi-schema-item", message);
};

const nameOf = (t: Term): string | undefined => (t instanceof Atom ? t.name : undefined);

/**
 * Collects the LOAD_ALL_NS stream: frames holding lists of items (or one bare item), `{ns, …}`
 * starting a namespace, `node` and `type` records, `end_of_ns`, and `eof` at the end. Record
 * kinds we do not use are skipped; an item of a kind we do use but with a shape we cannot read
 * is a ProtocolError (the caller renders without the schema and says so).
 */
export class YangSchemaReader {
  readonly schema = new YangSchema();
  done = false;
  private ns: string | undefined;

  /** Feeds one frame's term; true once `eof` was seen. */
  add(frame: Term): boolean {
    const items = Array.isArray(frame) ? frame : [frame];
    for (const it of items) {
      if (this.done) bad("LOAD_ALL_NS sent items after eof");
      if (isAtom(it, "eof")) this.done = true;
      else if (isAtom(it, "end_of_ns")) this.ns = undefined;
      else if (it instanceof Tuple && isAtom(it.get(0), "ns")) this.namespace(it);
      else if (it instanceof Tuple && isAtom(it.get(0), "node")) this.node(it);
      else if (it instanceof Tuple && isAtom(it.get(0), "type")) this.type(it);
    }
    return this.done;
  }

  /** `{ns, UriAtom, PrefixAtom, NsHash, Revision, Module}`. */
  private namespace(t: Tuple): void {
    const uri = nameOf(t.get(1));
    const prefix = nameOf(t.get(2));
    if (t.arity < 3 || uri === undefined || prefix === undefined) bad("LOAD_ALL_NS ns header is not {ns, Uri, Prefix, …}");
    this.ns = uri;
    this.schema.prefixes.set(uri!, prefix!);
  }

  /** `{node, Tagpath, TypeRef, PrimitiveType, Default, Min, Max, Children, Keys, Flags, …}`. */
  private node(t: Tuple): void {
    if (t.arity < 10 || !Array.isArray(t.get(1))) bad("LOAD_ALL_NS node record is not {node, Tagpath, …}");
    const ns = this.ns ?? bad("LOAD_ALL_NS node record outside a namespace");
    const tagpath = t.get(1) as Term[];
    if (tagpath.length === 0) return; // the namespace's root
    const steps: SchemaStep[] = [];
    let uri = ns;
    for (let i = tagpath.length - 1; i >= 0; i--) {
      const e = tagpath[i];
      if (e instanceof ImproperList && e.elements.length === 1 && e.elements[0] instanceof Atom && e.tail instanceof Atom) {
        uri = e.elements[0].name;
        steps.push({ uri, name: e.tail.name });
      } else if (e instanceof Atom) steps.push({ uri, name: e.name });
      else bad("LOAD_ALL_NS tagpath element is neither a tag nor [Ns|Tag]");
    }
    const key = schemaPathKey(steps);
    const keys = t.get(8);
    if (Array.isArray(keys) && keys.length > 0) {
      this.schema.listKeys.set(
        key,
        keys.map((k) => nameOf(k) ?? (k instanceof ImproperList ? nameOf(k.tail) : undefined) ?? bad("LOAD_ALL_NS list key is not a name")),
      );
    }
    if (t.get(3) === PRIMITIVE_ENUM) {
      const ref = this.typeKey(t.get(2));
      if (ref !== undefined) this.schema.enumLeaves.set(key, ref);
    }
  }

  /** `{type, Name, derived, {restriction, Base, Facets}}`; other derivations carry no labels. */
  private type(t: Tuple): void {
    const name = nameOf(t.get(1));
    const ns = this.ns;
    if (name === undefined || ns === undefined || t.arity < 4) return;
    const d = t.get(3);
    if (!(d instanceof Tuple) || !isAtom(d.get(0), "restriction") || d.arity !== 3) return;
    const info: TypeInfo = {};
    const facets = d.get(2);
    for (const f of Array.isArray(facets) ? facets : []) {
      if (!(f instanceof Tuple) || !isAtom(f.get(0), "enumeration")) continue;
      const label = f.get(1);
      const value = f.get(2);
      if (!Buffer.isBuffer(label) || typeof value !== "number") bad("LOAD_ALL_NS enumeration facet is not {enumeration, Label, Int}");
      (info.labels ??= new Map()).set(value, (label as Buffer).toString("utf8"));
    }
    if (!info.labels) info.base = this.typeKey(d.get(1));
    this.schema.types.set(`{${ns}}${name}`, info);
  }

  /** TypeRef: an atom (a type of this namespace), `{UriAtom, Name}`; `{'', builtin}` is none. */
  private typeKey(ref: Term): string | undefined {
    if (ref instanceof Atom) return ref.name === "undefined" || this.ns === undefined ? undefined : `{${this.ns}}${ref.name}`;
    if (ref instanceof Tuple && ref.arity === 2) {
      const uri = nameOf(ref.get(0));
      const name = nameOf(ref.get(1));
      if (uri && name) return `{${uri}}${name}`;
    }
    return undefined;
  }
}
