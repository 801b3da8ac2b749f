import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { ClientHandshake, ClientHandshakeOptions } from "../../../src/nso/client-handshake";
import { CLIENT_ID_EVENT_MGR } from "../../../src/nso/constants";
import { ByteReader } from "../../../src/nso/framing";
import { VersionRejected } from "../../../src/nso/handshake";
import { CLIENT_ID_MAAPI } from "../../../src/nso/maapi/constants";

// Bytes recorded from a real NSO 6.2.5 (test/fixtures/nso/nso-real-frames.txt).
const REPLY_OK = "000052080205000e05";
const REPLY_REJECTED = "010052080205000e05";

/** The client's side of one handshake, fed by hand: what it writes, and the reader it reads. */
function run(o: Partial<ClientHandshakeOptions> = {}) {
  const hs = new ClientHandshake({ clientId: CLIENT_ID_EVENT_MGR, protoVsn: 82, libVsn: 0x08020500, accessCheck: "none", ...o });
  const reader = new ByteReader(1024);
  const written: Buffer[] = [];
  const feed = (hex: string) => {
    reader.push(Buffer.from(hex, "hex"));
    return hs.step(reader, (b) => written.push(b));
  };
  return { hs, reader, written, feed };
}

describe("nso protocol: the client handshake shared by the event and MAAPI sockets", () => {
  it("writes the header for its client id and reads the version reply, leaving the bytes behind it", () => {
    const { hs, reader, feed } = run();
    assert.equal(hs.phase, "header");
    assert.equal(feed(""), undefined, "nothing to read before the header went out");
    assert.equal(hs.header().toString("hex"), "0b0052080205000000");
    assert.equal(hs.phase, "version");
    assert.equal(feed("000052080205"), undefined, "a partial reply waits for more");
    const reply = feed("000e05" + "0000000483");
    assert.equal(reply?.code, 0);
    assert.equal(reply?.protoVsn, 82);
    assert.equal(hs.phase, "done");
    assert.equal(reader.pending, 5, "the first frame's bytes stay for the caller");
    assert.throws(() => feed(""), /already done/);
    const maapi = run({ clientId: CLIENT_ID_MAAPI });
    assert.equal(maapi.hs.header().toString("hex"), "070052080205000000");
  });

  it("answers the access-check challenge with H(secret ++ challenge) and then reads the reply", () => {
    for (const [kind, flag, n] of [
      ["md5", 0x8b, 16],
      ["sha256", 0xcb, 32],
    ] as const) {
      const secret = Buffer.from("s3cret\n");
      const { hs, written, feed } = run({ accessCheck: kind, secret });
      assert.equal(hs.header()[0], flag);
      assert.equal(hs.phase, "challenge");
      const challenge = Buffer.alloc(n, 7);
      assert.equal(feed("0b" + challenge.toString("hex")), undefined);
      const digest = createHash(kind).update(secret).update(challenge).digest();
      assert.deepEqual(written, [Buffer.concat([Buffer.from([12]), digest])]);
      assert.equal(hs.phase, "access-result");
      assert.equal(feed("00" + REPLY_OK)?.code, 0);
    }
  });

  it("refuses clearly: no secret, wrong secret, odd access bytes, rejected version", () => {
    assert.throws(() => run({ accessCheck: "md5" }), { code: "nso-no-secret" });
    const wrong = run({ accessCheck: "md5", secret: Buffer.from("x") });
    wrong.hs.header();
    wrong.feed("0b" + "00".repeat(16));
    assert.throws(() => wrong.feed("03"), { code: "nso-wrong-secret", message: /wrong secret/ });
    const badTag = run({ accessCheck: "md5", secret: Buffer.from("x") });
    badTag.hs.header();
    assert.throws(() => badTag.feed("0c" + "00".repeat(16)), { code: "nso-bad-challenge" });
    const badResult = run({ accessCheck: "sha256", secret: Buffer.from("x") });
    badResult.hs.header();
    badResult.feed("0b" + "00".repeat(32));
    assert.throws(() => badResult.feed("09"), { code: "nso-bad-access-result" });
    const rejected = run();
    rejected.hs.header();
    assert.throws(
      () => rejected.feed(REPLY_REJECTED),
      (e: unknown) => e instanceof VersionRejected && e.code === "nso-version-rejected" && e.reply.protoVsn === 82,
    );
  });
});
