import { strict as assert } from "node:assert";
import { decodeFrame } from "../../../src/sysadm/frame";
import { parsePriority } from "../../../src/sysadm/priority";
import { assertNotPolluted, assertOwnData, PROTOTYPE_NAMES } from "../../support/prototype-names";

describe("sysadm frames: key and event names such as constructor, toString, __proto__ are plain data", () => {
  afterEach(assertNotPolluted);

  for (const name of PROTOTYPE_NAMES) {
    it(`"${name}" as an args key (at two levels), an event name and an error field`, () => {
      const ev = decodeFrame(`{"namespace":"events","name":"${name}","id":"","args":{"${name}":{"${name}":"v","polluted":1},"priority":"2 - Warning"}}`);
      assert.equal(ev.kind, "event");
      if (ev.kind !== "event") return;
      assert.equal(ev.name, name);
      assertOwnData(ev.args, name, JSON.parse(`{"${name}":"v","polluted":1}`), "args");
      assertOwnData((ev.args as Record<string, unknown>)[name], name, "v", "nested");
      const reply = decodeFrame(`{"namespace":"rpc","name":"query","id":"7","args":{"${name}":"r"}}`);
      assert.equal(reply.kind, "reply");
      if (reply.kind === "reply") assertOwnData(reply.args, name, "r", "reply");
      const err = decodeFrame(`{"namespace":"error","name":"error","id":"7","args":{"${name}":"x","code":"404","message":"m"}}`);
      assert.deepEqual(err, { kind: "error", id: "7", status: "404", message: "m", bridge: undefined });
    });
  }

  it("a __proto__ key cannot supply fields the frame did not have", () => {
    const ev = decodeFrame('{"namespace":"events","name":"dispatcher","id":"","args":{"__proto__":{"priority":"9 - Urgent"}}}');
    assert.equal(ev.kind, "event");
    assert.equal(parsePriority((ev as { args: Record<string, unknown> }).args.priority), null);
    assert.throws(() => decodeFrame('{"__proto__":{"namespace":"events","name":"x","id":""}}'), /lacks string namespace/);
    // Nesting under __proto__ keys counts like any other.
    const deep = "{".concat('"__proto__":{'.repeat(70), "}".repeat(70), "}");
    assert.throws(() => decodeFrame(`{"namespace":"events","name":"x","id":"","args":${deep}}`), /nests deeper/);
  });
});
