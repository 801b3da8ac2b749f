import assert from "node:assert/strict";
import { withoutUserInfo } from "../../../src/core/redact";

describe("core/redact", () => {
  it("removes user:password@ from one URL or a list, and leaves clean URLs alone", () => {
    assert.equal(withoutUserInfo("wss://root:secret@10.0.0.1:12150"), "wss://10.0.0.1:12150");
    assert.equal(withoutUserInfo("amqp://a:5672, amqps://u:p@b:5671"), "amqp://a:5672, amqps://b:5671");
    assert.equal(withoutUserInfo("ws://127.0.0.1:12152/path@x"), "ws://127.0.0.1:12152/path@x");
  });
});
