import { atom, ImproperList, Term, tuple } from "../../../nso/term/types";

/**
 * What the simulator's LOAD_ALL_NS (`ikp` name form, docs/nso-maapi.md) streams: the same
 * record layouts as NSO 6.2.5, for the part of the schema the simulator's events and demo
 * commit use: namespace headers with their module prefixes, the lists with their keys, and
 * the enumeration leaves with their types (values as in the YANG modules).
 */
const NC = "urn:ietf:params:xml:ns:netconf:base:1.0";
const NCN = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications";
const NCS = "http://tail-f.com/ns/ncs";
const NACM = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";

const U = atom("undefined");
const bin = (s: string): Buffer => Buffer.from(s, "utf8");
const ns = (uri: string, prefix: string, hash: number, rev: string, mod: string): Term => tuple(atom("ns"), atom(uri), atom(prefix), hash, bin(rev), bin(mod));

/** A tagpath step: a name, or `[Uri|Name]` where an augment changes the namespace. */
type Step = string | [string, string];
const tagpath = (topFirst: Step[]): Term[] => topFirst.map((s) => (typeof s === "string" ? atom(s) : new ImproperList([atom(s[0])], atom(s[1])))).reverse();

/** `{node, Tagpath, TypeRef, Primitive, Default, Min, Max, Children, Keys, Flags, Actions, Cmp, Notifs, MetaData, MountId}`. */
function node(path: Step[], o: { typeRef?: Term; primitive?: number; keys?: string[]; flags?: number } = {}): Term {
  const keys = (o.keys ?? []).map((k) => atom(k));
  return tuple(
    atom("node"),
    tagpath(path),
    o.typeRef ?? U,
    o.primitive ?? 2,
    U,
    0,
    keys.length ? atom("unbounded") : 1,
    [],
    keys,
    o.flags ?? (keys.length ? 1 : 0),
    [],
    0,
    [],
    [],
    U,
  );
}

/** `{type, Name, derived, {restriction, Base, [{enumeration, Label, Int}]}}`. */
function enumType(name: string, labels: string[][]): Term {
  const facets = labels.map(([label, v]) => tuple(atom("enumeration"), bin(label), Number(v)));
  return tuple(atom("type"), atom(name), atom("derived"), tuple(atom("restriction"), tuple(atom(""), atom("string")), facets));
}

const ENUM = 28;

export const SIM_SCHEMA_ITEMS: readonly Term[] = [
  ns(NC, "nc", 1109124855, "2011-06-01", "ietf-netconf"),
  enumType("edit-operation-type", [
    ["merge", "0"],
    ["replace", "1"],
    ["create", "2"],
    ["delete", "3"],
    ["remove", "4"],
  ]),
  atom("end_of_ns"),
  ns(NCN, "ncn", 1244620176, "2012-02-06", "ietf-netconf-notifications"),
  node(["netconf-config-change"], { flags: 256 }),
  node(["netconf-config-change", "datastore"], { typeRef: atom("t2150244354"), primitive: ENUM }),
  node(["netconf-config-change", "edit"], { flags: 1 }),
  node(["netconf-config-change", "edit", "operation"], { typeRef: tuple(atom(NC), atom("edit-operation-type")), primitive: ENUM }),
  enumType("t2150244354", [
    ["running", "0"],
    ["startup", "1"],
  ]),
  atom("end_of_ns"),
  ns(NCS, "ncs", 469622343, "2024-04-09", "tailf-ncs"),
  node(["devices"], { flags: 256 }),
  node(["devices", "device"], { keys: ["name"] }),
  node(["devices", "device", "state", "admin-state"], { typeRef: atom("admin-state"), primitive: ENUM }),
  node(["devices", "authgroups", "group"], { keys: ["name"] }),
  node(["devices", "global-settings", "trace"], { typeRef: atom("trace-flag"), primitive: ENUM }),
  enumType("admin-state", [
    ["locked", "0"],
    ["unlocked", "1"],
    ["southbound-locked", "2"],
  ]),
  // As a real NSO 6.2.5 sent it (docs/nso-maapi.md).
  enumType("trace-flag", [
    ["pretty", "2"],
    ["raw", "1"],
    ["false", "0"],
  ]),
  atom("end_of_ns"),
  ns(NACM, "nacm", 1987107027, "2018-02-14", "ietf-netconf-acm"),
  node(["nacm", "groups", "group"], { keys: ["name"] }),
  node(["nacm", "rule-list"], { keys: ["name"] }),
  node(["nacm", "rule-list", "rule"], { keys: ["name"] }),
  atom("end_of_ns"),
];
