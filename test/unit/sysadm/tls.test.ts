import assert from "node:assert/strict";
import { generateSelfSigned } from "../../../src/sim/sysadm/certificate";
import { certificateFingerprint, checkPeer, normaliseFingerprint, socketTlsOptions } from "../../../src/sysadm/tls";

describe("sysadm/tls", () => {
  it("normalises fingerprints with or without colons, any case", () => {
    const hex = "ab".repeat(32);
    assert.equal(normaliseFingerprint(hex), "AB:".repeat(31) + "AB");
    assert.equal(normaliseFingerprint("ab:".repeat(31) + "ab"), "AB:".repeat(31) + "AB");
    assert.throws(() => normaliseFingerprint("abcd"), /64 hex digits/);
  });

  it("verifies by default and never turns verification off silently", () => {
    assert.equal(socketTlsOptions({ mode: "verify" }).rejectUnauthorized, true);
    assert.equal(socketTlsOptions({ mode: "verify", base: { ca: "x" } }).ca, "x");
    assert.equal(socketTlsOptions({ mode: "insecure" }).rejectUnauthorized, false);
    assert.throws(() => socketTlsOptions({ mode: "fingerprint" }), /needs a certificate fingerprint/);
  });

  it("accepts exactly the pinned certificate", () => {
    const cert = generateSelfSigned();
    const other = generateSelfSigned();
    assert.equal(certificateFingerprint(cert.certPem), cert.fingerprint);
    const socket = { getPeerCertificate: () => ({ fingerprint256: cert.fingerprint }) };
    checkPeer({ mode: "fingerprint", fingerprint: cert.fingerprint.toLowerCase() }, socket as never);
    assert.throws(() => checkPeer({ mode: "fingerprint", fingerprint: other.fingerprint }, socket as never), /does not match the pinned/);
    assert.throws(() => checkPeer({ mode: "fingerprint", fingerprint: other.fingerprint }, undefined), /\(none\)/);
  });
});
