import { strict as assert } from "node:assert";
import { deflateSync } from "node:zlib";
import { Backoff } from "../../../src/core/backoff";
import { ProtocolError } from "../../../src/core/errors";
import { NsoClient } from "../../../src/nso/client";
import { maskOf } from "../../../src/nso/constants";
import { encodeFrame } from "../../../src/nso/framing";
import { decodeTerm, encodeTerm, ImproperList, Term, tuple } from "../../../src/nso/term";
import { startNsoSimulator, RunningNsoSimulator } from "../../../src/sim/nso";
import { errorCode } from "../../support/error-code";

const code = (fn: () => unknown): string => errorCode(ProtocolError, fn);

/** `<<131, 80, Size:32, Zlib>>` around the bytes of a term (without its version byte). */
function compressed(inner: Buffer, declared = inner.length): Buffer {
  const head = Buffer.from([131, 80, 0, 0, 0, 0]);
  head.writeUInt32BE(declared, 2);
  return Buffer.concat([head, deflateSync(inner, { level: 9 })]);
}

/** LIST_EXT of `n` empty lists: n + 6 bytes inflated, each a fresh JS array when decoded. */
function listOfNils(n: number): Buffer {
  const b = Buffer.alloc(n + 6, 106);
  b[0] = 108;
  b.writeUInt32BE(n, 1);
  return b;
}

describe("nso term: a compressed term cannot cost more than its frame allows", () => {
  it("the 16 KB frame that inflates to 16 MiB of empty lists is refused, not decoded into 1 GB of heap", () => {
    const frame = compressed(listOfNils(16 * 1024 * 1024 - 22));
    assert.ok(frame.length > 15 * 1024 && frame.length < 17 * 1024, `${frame.length} bytes`);
    const heap = process.memoryUsage().heapUsed;
    assert.equal(
      code(() => decodeTerm(frame)),
      "etf-too-large",
    );
    // Refused while counting, before the arrays exist (the decode itself made ~1 GB).
    assert.ok(process.memoryUsage().heapUsed - heap < 200e6);
  });

  it("a tuple arity or map size that only the inflated bytes can back is refused before its array is allocated", () => {
    const arity = 3_000_000;
    const tupleBytes = Buffer.alloc(5 + arity * 2);
    tupleBytes[0] = 105; // LARGE_TUPLE_EXT
    tupleBytes.writeUInt32BE(arity, 1);
    for (let i = 5; i < tupleBytes.length; i += 2) tupleBytes[i] = 97; // SMALL_INTEGER_EXT 0
    assert.equal(
      code(() => decodeTerm(compressed(tupleBytes))),
      "etf-too-large",
    );
    const pairs = 1_000_000;
    const mapBytes = Buffer.alloc(5 + pairs * 4);
    mapBytes[0] = 116; // MAP_EXT
    mapBytes.writeUInt32BE(pairs, 1);
    for (let i = 5; i < mapBytes.length; i += 2) mapBytes[i] = 97;
    assert.equal(
      code(() => decodeTerm(compressed(mapBytes))),
      "etf-too-large",
    );
  });

  it("the declared size is checked against the frame limit before inflating", () => {
    // Not zlib at all: if it were inflated, the error would be etf-bad-compressed.
    const lying = Buffer.concat([Buffer.from([131, 80, 0, 0, 8, 0]), Buffer.alloc(64, 0xff)]);
    assert.equal(
      code(() => decodeTerm(lying, { maxSize: 1024 })),
      "etf-too-large",
    );
    // zlib stops at the declared size (maxOutputLength): more data than declared is refused.
    assert.equal(
      code(() => decodeTerm(compressed(listOfNils(5000), 100))),
      "etf-bad-compressed",
    );
  });

  it("ordinary compressed terms still decode, and the budget can be raised for data that compresses extremely well", () => {
    const entries: Term[] = Array.from({ length: 2000 }, (_, i) =>
      tuple(new ImproperList([123456789], 1000 + i), Buffer.from(`value-${i}-${(i * 7919) % 10007}`)),
    );
    const inner = encodeTerm(entries).subarray(1);
    assert.equal((decodeTerm(compressed(inner)) as Term[]).length, 2000);
    // 2000 identical entries compress ~300:1: past the default 16 values per wire byte.
    const same = encodeTerm(Array.from({ length: 2000 }, () => tuple(new ImproperList([123456789], 42), Buffer.from("same")))).subarray(1);
    assert.equal(
      code(() => decodeTerm(compressed(same))),
      "etf-too-large",
    );
    assert.equal((decodeTerm(compressed(same), { maxExpansion: 1024 }) as Term[]).length, 2000);
    // Uncompressed terms have no such budget: their bytes bound them.
    assert.equal((decodeTerm(Buffer.concat([Buffer.from([131]), listOfNils(100000)])) as Term[]).length, 100000);
  });

  describe("on the notification socket", () => {
    let sim: RunningNsoSimulator;
    let c: NsoClient | undefined;
    afterEach(async () => {
      c?.stop();
      await sim?.close();
    });

    it("the crafted frame is a counted drop; the connection stays and the next notification arrives", async () => {
      sim = await startNsoSimulator({ port: 0 });
      const client = new NsoClient({
        host: "127.0.0.1",
        port: sim.port,
        backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }),
        subscription: () => ({ mask: maskOf(["NOTIF_AUDIT"]) }),
      });
      c = client;
      const up = new Promise<void>((r) => client.lifecycle.on("state", (s) => s.state === "connected" && r()));
      client.start();
      await up;
      const drops: string[] = [];
      client.on("drop", (e: ProtocolError) => drops.push(e.code));
      const states: string[] = [];
      client.lifecycle.on("state", (s) => states.push(s.state));
      const next = new Promise<{ notification: { payload: Record<string, unknown> } }>((r) => client.once("notification", r));
      sim.server.injectBytes(encodeFrame(compressed(listOfNils(16 * 1024 * 1024 - 22))));
      sim.server.inject({ type: "NOTIF_AUDIT", logno: 1, user: "admin", usid: 1, msg: "after the bomb" });
      assert.equal((await next).notification.payload.msg, "after the bomb");
      assert.deepEqual(drops, ["etf-too-large"]);
      assert.deepEqual(states, []);
    });
  });
});
