/** Every ETF type the NSO socket uses, decoded and encoded, with its boundary values. */
import { strict as assert } from "node:assert";
import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { atom, Atom, decodeTerm, encodeTerm, ErlFloat, ErlMap, formatTerm, ImproperList, Term, termToJson, tuple, Tuple } from "../../../src/nso/term";

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");
const dec = (h: string): Term => decodeTerm(hex(h));
const enc = (t: Term, utf8 = false): string => encodeTerm(t, utf8 ? { atoms: "utf8" } : undefined).toString("hex");

describe("nso term codec: types", () => {
  describe("integers", () => {
    it("decodes SMALL_INTEGER, INTEGER (signed) and picks the smallest encoding", () => {
      assert.equal(dec("83 61 00"), 0);
      assert.equal(dec("83 61 ff"), 255);
      assert.equal(dec("83 62 ff ff ff ff"), -1);
      assert.equal(dec("83 62 80 00 00 00"), -2147483648);
      assert.equal(dec("83 62 7f ff ff ff"), 2147483647);
      assert.equal(enc(255), "8361ff");
      assert.equal(enc(256), "836200000100");
      assert.equal(enc(-1), "8362ffffffff");
      assert.equal(enc(2147483647), "83627fffffff");
    });

    it("SMALL_BIG beyond int32 both ways; numbers up to 2^53-1, bigint above", () => {
      assert.equal(enc(2147483648), "836e040000000080");
      assert.equal(dec("83 6e 04 00 00 00 00 80"), 2147483648);
      assert.equal(dec("83 6e 04 01 01 00 00 80"), -2147483649);
      // µs timestamps (progress events) stay plain numbers
      assert.equal(dec("83 6e 07 00 d8 e3 46 b9 e1 60 06"), 1795372452602840);
      const max = Number.MAX_SAFE_INTEGER;
      assert.equal(decodeTerm(encodeTerm(max)), max);
      assert.equal(decodeTerm(encodeTerm(-max)), -max);
      assert.equal(decodeTerm(encodeTerm(2n ** 53n)), 2n ** 53n);
      assert.equal(decodeTerm(encodeTerm(-(2n ** 53n))), -(2n ** 53n));
      assert.equal(decodeTerm(encodeTerm(2n ** 64n - 1n)), 2n ** 64n - 1n);
      assert.equal(enc(2n ** 64n - 1n), "836e0800ffffffffffffffff");
      assert.equal(decodeTerm(encodeTerm(-(2n ** 200n) + 7n)), -(2n ** 200n) + 7n);
    });

    it("bigints that fit int32 are written as integers; small bignums read as numbers", () => {
      assert.equal(enc(5n), "836105");
      assert.equal(enc(-5n), "8362fffffffb");
      // libconfd writes masks >= 2^30 as SMALL_BIG (§4.1): value-based result, not encoding-based
      assert.equal(dec("83 6e 04 00 00 00 00 40"), 1073741824);
      assert.equal(dec("83 6e 08 00 05 00 00 00 00 00 00 00"), 5); // non-canonical leading zeros
      assert.equal(dec("83 6e 00 00"), 0);
      assert.equal(dec("83 6e 01 01 00"), 0); // -0 is 0
    });

    it("LARGE_BIG is read (defensively) and written above 255 bytes", () => {
      assert.equal(dec("83 6f 00 00 00 02 00 01 01"), 257);
      const huge = 2n ** (8n * 300n);
      const b = encodeTerm(huge);
      assert.equal(b[1], 111);
      assert.equal(decodeTerm(b, { maxBigBytes: 400 }), huge);
    });

    it("rejects non-integers and non-finite floats as programming errors", () => {
      assert.throws(() => encodeTerm(1.5), TypeError);
      assert.throws(() => encodeTerm(new ErlFloat(Infinity)), TypeError);
      assert.throws(() => encodeTerm(undefined as unknown as Term), TypeError);
      assert.throws(() => encodeTerm(true as unknown as Term), TypeError);
      assert.throws(() => encodeTerm({} as unknown as Term), /not an Erlang term: Object/);
    });
  });

  describe("floats", () => {
    it("NEW_FLOAT both ways, keeping 1.0 a float", () => {
      const t = decodeTerm(encodeTerm(new ErlFloat(1)));
      assert.ok(t instanceof ErlFloat);
      assert.equal(t.value, 1);
      assert.equal(enc(new ErlFloat(1.5)), "8346" + "3ff8000000000000");
      assert.equal((dec("83 46 c0 09 21 fb 54 44 2d 18") as ErlFloat).value, -3.141592653589793);
    });

    it("FLOAT_EXT (old 31-byte text form) is read", () => {
      const text = Buffer.alloc(31);
      text.write("1.50000000000000000000e+00", "latin1");
      const t = decodeTerm(Buffer.concat([hex("83 63"), text]));
      assert.equal((t as ErlFloat).value, 1.5);
    });
  });

  describe("atoms", () => {
    it("reads ATOM_EXT, SMALL_ATOM, ATOM_UTF8 and SMALL_ATOM_UTF8 to the same interned Atom", () => {
      const a = dec("83 64 00 02 6f 6b");
      assert.equal(a, atom("ok"));
      assert.equal(dec("83 73 02 6f 6b"), a);
      assert.equal(dec("83 76 00 02 6f 6b"), a);
      assert.equal(dec("83 77 02 6f 6b"), a);
    });

    it("latin-1 ATOM_EXT bytes are latin-1, UTF-8 atoms UTF-8", () => {
      assert.equal((dec("83 64 00 01 e9") as Atom).name, "é");
      assert.equal((dec("83 77 02 c3 a9") as Atom).name, "é");
      assert.equal((dec("83 77 04 f0 9f 98 80") as Atom).name, "😀");
    });

    it("writes ATOM_EXT like OTP 25 / NSO 6.2, UTF-8 for non-latin-1 names or on request", () => {
      assert.equal(enc(atom("ok")), "836400026f6b");
      assert.equal(enc(atom("é")), "83640001e9");
      assert.equal(enc(atom("ok"), true), "8377026f6b");
      assert.equal(enc(atom("😀")), "837704f09f9880");
      assert.equal(enc(atom("ж".repeat(200))).slice(0, 8), "83760190"); // 400 bytes: ATOM_UTF8
    });

    it("the same bytes as a latin-1 and as a UTF-8 atom are two different atoms (atom cache keyed by encoding)", () => {
      for (let i = 0; i < 3; i++) {
        assert.equal((dec("83 64 00 02 c3 a9") as Atom).name, "Ã©");
        assert.equal((dec("83 77 02 c3 a9") as Atom).name, "é");
      }
    });

    it("any atom round-trips through both encodings (the decoder's atom cache never confuses two)", () => {
      fc.assert(
        fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 20 }), { minLength: 1, maxLength: 50 }), (names) => {
          for (const n of names) {
            assert.equal(decodeTerm(encodeTerm(atom(n))), atom(n));
            assert.equal(decodeTerm(encodeTerm(atom(n), { atoms: "utf8" })), atom(n));
          }
        }),
        { numRuns: 200, seed: 3 },
      );
    });

    it("accepts 255-character atoms and refuses longer ones", () => {
      const long = "a".repeat(255);
      assert.equal((decodeTerm(encodeTerm(atom(long))) as Atom).name, long);
      assert.equal((decodeTerm(encodeTerm(atom("😀".repeat(255)))) as Atom).name, "😀".repeat(255));
      assert.throws(() => encodeTerm(atom("a".repeat(256))), TypeError);
    });
  });

  describe("binaries, strings and lists", () => {
    it("BINARY is a Buffer copy (does not pin the input)", () => {
      const input = hex("83 6d 00 00 00 03 61 62 63");
      const b = decodeTerm(input) as Buffer;
      assert.ok(Buffer.isBuffer(b));
      assert.equal(b.toString(), "abc");
      input[6] = 0x7a;
      assert.equal(b.toString(), "abc");
      assert.equal(enc(Buffer.from("abc")), "836d00000003616263");
      assert.equal(enc(Buffer.alloc(0)), "836d00000000");
    });

    it('STRING (charlist) is a latin-1 string; "" and [] are NIL', () => {
      assert.equal(dec("83 6b 00 03 01 02 ff"), "\x01\x02\xff");
      assert.deepEqual(dec("83 6a"), []);
      assert.equal(enc(""), "836a");
      assert.equal(enc([]), "836a");
      assert.equal(enc("abc"), "836b0003616263");
      // Erlang writes a list of bytes as STRING_EXT; so do we, for byte-identical frames.
      assert.equal(enc([1, 2, 3]), "836b0003010203");
      assert.equal(enc([1, 2, 256]), "836c00000003610161026200000100" + "6a");
    });

    it("a string with characters above 255 is a list of code points", () => {
      assert.deepEqual(decodeTerm(encodeTerm("aé😀")), [97, 233, 128512]);
    });

    it("proper lists, improper lists ([Ns|Tag]) and nested list tails", () => {
      const t = dec("83 6c 00 00 00 01 62 4a 2f 65 90 62 7d 5a bd 43"); // [1244620176|2103098691]
      assert.ok(t instanceof ImproperList);
      assert.deepEqual(t.elements, [1244620176]);
      assert.equal(t.tail, 2103098691);
      assert.equal(enc(t), "836c00000001624a2f6590627d5abd43");
      // an "improper" list whose tail is a list is written as the flat proper list, as Erlang does
      assert.equal(enc(new ImproperList([atom("a")], [atom("b")])), enc([atom("a"), atom("b")]));
      // [a | [b]] is [a, b]; [x | "bc"] is a proper list too
      assert.deepEqual(dec("83 6c 00000001 64 0001 61 6c 00000001 64 0001 62 6a"), [atom("a"), atom("b")]);
      assert.deepEqual(dec("83 6c 00000001 62 00000100 6b 0002 62 63"), [256, 98, 99]);
      // [] with a tail is the tail itself (what binary_to_term does)
      assert.equal(dec("83 6c 00000000 61 01"), 1);
      assert.deepEqual(dec("83 6c 00000000 6a"), []);
    });
  });

  describe("tuples and maps", () => {
    it("SMALL_TUPLE and LARGE_TUPLE", () => {
      const t = dec("83 68 02 61 01 64 00 04 64 6f 6e 65") as Tuple;
      assert.equal(t.arity, 2);
      assert.equal(t.get(1), atom("done"));
      assert.equal(enc(tuple()), "836800");
      const big = new Tuple(Array.from({ length: 300 }, (_, i) => i % 200));
      const b = encodeTerm(big);
      assert.equal(b[1], 105);
      assert.equal((decodeTerm(b) as Tuple).arity, 300);
    });

    it("MAP both ways (not sent by NSO 6.2; supported defensively)", () => {
      const m = new ErlMap([
        [atom("a"), 1],
        [Buffer.from("k"), tuple(atom("x"))],
      ]);
      const back = decodeTerm(encodeTerm(m)) as ErlMap;
      assert.ok(back instanceof ErlMap);
      assert.equal(back.entries.length, 2);
      assert.equal(formatTerm(back), '#{a => 1,<<"k">> => {x}}');
    });
  });

  it("reads a plain Uint8Array (not only Buffers), including a view into a larger buffer", () => {
    const big = new Uint8Array(100);
    big.set([131, 104, 2, 97, 1, 106], 10);
    assert.equal(formatTerm(decodeTerm(big.subarray(10, 16))), "{1,[]}");
  });

  describe("compressed terms (tag 80)", () => {
    it("inflates within the declared size", () => {
      const inner = encodeTerm(Buffer.alloc(1000, 0x61)).subarray(1);
      const z = deflateSync(inner);
      const head = Buffer.alloc(6);
      head[0] = 131;
      head[1] = 80;
      head.writeUInt32BE(inner.length, 2);
      assert.equal((decodeTerm(Buffer.concat([head, z])) as Buffer).length, 1000);
    });
  });

  describe("formatTerm and termToJson", () => {
    it("formats like Erlang, quoting atoms that need it and showing bytes for non-text", () => {
      const t = tuple(atom("my-maapi-ctx"), atom("ok"), Buffer.from([7, 234]), "ab", new ErlFloat(2), -3, 2n ** 70n);
      assert.equal(formatTerm(t), "{'my-maapi-ctx',ok,<<7,234>>,\"ab\",2.0,-3,1180591620717411303424}");
      assert.equal(formatTerm(new ImproperList([1], 2)), "[1|2]");
      assert.equal(formatTerm(Buffer.alloc(10000, 0x61), 20), '<<"' + "a".repeat(17) + "...");
    });

    it("renders JSON-safe values: big integers as strings, raw bytes as base64", () => {
      const t = tuple(atom("true"), atom("undefined"), 2n ** 64n, Buffer.from([0xff]), Buffer.from("é"), new ImproperList([1], 2));
      assert.deepEqual(termToJson(t), [true, null, "18446744073709551616", { binary: "/w==" }, "é", { list: [1], tail: 2 }]);
      assert.doesNotThrow(() => JSON.stringify(termToJson(t)));
    });
  });
});
