/**
 * Hostile input: whatever bytes arrive, decodeTerm either returns a term or throws a
 * ProtocolError with a code — never another exception, never a large allocation, never a
 * stack overflow.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { ProtocolError } from "../../../src/core/errors";
import { decodeTerm, encodeTerm, Term } from "../../../src/nso/term";
import { readFrames } from "./term-support";

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");

function rejects(bytes: Buffer, code: string, opts?: Parameters<typeof decodeTerm>[1]): ProtocolError {
  let caught: unknown;
  try {
    decodeTerm(bytes, opts);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ProtocolError, `expected a ProtocolError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Decodes or throws ProtocolError; anything else fails the test. */
function decodeOrProtocolError(bytes: Buffer): void {
  try {
    decodeTerm(bytes);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}

const termFrames = readFrames()
  .filter((f) => f.bytes !== null && f.bytes.length > 4 && f.bytes[4] === 131 && f.name !== "CLIENT_EXTRA")
  .map((f) => f.bytes!.subarray(4));

describe("nso term codec: hostile input", () => {
  it("rejects empty input, a wrong version byte and unsupported tags with clear errors", () => {
    rejects(Buffer.alloc(0), "etf-truncated");
    const e = rejects(hex("82 61 01"), "etf-bad-version");
    assert.match(e.message, /version byte 131/);
    assert.match(rejects(hex("83 67 00"), "etf-bad-tag").message, /tag 103/); // PID_EXT
    rejects(hex("83 4d 00 00 00 01 07 ff"), "etf-bad-tag"); // BIT_BINARY_EXT
    rejects(hex("83 71 64 00 01 6d 64 00 01 66 61 01"), "etf-bad-tag"); // EXPORT_EXT
  });

  it("every truncation of every real frame is rejected as truncated, at the point it ends", () => {
    let n = 0;
    for (const full of termFrames) {
      for (let len = 1; len < full.length; len++) {
        const e = rejects(full.subarray(0, len), "etf-truncated");
        assert.ok((e.details?.offset as number) <= len);
        n++;
      }
    }
    assert.ok(n > 50000, `checked ${n} truncations`);
  });

  it("trailing bytes after a complete term are rejected", () => {
    const e = rejects(hex("83 61 01 00"), "etf-trailing");
    assert.equal(e.details?.trailing, 1);
    for (const full of termFrames.slice(0, 50)) rejects(Buffer.concat([full, hex("6a")]), "etf-trailing");
  });

  it("huge declared sizes are refused before anything is allocated", () => {
    const before = process.memoryUsage().arrayBuffers;
    rejects(hex("83 6d ff ff ff ff 00"), "etf-truncated"); // 4 GiB binary
    rejects(hex("83 6c ff ff ff ff 6a"), "etf-truncated"); // 4 G-element list
    rejects(hex("83 69 ff ff ff ff 61 01"), "etf-truncated"); // 4 G-element tuple
    rejects(hex("83 74 80 00 00 00 61 01 61 02"), "etf-truncated"); // 2 G-entry map
    rejects(hex("83 6f ff ff ff ff 00 01"), "etf-too-large"); // 4 GiB bignum
    rejects(hex("83 6e ff 00 01"), "etf-too-large"); // over the 64-byte bignum default
    rejects(hex("83 6b ff ff 61"), "etf-truncated"); // 64 KiB charlist
    rejects(hex("83 64 ff ff 61"), "etf-truncated"); // atom longer than the input
    // A compressed term declaring 4 GiB is refused from its header.
    rejects(hex("83 50 ff ff ff ff 78 9c 03 00 00 00 00 01"), "etf-too-large");
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
  });

  it("wrong inner lengths are caught: a tuple arity larger than its elements", () => {
    rejects(hex("83 68 03 61 01 61 02"), "etf-truncated");
    rejects(hex("83 6c 00 00 00 02 61 01 6a"), "etf-truncated");
  });

  it("a compressed term that lies about its size or is not zlib is rejected", () => {
    rejects(hex("83 50 00 00 00 10 78 9c 4b 4c 4a 06 00 02 4d 01 27"), "etf-bad-compressed");
    rejects(hex("83 50 00 00 00 03 01 02 03"), "etf-bad-compressed");
    rejects(hex("83 50 00 00"), "etf-truncated");
  });

  it("deep nesting is bounded (tuples, lists, list tails, maps) without a stack overflow", () => {
    const deepTuple = Buffer.concat([hex("83"), Buffer.from("6801".repeat(100000), "hex"), hex("6a")]);
    assert.match(rejects(deepTuple, "etf-too-deep").message, /64 levels/);
    // A chain of one-element lists in the tail position is one list, not nesting: [1,1,1,...]
    const chain = [hex("83")];
    for (let i = 0; i < 10000; i++) chain.push(hex("6c 00000001 61 01"));
    chain.push(hex("6a"));
    assert.equal((decodeTerm(Buffer.concat(chain)) as Term[]).length, 10000);
    // Nested lists in the head position are nesting.
    const heads = [hex("83")];
    for (let i = 0; i < 100; i++) heads.push(hex("6c 00000001"));
    heads.push(hex("6a"));
    for (let i = 0; i < 100; i++) heads.push(hex("6a"));
    rejects(Buffer.concat(heads), "etf-too-deep");
    assert.doesNotThrow(() => decodeTerm(Buffer.concat(heads), { maxDepth: 200 }));
    const maps = [hex("83")];
    for (let i = 0; i < 70; i++) maps.push(hex("74 00000001 61 01"));
    maps.push(hex("6a"));
    rejects(Buffer.concat(maps), "etf-too-deep");
  });

  it("maxSize refuses an oversize input up front", () => {
    const e = rejects(encodeTerm(Buffer.alloc(2000)), "etf-too-large", { maxSize: 1000 });
    assert.equal(e.details?.size, 2006);
  });

  it("invalid UTF-8 in a UTF-8 atom, bad bignum signs, bad floats are rejected", () => {
    rejects(hex("83 77 02 c3 28"), "etf-bad-atom");
    rejects(hex("83 64 01 00" + "61".repeat(256)), "etf-bad-atom"); // 256 latin-1 chars
    rejects(hex("83 6e 01 02 05"), "etf-bad-big");
    rejects(hex("83 46 7f f0 00 00 00 00 00 00"), "etf-bad-float"); // +Inf
    rejects(hex("83 46 7f f8 00 00 00 00 00 00"), "etf-bad-float"); // NaN
    const bad = Buffer.alloc(31);
    bad.write("not a float", "latin1");
    rejects(Buffer.concat([hex("83 63"), bad]), "etf-bad-float");
  });

  it("random byte strings after the version byte: a term or a ProtocolError, nothing else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodeOrProtocolError(Buffer.concat([hex("83"), bytes]));
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it("real frames with random bytes flipped: a term or a ProtocolError, nothing else", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: termFrames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, flips) => {
          const b = Buffer.from(termFrames[which]);
          for (const [at, v] of flips) b[1 + (at % (b.length - 1))] = v;
          decodeOrProtocolError(b);
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
  });
});
