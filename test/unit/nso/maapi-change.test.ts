import { strict as assert } from "node:assert";
import { ProtocolError } from "../../../src/core/errors";
import { ATTR_NAMES, decodeDiffItem, parseReply } from "../../../src/nso/maapi";
import { VTYPE } from "../../../src/nso/notifications/values";
import { encodeTerm } from "../../../src/nso/term";
import type { JsonValue } from "../../../src/nso/term/json";
import { atom, ImproperList, Term, tuple } from "../../../src/nso/term/types";
import { compileDiff, DiffSpecItem, itemTerm } from "../../../src/sim/nso/maapi/diff-spec";
import { readMaapiFrames } from "./maapi-support";

const NCS = new ImproperList([atom("http://tail-f.com/ns/ncs")], atom("devices"));
const U = atom("undefined");
const item = (path: Term[], op: number, v: Term = U): Term => tuple(path, op, U, v);

describe("nso maapi: diff items to changes", () => {
  it("types every value kind of §4.5 and keeps labels for the XPath pass", () => {
    const leaf = (name: string): Term[] => [atom(name), tuple(Buffer.from("d")), atom("device"), NCS];
    const cases: Array<[Term, JsonValue, boolean]> = [
      [Buffer.from("text"), "text", false],
      [200, 200, false],
      [tuple(11, 830), { type: "C_UINT16", value: 830 }, false],
      [tuple(28, 2), { type: "C_ENUM_VALUE", value: 2 }, true],
      [tuple(29, 2), { type: "C_BIT32", value: 2 }, true],
      [tuple(44, tuple(1227394550, 1625535416)), { type: "C_IDENTITYREF", value: { ns: 1227394550, id: 1625535416 } }, true],
      [tuple(127, 0, 0, 1), { type: "C_IPV4", value: "127.0.0.1" }, false],
      [tuple(43, tuple(12345, 2)), { type: "C_DECIMAL64", value: "123.45", fraction_digits: 2 }, false],
      [atom("default"), { type: "C_DEFAULT" }, false],
      [atom("true"), true, false],
      [tuple(atom("weird"), 1, 2), { type: "C_UNKNOWN", term: "{weird,1,2}" }, false],
    ];
    for (const [v, want, label] of cases) {
      const d = decodeDiffItem(item(leaf("x"), 4, v));
      assert.deepEqual(d.change, { op: "value_set", path: "/devices/device{d}/x", value: want });
      assert.equal(d.labelRaw !== undefined, label, JSON.stringify(want));
    }
  });

  it("moved_after says first or the keys it follows; attr_set names tags and annotations", () => {
    const rule = [tuple(Buffer.from("r2")), atom("rule"), new ImproperList([atom("urn:ietf:params:xml:ns:yang:ietf-netconf-acm")], atom("nacm"))];
    assert.deepEqual(decodeDiffItem(item(rule, 5, tuple())).change.value, { after: null });
    assert.deepEqual(decodeDiffItem(item(rule, 5, tuple(Buffer.from("r3")))).change.value, { after: ["r3"] });
    assert.deepEqual(decodeDiffItem(item(rule, 6, tuple(2147483648n, [Buffer.from("t1")]))).change.value, { attr: "tags", value: ["t1"] });
    assert.deepEqual(decodeDiffItem(item(rule, 6, tuple(2147483649n, Buffer.from("note")))).change.value, { attr: "annotation", value: "note" });
    assert.deepEqual(decodeDiffItem(item(rule, 6, tuple(2147483649n, atom("not_found")))).change.value, { attr: "annotation", value: null });
    assert.deepEqual(decodeDiffItem(item(rule, 1)).change, { op: "created", path: "/nacm/rule{r2}", value: null });
  });

  it("refuses items that are not a diff item with a ProtocolError", () => {
    const bad: Term[] = [
      atom("x"),
      tuple(1, 2, 3),
      item([NCS], 9),
      item([NCS], 5, Buffer.from("x")),
      item([NCS], 6, 7),
      item([], 1),
      tuple([NCS], atom("created"), U, U),
    ];
    for (const t of bad) assert.throws(() => decodeDiffItem(t), ProtocolError);
  });

  it("the simulator writes NSO's exact bytes for every name-mode item of commits A-F (spec round trip)", () => {
    const vt = new Map(Object.entries(VTYPE).map(([k, v]) => [v, Number(k)]));
    const attrIds = new Map(Object.entries(ATTR_NAMES).map(([k, v]) => [v, Number(k)]));
    const toSpec = (v: JsonValue): unknown => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
      const o = v as Record<string, JsonValue>;
      if (o.type === "C_IPV4") return { ip: o.value };
      if (o.type === "C_DEFAULT") return "default";
      if (o.type === "C_IDENTITYREF") return { vtype: 44, value: [(o.value as { ns: number }).ns, (o.value as { id: number }).id] };
      return { vtype: vt.get(o.type as string), value: o.value };
    };
    let n = 0;
    for (const f of readMaapiFrames().filter((x) => x.step === "DIFF_ITEM" && !x.truncated && ["P04", "P05", "P05b", "P17"].includes(x.phase))) {
      const r = parseReply(f.bytes!.subarray(4));
      if (r.kind !== "term") continue;
      let d;
      try {
        d = decodeDiffItem(r.term);
      } catch {
        continue; // hash mode
      }
      const c = d.change;
      const spec: DiffSpecItem = { op: c.op, path: c.path };
      if (c.op === "value_set") spec.value = toSpec(c.value);
      if (c.op === "moved_after") spec.after = (c.value as { after: string[] | null }).after;
      if (c.op === "attr_set") {
        const a = c.value as { attr: string; value: JsonValue };
        spec.attr = attrIds.get(a.attr) ?? Number(a.attr);
        spec.value = a.value;
      }
      const [sim] = compileDiff([spec]);
      assert.equal(encodeTerm(itemTerm(sim)).toString("hex"), f.bytes!.subarray(4).toString("hex"), `line ${f.line} ${c.path}`);
      n++;
    }
    assert.ok(n > 100, `${n} items compared`);
  });
});
