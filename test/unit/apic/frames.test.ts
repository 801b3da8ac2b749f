import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../../src/core/errors";
import { decodeFrame, readIds, readMo } from "../../../src/apic/frames";
import { ApicError, decodeReply, envelopeError } from "../../../src/apic/envelope";
import { cookieFrom } from "../../../src/apic/rest";
import { loginName } from "../../../src/apic/session";

describe("apic/frames", () => {
  it("decodes the documented notification envelope, ids kept as strings", () => {
    const f = decodeFrame(
      '{"subscriptionId":["72057843163791520","72057843163791488"],"imdata":[{"fvTenant":{"attributes":{"childAction":"","dn":"uni/tn-demo","modTs":"2024-01-01T10:00:00.000+00:00","rn":"","status":"deleted"}}}]}',
    );
    assert.deepEqual(f.ids, ["72057843163791520", "72057843163791488"]);
    assert.equal(f.changes.length, 1);
    assert.equal(f.changes[0].class, "fvTenant");
    assert.equal(f.changes[0].status, "deleted");
    assert.deepEqual(f.skipped, []);
  });

  it("accepts a scalar id and several MOs per frame", () => {
    const f = decodeFrame(
      '{"subscriptionId":"7","imdata":[{"a":{"attributes":{"dn":"x","status":"created"}}},{"b":{"attributes":{"dn":"y","status":"modified"}}}]}',
    );
    assert.deepEqual(f.ids, ["7"]);
    assert.deepEqual(
      f.changes.map((c) => c.class),
      ["a", "b"],
    );
  });

  it("refuses ids that lost digits as JSON numbers", () => {
    assert.deepEqual(readIds([72057843163791520, 12, "13", "x", null]), ["12", "13"]);
  });

  it("skips broken items but keeps the good ones", () => {
    const f = decodeFrame(
      '{"subscriptionId":["1"],"imdata":[5,{"a":{}},{"a":{"attributes":{"status":"created"}}},{"a":{"attributes":{"dn":"d","status":"weird"}}},{"a":{"attributes":{"dn":"d","status":"created"}},"b":{}},{"ok":{"attributes":{"dn":"d","status":"created","n":3}}}]}',
    );
    assert.deepEqual(f.skipped, ["item-not-object", "item-without-attributes", "item-without-dn", "unknown-status", "item-not-one-class"]);
    assert.deepEqual(
      f.changes.map((c) => c.attributes),
      [{ dn: "d", status: "created", n: "3" }],
    );
  });

  it("throws a ProtocolError for frames that are unusable as a whole", () => {
    for (const bad of [
      "",
      "not json",
      "[]",
      "null",
      '{"imdata":[]}',
      '{"subscriptionId":[],"imdata":[]}',
      '{"subscriptionId":["1"]}',
      '<?xml version="1.0"?><imdata/>',
      '{"subscriptionId":["1"],"imdata":[{"a":{"attributes":{"dn":"x"',
    ]) {
      assert.throws(() => decodeFrame(bad), ProtocolError, bad);
    }
  });

  it("never throws anything but ProtocolError on arbitrary input", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (s) => {
        try {
          decodeFrame(s);
        } catch (e) {
          assert.ok(e instanceof ProtocolError, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("reads snapshot objects with an empty status only where allowed", () => {
    assert.equal(readMo({ a: { attributes: { dn: "x", status: "" } } }, false), "unknown-status");
    assert.deepEqual(readMo({ a: { attributes: { dn: "x", status: "" } } }, true), { class: "a", dn: "x", status: "", attributes: { dn: "x", status: "" } });
  });
});

describe("apic/envelope", () => {
  const env = (code: string, text: string): string => JSON.stringify({ totalCount: "1", imdata: [{ error: { attributes: { code, text } } }] });

  it("classifies APIC's documented errors", () => {
    const k = (status: number, body: string): string => {
      try {
        decodeReply(status, body, "x");
      } catch (e) {
        assert.ok(e instanceof ApicError);
        return e.kind;
      }
      return "ok";
    };
    assert.equal(k(401, env("401", "Username or password is incorrect - FAILED local authentication")), "auth");
    assert.equal(k(403, env("403", "Token was invalid (Error: Token timeout)")), "token");
    assert.equal(k(405, env("405", "Subscription request failed, unable to locate opened web socket. Please re-login to the application")), "no-socket");
    assert.equal(k(400, env("400", "Subscription 1 does not exist")), "request");
    assert.equal(k(200, env("400", "error inside a 200")), "request");
    assert.equal(k(503, "<html>503</html>"), "server");
    assert.equal(k(200, "<html>"), "protocol");
    assert.equal(k(200, '{"x":1}'), "protocol");
    assert.equal(k(200, '{"totalCount":"0","imdata":[]}'), "ok");
  });

  it("puts APIC's own words in the message", () => {
    assert.throws(
      () => decodeReply(401, env("401", "Username or password is incorrect"), "aaaLogin"),
      /aaaLogin: Username or password is incorrect \(HTTP 401, APIC code 401\)/,
    );
    assert.equal(envelopeError({ imdata: [{ fvTenant: {} }] }), undefined);
  });

  it("reads the APIC-cookie from Set-Cookie and builds login names with domains", () => {
    assert.equal(cookieFrom(["other=1", "APIC-cookie=abc/+=; path=/; HttpOnly; Secure"]), "abc/+=");
    assert.equal(cookieFrom(undefined), undefined);
    assert.equal(loginName({ username: "admin", password: "", domain: "RADIUS" }), "apic:RADIUS\\admin");
    assert.equal(loginName({ username: "admin", password: "", domain: " " }), "admin");
  });
});
