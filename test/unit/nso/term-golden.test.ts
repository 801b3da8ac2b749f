/**
 * Golden vectors at term level: every frame a real NSO 6.2.5 sent (and every frame the client
 * sent it) decodes to the term printed under it, and re-encodes to the very same bytes.
 */
import { strict as assert } from "node:assert";
import { ProtocolError } from "../../../src/core/errors";
import { decodeTerm, encodeTerm, formatTerm } from "../../../src/nso/term";
import { canonicalTerm, parseTermText, readFrames } from "./term-support";

/** The handshake messages are raw 9-byte structs, not terms (§1). */
const UNFRAMED = new Set(["HANDSHAKE_HEADER", "VERSION_REPLY"]);
/**
 * The capture client's `{foo}` (line 98) is itself malformed: ATOM_EXT (100) with a one-byte
 * length (`64 03 "foo"`), so it declares an 870-byte name. NSO closed the socket on it; we must
 * reject it too.
 */
const MALFORMED = new Set(["CLIENT_EXTRA"]);

describe("nso term codec: golden frames from a real NSO 6.2.5", () => {
  const frames = readFrames();
  const framed = frames.filter((f) => f.bytes !== null && !UNFRAMED.has(f.name) && !MALFORMED.has(f.name));

  it("reads the whole frames file (565 frames, 10 of them socket closes)", () => {
    assert.equal(frames.length, 565);
    assert.equal(frames.filter((f) => f.bytes === null).length, 10);
    assert.ok(framed.length > 500);
  });

  it("every framed message has a correct 4-byte length prefix", () => {
    for (const f of framed) {
      assert.equal(f.bytes!.readUInt32BE(0), f.bytes!.length - 4, `line ${f.line}`);
    }
  });

  it("every term frame decodes to the term printed under it", () => {
    let compared = 0;
    const failures: string[] = [];
    for (const f of framed) {
      const payload = f.bytes!.subarray(4);
      if (payload[0] !== 131) continue; // legacy raw subscription, checked below
      try {
        const got = decodeTerm(payload);
        if (f.comment !== null) {
          const want = parseTermText(f.comment);
          if (canonicalTerm(got) !== canonicalTerm(want)) {
            failures.push(`line ${f.line} ${f.name}: got ${formatTerm(got, 300)}`);
          }
          compared++;
        }
      } catch (e) {
        failures.push(`line ${f.line} ${f.name}: ${(e as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
    // Everything but the uncommented SUBSCRIBE frames is compared against its printed term.
    assert.equal(compared, framed.filter((f) => f.comment !== null && f.bytes![4] === 131).length);
    assert.equal(compared, 481);
  });

  it("re-encodes every server frame byte-for-byte (ATOM_EXT atoms, like OTP 25)", () => {
    let n = 0;
    for (const f of framed) {
      if (f.dir !== "in") continue;
      const payload = f.bytes!.subarray(4);
      assert.equal(encodeTerm(decodeTerm(payload)).toString("hex"), payload.toString("hex"), `line ${f.line}`);
      n++;
    }
    assert.ok(n > 450, `only ${n} server frames`);
  });

  it("re-encodes every client term frame byte-for-byte in one of the two atom encodings", () => {
    let n = 0;
    for (const f of framed) {
      const payload = f.bytes!.subarray(4);
      if (f.dir !== "out" || payload[0] !== 131) continue;
      const t = decodeTerm(payload);
      const hex = payload.toString("hex");
      const latin1 = encodeTerm(t).toString("hex");
      const utf8 = encodeTerm(t, { atoms: "utf8" }).toString("hex");
      assert.ok(hex === latin1 || hex === utf8, `line ${f.line}: ${hex}`);
      // The 'latin1' subscriber sent ATOM_EXT; everyone else libconfd-style SMALL_ATOM_UTF8.
      if (f.subscriber === "latin1" && f.name === "SUBSCRIBE") assert.equal(hex, latin1);
      n++;
    }
    assert.ok(n > 40, `only ${n} client frames`);
  });

  it("rejects the capture client's malformed {foo} frame with a clear error", () => {
    const bad = frames.filter((f) => MALFORMED.has(f.name));
    assert.equal(bad.length, 1);
    assert.throws(
      () => decodeTerm(bad[0].bytes!.subarray(4)),
      (e: unknown) => e instanceof ProtocolError && e.code === "etf-truncated" && /870 bytes/.test(e.message),
    );
  });

  it("rejects the legacy raw 4-byte subscription as 'not a term' (it is not one)", () => {
    const raw = framed.filter((f) => f.bytes![4] !== 131);
    assert.equal(raw.length, 1);
    assert.throws(
      () => decodeTerm(raw[0].bytes!.subarray(4)),
      (e: unknown) => e instanceof ProtocolError && e.code === "etf-bad-version",
    );
  });
});
