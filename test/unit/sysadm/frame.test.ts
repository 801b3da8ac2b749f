import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../../src/core/errors";
import { errorCode } from "../../support/error-code";
import { decodeFrame } from "../../../src/sysadm/frame";

const limits = { maxFrameBytes: 4096, maxDepth: 8 };

const code = (fn: () => unknown): string => errorCode(ProtocolError, fn);

describe("sysadm/frame", () => {
  it("classifies an event by its empty id and events namespace", () => {
    const f = decodeFrame('{"args":{"class":"snapshot"},"id":"","name":"life-preserver","namespace":"events"}', limits);
    assert.equal(f.kind, "event");
    assert.equal(f.kind === "event" && f.name, "life-preserver");
    assert.deepEqual(f.kind === "event" && f.args, { class: "snapshot" });
  });

  it("classifies a reply by its id, whatever the key order", () => {
    const f = decodeFrame('{"namespace":"rpc","id":"r1","name":"response","args":["tok",0]}', limits);
    assert.deepEqual(f, { kind: "reply", id: "r1", namespace: "rpc", name: "response", args: ["tok", 0], bridge: undefined });
  });

  it("turns the error envelope into status and message, string codes as sent", () => {
    const f = decodeFrame('{"args":{"code":"401","message":"Unauthorized"},"id":"a1","name":"error","namespace":"error"}', limits);
    assert.deepEqual(f, { kind: "error", id: "a1", status: "401", message: "Unauthorized", bridge: undefined });
  });

  it("accepts the docs' numeric code and rpc namespace for errors", () => {
    const f = decodeFrame('{"args":{"code":404,"message":"Not Found"},"id":"a1","name":"error","namespace":"rpc"}', limits);
    assert.equal(f.kind === "error" && f.status, "404");
  });

  it("splits a bridge-id line off a frame that does not start with {", () => {
    const f = decodeFrame('conn-7\n{"args":{},"id":"","name":"dispatcher","namespace":"events"}\n', limits);
    assert.equal(f.kind, "event");
    assert.equal(f.bridge, "conn-7");
  });

  it("reads the server's echo of a non-JSON request as an error with an empty id", () => {
    const f = decodeFrame('not json at all\n{"args":{"code":"400","message":"Bad Request"},"id":"","name":"error","namespace":"error"}', limits);
    assert.equal(f.kind, "error");
    assert.equal(f.id, "");
    assert.equal(f.bridge, "not json at all");
  });

  it("refuses what is not one JSON object, with a code per reason", () => {
    assert.equal(
      code(() => decodeFrame("hello", limits)),
      "not-json",
    );
    assert.equal(
      code(() => decodeFrame("id\nQUJDRA==", limits)),
      "not-json",
    );
    assert.equal(
      code(() => decodeFrame("{not json", limits)),
      "bad-json",
    );
    assert.equal(
      code(() => decodeFrame('{"a":1}{"b":2}', limits)),
      "bad-json",
    );
    assert.equal(
      code(() => decodeFrame("[1,2]", limits)),
      "not-json",
    );
    assert.equal(
      code(() => decodeFrame('{"id":"","name":"x"}', limits)),
      "bad-envelope",
    );
    assert.equal(
      code(() => decodeFrame('{"id":7,"name":"x","namespace":"rpc","args":{}}', limits)),
      "bad-envelope",
    );
    assert.equal(
      code(() => decodeFrame('{"id":"","name":"response","namespace":"rpc","args":{}}', limits)),
      "uncorrelated",
    );
  });

  it("refuses a frame above the size limit before parsing it", () => {
    const big = JSON.stringify({ args: { x: "y".repeat(5000) }, id: "", name: "dispatcher", namespace: "events" });
    assert.equal(
      code(() => decodeFrame(Buffer.from(big), limits)),
      "frame-too-large",
    );
  });

  it("refuses hostile nesting without overflowing the stack", () => {
    const deep = `{"args":${"[".repeat(100000)}${"]".repeat(100000)},"id":"","name":"dispatcher","namespace":"events"}`;
    assert.equal(
      code(() => decodeFrame(deep, { maxFrameBytes: 1 << 20, maxDepth: 64 })),
      "too-deep",
    );
    const ok = `{"args":${"[".repeat(8)}${"]".repeat(8)},"id":"","name":"dispatcher","namespace":"events"}`;
    assert.equal(decodeFrame(ok, limits).kind, "event");
  });

  it("checks the depth under an own __proto__ key too", () => {
    const deep = `{"args":{"__proto__":${"[".repeat(20)}${"]".repeat(20)}},"id":"","name":"dispatcher","namespace":"events"}`;
    assert.equal(
      code(() => decodeFrame(deep, limits)),
      "too-deep",
    );
  });

  it("keeps __proto__ keys as plain data (no prototype pollution)", () => {
    const f = decodeFrame('{"args":{"__proto__":{"polluted":true}},"id":"","name":"dispatcher","namespace":"events"}', limits);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(f.kind, "event");
  });

  it("never throws anything but a ProtocolError, whatever the bytes", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          fc.json(),
        ),
        (input) => {
          try {
            decodeFrame(input, limits);
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("decodes every well-formed event envelope it is given", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue({ maxDepth: 4 }), (name, args) => {
        const f = decodeFrame(JSON.stringify({ namespace: "events", name, id: "", args }), { maxFrameBytes: 1 << 20, maxDepth: 64 });
        if (name === "error") return; // an error envelope by name, by design
        assert.equal(f.kind, "event");
        assert.deepEqual(f.kind === "event" && f.args, JSON.parse(JSON.stringify(args)));
      }),
      { numRuns: 500 },
    );
  });
});
