import { strict as assert } from "node:assert";
import fc from "fast-check";
import { ByteReader, encodeFrame, FrameTooLarge } from "../../../src/nso/framing";

describe("nso protocol: framing", () => {
  it("reassembles frames split at every byte boundary", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
        (payloads, cuts) => {
          const all = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          const r = new ByteReader(1000);
          const out: Buffer[] = [];
          let pos = 0;
          let i = 0;
          while (pos < all.length) {
            const n = cuts[i++ % cuts.length];
            r.push(all.subarray(pos, pos + n));
            pos += n;
            for (let f = r.nextFrame(); f; f = r.nextFrame()) out.push(Buffer.from(f));
          }
          assert.deepEqual(
            out.map((b) => b.toString("hex")),
            payloads.map((p) => Buffer.from(p).toString("hex")),
          );
          assert.equal(r.pending, 0);
        },
      ),
    );
  });

  it("holds a truncated frame until the rest arrives", () => {
    const r = new ByteReader();
    const f = encodeFrame(Buffer.from("hello"));
    r.push(f.subarray(0, 3));
    assert.equal(r.nextFrame(), undefined);
    r.push(f.subarray(3, 7));
    assert.equal(r.nextFrame(), undefined);
    r.push(f.subarray(7));
    assert.equal(r.nextFrame()!.toString(), "hello");
  });

  it("reports an oversize frame once, skips its bytes as they stream in, and reads the next frame", () => {
    const r = new ByteReader(10);
    const big = encodeFrame(Buffer.alloc(1000, 1));
    const next = encodeFrame(Buffer.from("ok"));
    r.push(big.subarray(0, 100));
    assert.throws(
      () => r.nextFrame(),
      (e: unknown) => e instanceof FrameTooLarge && /1000 bytes exceeds/.test((e as Error).message),
    );
    assert.equal(r.nextFrame(), undefined);
    assert.ok(r.skipping);
    r.push(Buffer.concat([big.subarray(100), next]));
    assert.equal(r.nextFrame()!.toString(), "ok");
    assert.equal(r.pending, 0);
  });

  it("hands out exact handshake prefixes before framing starts", () => {
    const r = new ByteReader();
    r.push(Buffer.from("000052080205000e05", "hex"));
    r.push(encodeFrame(Buffer.from([0x83, 0x64, 0, 2, 0x6f, 0x6b])));
    assert.equal(r.take(9)!.toString("hex"), "000052080205000e05");
    assert.equal(r.nextFrame()!.toString("hex"), "836400026f6b");
  });
});
