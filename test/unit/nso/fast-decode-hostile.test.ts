/**
 * Hostile frames through the fast notification decoder: truncated, with bytes changed, with a
 * subterm of the wrong type, oversize, too deep, compressed, with trailing bytes, with atoms the
 * generic decoder refuses. Each is decoded both ways (sameAsGeneric): the fast path never throws,
 * never decodes what the generic path refuses (which then gives its ProtocolError), and never
 * gives another result.
 */
import { strict as assert } from "node:assert";
import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { fastNotification } from "../../../src/nso/fast-decode";
import { atom, decodeTerm, encodeTerm, ErlMap, ImproperList, Term, tuple, Tuple } from "../../../src/nso/term";
import { assertJsonSafe } from "./notifications-support";
import { readFrames } from "./term-support";
import { generic, sameAsGeneric } from "./fast-decode-support";
import { assertNotPolluted, assertOwnData, PROTOTYPE_NAMES } from "../../support/prototype-names";

const opts = { libVsn: 0x08020500, ackMask: 0x7fffffff };
const b = (s: string): Buffer => Buffer.from(s);
const notifications = readFrames()
  .filter((f) => f.dir === "in" && f.bytes !== null && f.bytes.length > 4 && f.bytes[4] === 131 && fastNotification(f.bytes.subarray(4), opts) !== undefined)
  .map((f) => f.bytes!.subarray(4));

describe("nso fast decode: hostile frames get the generic path's answer", () => {
  it("every truncation of every notification the fast path takes is declined (the generic path: etf-truncated)", () => {
    let n = 0;
    for (const full of notifications) {
      for (let len = 0; len < full.length; len++) {
        const cut = full.subarray(0, len);
        assert.equal(fastNotification(cut, opts), undefined, `truncated to ${len}`);
        const g = generic(cut, opts);
        assert.ok(!g.ok && g.code === "etf-truncated");
        n++;
      }
    }
    assert.ok(n > 50000, `checked ${n} truncations`);
  });

  it("bytes changed anywhere: declined or the generic result", () => {
    let fast = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: notifications.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (which, changes) => {
          const frame = Buffer.from(notifications[which]);
          for (const [at, v] of changes) frame[1 + (at % (frame.length - 1))] = v;
          if (sameAsGeneric(frame, opts, `frame ${which} ${JSON.stringify(changes)}`) === "fast") fast++;
        },
      ),
      { numRuns: 20000, seed: 14 },
    );
    // Most changes hit a value, not the structure: the fast path must still take those.
    assert.ok(fast > 5000, `${fast} of 20000 changed frames taken`);
  });

  it("a subterm replaced by one of another type, in either atom encoding: declined or the generic result", () => {
    const terms = notifications.map((f) => decodeTerm(f));
    const junk: fc.Arbitrary<Term> = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
      fc.constantFrom<Term>(
        atom("undefined"),
        atom("true"),
        atom("start"),
        atom("constructor"),
        atom("__proto__"),
        [],
        "",
        "abc",
        b(""),
        b("\u00ff"),
        Buffer.from([0xff, 0xfe]),
      ),
      fc.array(fc.integer({ min: -1, max: 300 }), { maxLength: 4 }),
      fc.integer({ min: 0, max: 11 }).map((n) => new Tuple(Array.from({ length: n }, (_, i) => i))),
      fc.constant<Term>(new ErlMap([[atom("a"), 1]])),
      fc.constant<Term>(new ImproperList([1], atom("x"))),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: terms.length - 1 }),
        fc.nat(),
        junk,
        fc.constantFrom("latin1" as const, "utf8" as const),
        (which, where, replacement, atoms) => {
          const frame = encodeTerm(replaceNth(terms[which], where, replacement), { atoms });
          sameAsGeneric(frame, opts, `term ${which} subterm ${where}`);
        },
      ),
      { numRuns: 6000, seed: 2026 },
    );
  });

  it("size, depth and bignum limits: the fast path leaves a frame over any of them to the generic path", () => {
    for (const frame of notifications) {
      const g = generic(frame, { ...opts, maxSize: frame.length - 1 });
      assert.ok(!g.ok && g.code === "etf-too-large");
      assert.equal(fastNotification(frame, { ...opts, maxSize: frame.length - 1 }), undefined);
      assert.equal(sameAsGeneric(frame, { ...opts, maxSize: frame.length }), "fast");
      for (const maxDepth of [1, 2, 3, 4, 5, 6, 8, 10]) sameAsGeneric(frame, { ...opts, maxDepth }, `maxDepth ${maxDepth}`);
      for (const maxBigBytes of [0, 4, 7, 8, 9]) sameAsGeneric(frame, { ...opts, maxBigBytes }, `maxBigBytes ${maxBigBytes}`);
    }
    // Stream values nest as deep as NSO likes: at every limit, the generic answer or declined, whatever
    // container is the deepest (each is where the generic decoder stops first at some limit).
    const innermost: Term[] = [
      atom("start"),
      tuple(12, 5),
      tuple(10, 0, 0, 1),
      [b("x")],
      tuple(44, tuple(1, 2)),
      tuple(19, tuple(2026, 1, 1, 0, 0, 0, 0, 0, 0)),
      tuple(34, [tuple(b("k"))]),
    ];
    for (const inner of innermost) {
      let nested: Term = inner;
      for (let i = 0; i < 12; i++) nested = i % 2 ? [nested] : tuple(34, [tuple(nested)]);
      for (const value of [inner, nested]) {
        const deep = encodeTerm(tuple(524288, tuple(tuple(19, tuple(2026, 1, 1, 0, 0, 0, 0, 0, 0)), [tuple(new ImproperList([1], 2), value)])));
        const outcomes = new Set<string>();
        let taken = 0;
        for (let maxDepth = 1; maxDepth <= 40; maxDepth++) {
          const g = generic(deep, { ...opts, maxDepth });
          outcomes.add(g.ok ? "ok" : g.code);
          if (sameAsGeneric(deep, { ...opts, maxDepth }, `nested, maxDepth ${maxDepth}`) === "fast") taken++;
        }
        assert.deepEqual(outcomes, new Set(["etf-too-deep", "ok"]));
        // Declined only below the depth its fixed part needs (8) or where the generic decoder refuses.
        assert.equal(taken, [...Array(40).keys()].filter((i) => i + 1 >= 8 && generic(deep, { ...opts, maxDepth: i + 1 }).ok).length);
      }
    }
  });

  it("compressed terms, trailing bytes, another version byte: declined (the generic path decodes or refuses them)", () => {
    for (const frame of notifications.slice(0, 60)) {
      const body = frame.subarray(1);
      const size = Buffer.alloc(4);
      size.writeUInt32BE(body.length);
      const compressed = Buffer.concat([Buffer.from([131, 80]), size, deflateSync(body)]);
      assert.equal(fastNotification(compressed, opts), undefined);
      assert.ok(generic(compressed, opts).ok);
      const trailing = Buffer.concat([frame, Buffer.from([106])]);
      assert.equal(fastNotification(trailing, opts), undefined);
      assert.deepEqual(generic(trailing, opts), { ok: false, code: "etf-trailing" });
      const version = Buffer.from(frame);
      version[0] = 130;
      assert.equal(fastNotification(version, opts), undefined);
    }
  });

  it("atoms the generic decoder refuses are refused; long and non-ASCII ones it takes are taken alike", () => {
    const session = (ctx: Buffer, tag: number): Buffer => {
      const head = encodeTerm(tuple(32, 1, tuple(59, b("admin"), b(""), atom("PLACEHOLDER"), 4, tuple(127, 0, 0, 1), 0, 1, b(""), 0), 2));
      const at = head.indexOf(b("PLACEHOLDER")) - 3;
      const len = tag === 100 || tag === 118 ? Buffer.from([tag, ctx.length >> 8, ctx.length & 255]) : Buffer.from([tag, ctx.length]);
      return Buffer.concat([head.subarray(0, at), len, ctx, head.subarray(at + 3 + 11)]);
    };
    const cases: Array<[Buffer, number, boolean]> = [
      [b("cli"), 100, true],
      [b("cli"), 119, true],
      [Buffer.from([0xe9, 0x74, 0xe9]), 100, true], // latin-1 "été"
      [Buffer.from([0xe9, 0x74, 0xe9]), 119, false], // not UTF-8
      [b("\u00e9t\u00e9"), 118, true],
      [Buffer.alloc(256, 0x61), 100, false], // 256 characters
      [Buffer.from("\u{1F600}".repeat(255)), 118, true], // 255 characters in 1020 bytes
      [Buffer.from("\u{1F600}".repeat(256)), 118, false],
    ];
    for (const [name, tag, ok] of cases) {
      const frame = session(name, tag);
      assert.equal(generic(frame, opts).ok, ok, `${name.length} bytes, tag ${tag}`);
      assert.equal(sameAsGeneric(frame, opts, `${name.length} bytes, tag ${tag}`), ok ? "fast" : "declined");
    }
  });

  it("names such as constructor, toString, __proto__ in any string slot are plain data, as on the generic path", () => {
    const undef = atom("undefined");
    for (const name of PROTOTYPE_NAMES) {
      const frames: Array<[string, Buffer]> = [
        ["audit user", encodeTerm(tuple(1, 1, b(name), 2, b(name)))],
        ["uinfo context atom", encodeTerm(tuple(32, 1, tuple(59, b(name), b(""), atom(name), 4, tuple(127, 0, 0, 1), 0, 1, b(name), 0), 2), { atoms: "utf8" })],
        [
          "progress attribute names",
          encodeTerm(
            tuple(65536, tuple(3, 1, undef, b("t"), b("s"), undef, 0, 0, 0, undef, undef, b("m"), undef, [tuple(b(name), b("v")), tuple(atom(name), 2)], [])),
          ),
        ],
        [
          "stream UseIKP tags",
          encodeTerm(tuple(524288, tuple(tuple(19, tuple(2026, 11, 22, 18, 34, 12, 5, 1, 0)), [tuple(new ImproperList([atom(name)], atom(name)), b(name))]))),
        ],
        ["snmpa status atom", encodeTerm(tuple(512, tuple(4, 1, tuple(127, 0, 0, 1), 161, atom(name), 0, 1, [tuple(tuple(1, 4, atom(name)), atom(name))])))],
      ];
      for (const [what, frame] of frames) {
        assert.equal(sameAsGeneric(frame, opts, `${what}: ${name}`), "fast", `${what}: ${name}`);
        const p = fastNotification(frame, opts)!.notification.payload;
        assertJsonSafe(p, `${what}: ${name}`);
      }
      const attrs = fastNotification(frames[2][1], opts)!.notification.payload.attributes as object[];
      for (const a of attrs) assertOwnData(a, "name", name, name);
      // An atom value named so is an unexpected value (generic: nso-bad-notification), not Object's method.
      const marker = encodeTerm(tuple(524288, tuple(tuple(19, tuple(2026, 1, 1, 0, 0, 0, 0, 0, 0)), [tuple(new ImproperList([100], 7), atom(name))])));
      assert.equal(sameAsGeneric(marker, opts, name), "declined");
      assert.deepEqual(generic(marker, opts), { ok: false, code: "nso-bad-notification" });
    }
    assertNotPolluted();
  });
});

/** Replaces the n-th subterm (pre-order, modulo the subterm count, never the root) with `r`. */
function replaceNth(t: Term, n: number, r: Term): Term {
  const total = count(t) - 1;
  let target = total > 0 ? (n % total) + 1 : 0;
  const walk = (x: Term): Term => {
    if (target === 0) {
      target = -1;
      return r;
    }
    target--;
    if (x instanceof Tuple) return new Tuple(x.elements.map(walk));
    if (Array.isArray(x)) return x.map(walk);
    if (x instanceof ImproperList) return new ImproperList(x.elements.map(walk), walk(x.tail));
    return x;
  };
  return walk(t);
}

function count(t: Term): number {
  if (t instanceof Tuple) return 1 + t.elements.reduce((s: number, e) => s + count(e), 0);
  if (Array.isArray(t)) return 1 + t.reduce((s: number, e) => s + count(e), 0);
  if (t instanceof ImproperList) return 1 + t.elements.reduce((s: number, e) => s + count(e), 0) + count(t.tail);
  return 1;
}
