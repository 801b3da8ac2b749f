import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import {
  accessResponse,
  checkVersionReply,
  encodeHeader,
  encodeVersionReply,
  parseHeader,
  parseVersionReply,
  resolveSecret,
  VersionRejected,
} from "../../../src/nso/handshake";
import { maskOf, namesOf, NOTIF_BITS, MESSAGE_TYPE_NAMES } from "../../../src/nso/constants";

// Bytes recorded from a real NSO 6.2.5 (test/fixtures/nso/nso-real-frames.txt).
const REAL = {
  header: "0b0052080205000000",
  headerProto77: "0b004d080205000000",
  replyOk: "000052080205000e05",
  replyProto77: "010052080205000e05",
  replyMaxDepth: "020052080205000e05",
};

describe("nso protocol: handshake", () => {
  it("writes the 9-byte header a real 6.2.5 accepted (id 11, proto 82, LIB_VSN 8.2.5, 0/0)", () => {
    assert.equal(encodeHeader().toString("hex"), REAL.header);
    assert.equal(encodeHeader({ protoVsn: 77 }).toString("hex"), REAL.headerProto77);
  });

  it("sets the access-check flag bits: 0x80 for MD5, 0xC0 for SHA-256", () => {
    assert.equal(encodeHeader({ accessCheck: "md5" })[0], 0x8b);
    assert.equal(encodeHeader({ accessCheck: "sha256" })[0], 0xcb);
    assert.equal(parseHeader(encodeHeader({ accessCheck: "sha256" })).accessCheck, "sha256");
    assert.equal(parseHeader(encodeHeader({ accessCheck: "md5" })).accessCheck, "md5");
  });

  it("writes the client id it is given (7 = MAAPI) under the same flag bits, and refuses ids that would set a flag", () => {
    const h = encodeHeader({ clientId: 7, accessCheck: "sha256" });
    assert.equal(h[0], 0xc7);
    assert.deepEqual(parseHeader(h), { ...parseHeader(encodeHeader({ accessCheck: "sha256" })), clientId: 7 });
    assert.equal(encodeHeader({ clientId: 7 }).subarray(1).toString("hex"), encodeHeader().subarray(1).toString("hex"));
    assert.throws(() => encodeHeader({ clientId: 64 }), /client id must be 0..63/);
    assert.throws(() => encodeHeader({ clientId: -1 }), /client id/);
  });

  it("refuses out-of-range versions instead of truncating them", () => {
    assert.throws(() => encodeHeader({ protoVsn: 70000 }), RangeError);
    assert.throws(() => encodeHeader({ libVsn: -1 }), RangeError);
  });

  it("parses the real version replies and round-trips them", () => {
    const ok = parseVersionReply(Buffer.from(REAL.replyOk, "hex"));
    assert.deepEqual(ok, { code: 0, protoVsn: 82, libVsn: 0x08020500, maxDepth: 14, maxKeyLen: 5 });
    assert.equal(encodeVersionReply(ok).toString("hex"), REAL.replyOk);
    checkVersionReply(ok, 82);
  });

  it("turns code 1 into a clear error naming the server's version", () => {
    const r = parseVersionReply(Buffer.from(REAL.replyProto77, "hex"));
    assert.throws(
      () => checkVersionReply(r, 77),
      (e: unknown) => e instanceof VersionRejected && e.code === "nso-version-rejected" && /77/.test(e.message) && /NSO speaks 82/.test(e.message),
    );
  });

  it("turns code 2 into a model-size error with the server's needs", () => {
    const r = parseVersionReply(Buffer.from(REAL.replyMaxDepth, "hex"));
    assert.throws(
      () => checkVersionReply(r, 82),
      (e: unknown) => e instanceof VersionRejected && e.code === "nso-model-size-rejected" && /14\/5/.test(e.message),
    );
  });

  it("rejects truncated replies and headers", () => {
    assert.throws(() => parseVersionReply(Buffer.from("0000520802", "hex")), /9 bytes/);
    assert.throws(() => parseHeader(Buffer.alloc(8)), /9 bytes/);
  });

  it("computes the access-check answer as <<12, H(secret ++ challenge)>>", () => {
    const secret = Buffer.from("s3cret\n");
    const challenge = Buffer.alloc(16, 7);
    const md5 = accessResponse("md5", secret, challenge);
    assert.equal(md5[0], 12);
    assert.equal(
      md5.subarray(1).toString("hex"),
      createHash("md5")
        .update(Buffer.concat([secret, challenge]))
        .digest("hex"),
    );
    const sha = accessResponse("sha256", secret, Buffer.alloc(32, 9));
    assert.equal(sha.length, 33);
  });

  it("reads the secret from the file bytes, trailing newline included, and from NCS_IPC_ACCESS_FILE", () => {
    const dir = mkdtempSync(join(tmpdir(), "nso-secret-"));
    const f = join(dir, "ipc_access");
    writeFileSync(f, "abc\n");
    assert.equal(resolveSecret({ secretFile: f })!.toString(), "abc\n");
    assert.equal(resolveSecret({ env: { NCS_IPC_ACCESS_FILE: f } })!.toString(), "abc\n");
    assert.equal(resolveSecret({ secret: "xyz", secretFile: f })!.toString(), "xyz");
    assert.equal(resolveSecret({ env: {} }), undefined);
    assert.throws(() => resolveSecret({ secretFile: join(dir, "missing") }), /cannot read the IPC access secret file/);
  });
});

describe("nso protocol: mask constants", () => {
  it("maps Python constant names to the bits of §5 and back", () => {
    assert.equal(maskOf(["NOTIF_AUDIT", "NOTIF_COMMIT_DIFF", "NOTIF_AUDIT_SYNC"]), 1 + 16 + 131072);
    assert.deepEqual(namesOf(1558219371).length, 15);
    assert.equal(NOTIF_BITS.NOTIF_COMPACTION, 2 ** 30);
    assert.ok(!MESSAGE_TYPE_NAMES.includes("NOTIF_AUDIT_SYNC"));
    assert.throws(() => maskOf(["NOTIF_AUDT"]), /unknown NSO notification type/);
  });
});
