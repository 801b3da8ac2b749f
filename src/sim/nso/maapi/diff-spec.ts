import { parseSubtree } from "../../../nso/maapi/keypath";
import { atom, Atom, ImproperList, Term, Tuple, tuple } from "../../../nso/term/types";
import { ipTerm } from "../builders";
import { asText } from "../../../core/describe";

/**
 * Scenario diffs: what a simulated commit changed, written the way a user reads it, turned
 * into the diff items NSO 6.2.5 streams over MAAPI in name mode (docs/nso-maapi.md).
 *
 *   {"op": "created",     "path": "/devices/device{ce0}"}
 *   {"op": "value_set",   "path": "/devices/device{ce0}/address", "value": {"ip": "10.0.0.1"}}
 *   {"op": "value_set",   "path": "/devices/device{ce0}/state/admin-state",
 *                         "value": {"vtype": 28, "value": 2}, "label": "southbound-locked"}
 *   {"op": "value_set",   "path": "/devices/global-settings/connect-timeout", "value": "default"}
 *   {"op": "moved_after", "path": "/nacm:nacm/rule-list{rl1}/rule{r2}", "after": ["r3"]}  (null = first)
 *   {"op": "attr_set",    "path": "/devices/device{ce0}", "attr": 2147483648, "value": ["tag1"]}
 *   {"op": "deleted" | "modified", "path": "..."}
 *
 * Values: strings are binaries (C_BUF), integers int32, `true`/`false`, `"default"` the atom
 * NSO sends after NO_DEFAULTS, `{vtype, value}` a typed `{T, V}` (uint32 = 12, enum = 28,
 * bits = 29, identityref = 44 with `value: [nsHash, idHash]`), `{ip}` an address tuple,
 * arrays lists (tags). `label` is what XPath `string(.)` answers for the leaf.
 */
export interface DiffSpecItem {
  op: "created" | "deleted" | "modified" | "value_set" | "moved_after" | "attr_set";
  path: string;
  value?: unknown;
  after?: string[] | null;
  attr?: number;
  label?: string;
}

export interface SimDiffItem {
  /** Top-first, as parsed; the wire form is the reverse. */
  topFirst: Term[];
  op: number;
  value: Term;
  /** `string(.)` of the node (labels for enums; the text of other leaves). */
  text: string;
}

const OPS: Record<DiffSpecItem["op"], number> = { created: 1, deleted: 2, modified: 3, value_set: 4, moved_after: 5, attr_set: 6 };

export function valueTerm(v: unknown): Term {
  if (v === "default") return atom("default");
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new RangeError(`diff value ${v} is not an integer`);
    return v;
  }
  if (typeof v === "boolean") return atom(String(v));
  if (Array.isArray(v)) return v.map(valueTerm);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("ip" in o) return ipTerm(o.ip);
    if ("vtype" in o) {
      const t = Number(o.vtype);
      if (!Number.isInteger(t)) throw new RangeError("vtype must be an integer");
      const inner = Array.isArray(o.value) ? new Tuple((o.value as unknown[]).map(valueTerm)) : valueTerm(o.value);
      return tuple(t, inner);
    }
  }
  throw new RangeError(`unsupported diff value ${JSON.stringify(v)}`);
}

function defaultText(v: Term): string {
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (typeof v === "number") return String(v);
  if (v instanceof Atom) return v.name;
  const second = v instanceof Tuple && v.arity === 2 ? v.get(1) : undefined;
  if (typeof second === "number") return String(second);
  if (v instanceof Tuple && (v.arity === 4 || v.arity === 8)) return v.elements.map((x) => asText(x)).join(v.arity === 4 ? "." : ":");
  return "";
}

export function compileDiff(spec: readonly DiffSpecItem[]): SimDiffItem[] {
  return spec.map((s, i) => {
    const op = OPS[s.op];
    if (op === undefined) throw new RangeError(`diff[${i}]: unknown op ${JSON.stringify(s.op)}`);
    let topFirst: Term[];
    try {
      topFirst = parseSubtree(s.path);
    } catch (e) {
      throw new RangeError(`diff[${i}]: ${(e as Error).message}`, { cause: e });
    }
    let value: Term = atom("undefined");
    if (op === 4) value = valueTerm(s.value);
    if (op === 5) value = new Tuple((s.after ?? []).map((k) => Buffer.from(String(k), "utf8")));
    if (op === 6) value = tuple(s.attr ?? 2147483648, s.value === null ? atom("not_found") : valueTerm(s.value));
    return { topFirst, op, value, text: s.label ?? (op === 4 ? defaultText(value) : "") };
  });
}

/** The wire term `{LeafFirstKeyPath, Op, undefined, New}` of one item. */
export function itemTerm(it: SimDiffItem): Term {
  return tuple(it.topFirst.slice().reverse(), it.op, atom("undefined"), it.value);
}

/** True when `prefix` (top-first) is `path` or one of its ancestors (DIFF_IKP_ITER, ITER_CONTINUE). */
export function isUnder(path: readonly Term[], prefix: readonly Term[]): boolean {
  if (prefix.length > path.length) return false;
  for (let i = 0; i < prefix.length; i++) if (!sameElement(path[i], prefix[i])) return false;
  return true;
}

function sameElement(a: Term, b: Term): boolean {
  if (a instanceof Atom || b instanceof Atom) return a === b;
  if (a instanceof ImproperList && b instanceof ImproperList) return a.elements[0] === b.elements[0] && a.tail === b.tail;
  if (a instanceof Tuple && b instanceof Tuple) {
    return a.arity === b.arity && a.elements.every((x, i) => (Buffer.isBuffer(x) && Buffer.isBuffer(b.get(i)) ? x.equals(b.get(i) as Buffer) : x === b.get(i)));
  }
  return false;
}

/**
 * The P14 bulk commit: `entries` NACM groups, each the entry, its key leaf and two user-name
 * leaf-list values (4 items per entry, so 500 entries = 2000 items).
 */
export function bulkDiffSpec(entries: number): DiffSpecItem[] {
  const out: DiffSpecItem[] = [];
  for (let i = 1; i <= entries; i++) {
    const g = `/nacm:nacm/groups/group{bulk${i}}`;
    out.push({ op: "created", path: g }, { op: "value_set", path: `${g}/name`, value: `bulk${i}` });
    out.push({ op: "created", path: `${g}/user-name{a${i}}` }, { op: "created", path: `${g}/user-name{b${i}}` });
  }
  return out;
}

/** A rich demo commit (created device with nested leaves, enums, an identityref, a move, a delete). */
export const DEMO_DIFF: DiffSpecItem[] = [
  { op: "created", path: "/devices/device{ce0}" },
  { op: "value_set", path: "/devices/device{ce0}/name", value: "ce0" },
  { op: "value_set", path: "/devices/device{ce0}/address", value: { ip: "192.0.2.1" } },
  { op: "value_set", path: "/devices/device{ce0}/port", value: { vtype: 11, value: 830 } },
  { op: "value_set", path: "/devices/device{ce0}/authgroup", value: "g1" },
  { op: "value_set", path: "/devices/device{ce0}/state/admin-state", value: { vtype: 28, value: 2 }, label: "southbound-locked" },
  { op: "value_set", path: "/devices/device{ce0}/ssh/host-key-verification", value: { vtype: 28, value: 0 }, label: "reject-unknown" },
  { op: "value_set", path: "/devices/device{ce0}/device-type/netconf/ned-id", value: { vtype: 44, value: [1227394550, 1625535416] }, label: "ned:netconf" },
  { op: "value_set", path: "/devices/global-settings/connect-timeout", value: { vtype: 12, value: 42 } },
  { op: "value_set", path: "/devices/global-settings/trace", value: { vtype: 28, value: 1 }, label: "raw" },
  { op: "modified", path: "/nacm:nacm/rule-list{rl1}" },
  { op: "created", path: "/nacm:nacm/rule-list{rl1}/rule{r3}" },
  { op: "moved_after", path: "/nacm:nacm/rule-list{rl1}/rule{r3}", after: null },
  { op: "value_set", path: "/nacm:nacm/rule-list{rl1}/rule{r3}/name", value: "r3" },
  { op: "value_set", path: "/nacm:nacm/rule-list{rl1}/rule{r3}/tailf-acm:context", value: "*" },
  { op: "value_set", path: "/nacm:nacm/rule-list{rl1}/rule{r3}/access-operations", value: { vtype: 29, value: 2 }, label: "read" },
  { op: "moved_after", path: "/nacm:nacm/rule-list{rl1}/rule{r2}", after: ["r3"] },
  { op: "created", path: "/nacm:nacm/groups/group{ops}/user-name{alice}" },
  { op: "modified", path: "/devices/authgroups/group{g1}" },
  { op: "created", path: "/devices/authgroups/group{g1}/default-map/same-user" },
  { op: "deleted", path: "/devices/device{old-pe}" },
];
