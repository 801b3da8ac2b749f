/**
 * The ETF codec against Erlang/OTP itself (docs/nso.md): our decoder reads what
 * `term_to_binary` writes (four encodings of a wide corpus), our encoder writes the same bytes
 * as OTP 25 for the same term, and `binary_to_term` reads back what we encode (property-based).
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { Atom, decodeTerm, encodeTerm, ErlFloat, ErlMap, formatTerm, ImproperList, Term, Tuple } from "../../src/nso/term";
import { canonicalTerm } from "../unit/nso/term-support";
import { cleanupPeer, CorpusLine, erlCorpus, erlRoundTrip } from "./nso-erl-peer";

/**
 * The corpus holds a 2048-bit bignum and 70 000-element lists (one compresses 800:1); lift the
 * defaults for it.
 */
const ROOMY = { maxBigBytes: 512, maxSize: 1 << 24, maxExpansion: 1024 };

describe("nso term codec against erl (OTP 25)", function () {
  this.timeout(60000);
  let corpus: CorpusLine[];

  before(async () => {
    corpus = await erlCorpus();
  });
  after(() => cleanupPeer());

  it("erl produced the corpus in four encodings", () => {
    const variants = new Set(corpus.map((c) => c.variant));
    assert.deepEqual([...variants].sort(), ["compressed", "default", "oldfloat", "utf8"]);
    assert.ok(corpus.length >= 4 * 370, `only ${corpus.length} corpus lines`);
  });

  for (const variant of ["default", "utf8", "oldfloat", "compressed"]) {
    it(`decodes every term_to_binary(T${variant === "default" ? "" : ", " + variant}) to T`, () => {
      const failures: string[] = [];
      for (const c of corpus.filter((x) => x.variant === variant)) {
        try {
          const t = decodeTerm(c.bytes, ROOMY);
          if (canonicalTerm(t) !== c.canon) failures.push(`${c.bytes.toString("hex").slice(0, 80)}: ${formatTerm(t, 200)}`);
        } catch (e) {
          failures.push(`${c.bytes.toString("hex").slice(0, 80)}: ${(e as Error).message}`);
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  it("re-encodes every decoded term to exactly OTP 25's bytes (default and UTF-8 atom encodings)", () => {
    let n = 0;
    for (const c of corpus) {
      if (c.variant !== "default" && c.variant !== "utf8") continue;
      const t = decodeTerm(c.bytes, ROOMY);
      const ours = encodeTerm(t, c.variant === "utf8" ? { atoms: "utf8" } : undefined);
      assert.equal(ours.toString("hex"), c.bytes.toString("hex"), formatTerm(t, 200));
      n++;
    }
    assert.ok(n >= 740, `only ${n}`);
  });

  it("binary_to_term reads what we encode: 300 random terms, one erl batch", async () => {
    const terms = fc.sample(termArb, { numRuns: 300, seed: 20261122 });
    const encoded = terms.map((t) => encodeTerm(t));
    const back = await erlRoundTrip(encoded);
    assert.equal(back.length, terms.length);
    for (let i = 0; i < terms.length; i++) {
      const want = canonicalTerm(terms[i]);
      assert.equal(back[i].canon, want, `term ${i}: ${formatTerm(terms[i], 300)}`);
      // Erlang may order map keys differently; everything else must be byte-identical.
      if (!containsMap(terms[i])) {
        assert.equal(encoded[i].toString("hex"), back[i].bytes!.toString("hex"), formatTerm(terms[i], 300));
      }
      // And we read our own bytes back to the same term.
      assert.equal(canonicalTerm(decodeTerm(encoded[i], ROOMY)), want);
    }
  });

  it("binary_to_term reads our UTF-8 atom encoding (what libconfd sends) too", async () => {
    const terms = fc.sample(termArb, { numRuns: 100, seed: 99 });
    const back = await erlRoundTrip(terms.map((t) => encodeTerm(t, { atoms: "utf8" })));
    for (let i = 0; i < terms.length; i++) assert.equal(back[i].canon, canonicalTerm(terms[i]));
  });

  it("truncated frames: erl and we both refuse; trailing bytes: erl ignores them, we refuse on purpose", async () => {
    const good = encodeTerm(new Tuple([Atom.of("ok"), Buffer.from("x"), [1, 2, 300]]));
    const truncated = good.subarray(0, good.length - 1);
    const trailing = Buffer.concat([good, Buffer.from([0])]);
    const [t, x] = await erlRoundTrip([truncated, trailing]);
    assert.equal(t.canon, null);
    assert.throws(() => decodeTerm(truncated));
    // binary_to_term/1 stops after one term. A notification frame is exactly one term, so
    // leftover bytes mean a framing bug or corruption: we drop the frame instead.
    assert.equal(x.canon, canonicalTerm(decodeTerm(good)));
    assert.throws(() => decodeTerm(trailing), /trailing/);
  });
});

function containsMap(t: Term): boolean {
  if (t instanceof ErlMap) return true;
  if (Array.isArray(t)) return t.some(containsMap);
  if (t instanceof Tuple) return t.elements.some(containsMap);
  if (t instanceof ImproperList) return t.elements.some(containsMap) || containsMap(t.tail);
  return false;
}

/** Terms as NSO and its clients build them, plus the corners of every type. */
const leafArb: fc.Arbitrary<Term> = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }).map((b) => (Number.isSafeInteger(Number(b)) ? Number(b) : b)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => new ErlFloat(v)),
  fc.string({ unit: "grapheme", maxLength: 12 }).map((s) => Atom.of(s)),
  fc.string({ unit: "grapheme-ascii", maxLength: 12 }).map((s) => Atom.of(s)),
  fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
);

const { term: termArb } = fc.letrec<{ term: Term; list: Term; tuple: Term; improper: Term; map: Term }>((tie) => ({
  term: fc.oneof({ depthSize: "small", withCrossShrink: true }, leafArb, tie("list"), tie("tuple"), tie("improper"), tie("map")),
  list: fc.array(tie("term"), { maxLength: 5 }),
  tuple: fc.array(tie("term"), { maxLength: 5 }).map((e) => new Tuple(e)),
  improper: fc
    .tuple(fc.array(tie("term"), { minLength: 1, maxLength: 3 }), leafArb)
    .filter(([, tail]) => typeof tail !== "string") // a charlist tail makes it a proper list
    .map(([e, tail]) => new ImproperList(e, tail)),
  // Erlang refuses a MAP_EXT with duplicate keys, so keys are made unique by their canonical form.
  map: fc.uniqueArray(fc.tuple(leafArb, tie("term")), { maxLength: 4, selector: ([k]) => canonicalTerm(k) }).map((entries) => new ErlMap(entries)),
}));
