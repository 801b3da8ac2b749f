import { strict as assert } from "node:assert";
import { decodeFrame, readMo } from "../../../src/apic/frames";
import { assertNotPolluted, assertOwnData, PROTOTYPE_NAMES } from "../../support/prototype-names";

describe("apic frames: attribute and class names such as constructor, toString, __proto__ are plain data", () => {
  afterEach(assertNotPolluted);

  for (const name of PROTOTYPE_NAMES) {
    it(`"${name}" as an attribute (string, number, boolean, object) and as the class`, () => {
      // JSON text, as it comes off the socket: a "__proto__" key in it is data for JSON.parse.
      const strings = decodeFrame(`{"subscriptionId":["1"],"imdata":[{"fvTenant":{"attributes":{"dn":"uni/tn-a","status":"created","${name}":"x"}}}]}`);
      assertOwnData(strings.changes[0].attributes, name, "x", "string value");
      // A non-string value makes the decoder copy the attributes: the copy must keep the name too.
      const numbers = decodeFrame(
        `{"subscriptionId":["1"],"imdata":[{"fvTenant":{"attributes":{"dn":"uni/tn-a","status":"created","${name}":5,"other":true}}}]}`,
      );
      assertOwnData(numbers.changes[0].attributes, name, "5", "number value");
      assertOwnData(numbers.changes[0].attributes, "other", "true", "beside it");
      const nested = decodeFrame(
        `{"subscriptionId":["1"],"imdata":[{"fvTenant":{"attributes":{"dn":"uni/tn-a","status":"created","${name}":{"polluted":1},"n":1}}}]}`,
      );
      const attrs = nested.changes[0].attributes;
      assert.equal(Object.getPrototypeOf(attrs), Object.prototype);
      assert.equal(Object.prototype.hasOwnProperty.call(attrs, name), false, "nested values are dropped, not merged");
      assert.equal((attrs as Record<string, unknown>).polluted, undefined);
      const cls = decodeFrame(`{"subscriptionId":["1"],"imdata":[{"${name}":{"attributes":{"dn":"uni/x","status":"deleted"}}}]}`);
      assert.equal(cls.changes[0].class, name);
      assert.equal(Object.getPrototypeOf(cls.changes[0]), Object.prototype);
    });
  }

  it("a frame whose top level or item carries __proto__ keys gives no attributes that were not sent", () => {
    const d = decodeFrame(
      '{"subscriptionId":["1"],"__proto__":{"imdata":[]},"imdata":[{"fvTenant":{"__proto__":{"x":1},"attributes":{"__proto__":{"dn":"forged"},"status":"created"}}}]}',
    );
    assert.deepEqual(d.skipped, ["item-without-dn"]);
    assert.equal(readMo(JSON.parse('{"a":{"attributes":{"__proto__":{"dn":"forged","status":"created"}}}}'), true), "item-without-dn");
  });
});
