import { strict as assert } from "node:assert";
import { atom, decodeTerm, encodeTerm, ErlMap, ImproperList, Term, termToJson, tuple } from "../../../src/nso/term";
import { decodeNotification, NsoNotification } from "../../../src/nso/notifications";
import { ProtocolError } from "../../../src/core/errors";
import { assertNotPolluted, assertOwnData, PROTOTYPE_NAMES } from "../../support/prototype-names";
import { assertJsonSafe } from "./notifications-support";

const b = (s: string): Buffer => Buffer.from(s);
const undef = atom("undefined");
/** Through the wire codec first, as a frame from NSO would come. */
const dec = (t: Term): NsoNotification => decodeNotification(decodeTerm(encodeTerm(t)), { libVsn: 0x08010000 });
const dt = (): Term => tuple(19, tuple(2026, 11, 22, 18, 34, 12, 5, 1, 0));

describe("nso: names such as constructor, toString, __proto__ in terms stay plain data", () => {
  afterEach(assertNotPolluted);

  it("term maps with such keys (atoms, binaries, charlists) render as data, and JSON keeps them", () => {
    for (const name of PROTOTYPE_NAMES) {
      const m = new ErlMap([
        [atom(name), b("atom key")],
        [b(name), tuple(atom("polluted"), 1)],
        [name, new ErlMap([[atom("polluted"), atom("true")]])],
      ]);
      const j = termToJson(decodeTerm(encodeTerm(m))) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(j), Object.prototype);
      assert.deepEqual(Object.keys(j), ["map"]);
      assert.deepEqual(j.map, [
        [name, "atom key"],
        [name, ["polluted", 1]],
        [name, { map: [["polluted", true]] }],
      ]);
      // A notification type this version does not know carries such a map through as is.
      const unknown = dec(tuple(777777, m));
      assert.equal(unknown.type, "NOTIF_UNKNOWN");
      assertJsonSafe(unknown.payload);
      assert.deepEqual((unknown.payload.term as unknown[])[1], j);
    }
  });

  it("stream event tags named so (UseIKP atoms) are strings; an atom value named so is an unexpected value, not Object's method", () => {
    for (const name of PROTOTYPE_NAMES) {
      const p = dec(tuple(524288, tuple(dt(), [tuple(new ImproperList([atom(name)], atom(name)), b("v"))]))).payload;
      assert.deepEqual(p.values, [{ ns: name, tag: name, value: "v" }]);
      assertJsonSafe(p);
      // Before: MARKERS["constructor"] found Object.prototype.constructor -> {type: [Function]}.
      assert.throws(
        () => dec(tuple(524288, tuple(dt(), [tuple(new ImproperList([100], 7), atom(name))]))),
        (e: unknown) => e instanceof ProtocolError && e.code === "nso-bad-notification" && /unexpected atom value/.test(e.message),
        name,
      );
    }
  });

  it("progress attribute names are values in {name, ...}, never keys", () => {
    for (const name of PROTOTYPE_NAMES) {
      const p = dec(
        tuple(65536, tuple(3, 1, undef, b("t"), b("s"), undef, 0, 0, 0, undef, undef, b("m"), undef, [tuple(b(name), b("v")), tuple(atom(name), 2)], [])),
      ).payload;
      assertJsonSafe(p);
      assert.deepEqual(p.attributes, [
        { name, type: 1, typeName: "string", string: "v" },
        { name, type: 2, typeName: "number", number: 2 },
      ]);
      for (const a of p.attributes as object[]) assertOwnData(a, "name", name);
    }
  });
});
