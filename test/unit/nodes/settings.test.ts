import assert from "node:assert/strict";
import { numberSetting } from "../../../src/nodes/lib/settings";

describe("nodes/lib/settings: one reading of numeric editor fields", () => {
  const port = { name: "port", default: 4569, min: 1, max: 65535, integer: true };

  it("a blank field is the default; numbers and numeric text are taken", () => {
    for (const blank of [undefined, null, "", "  "]) assert.equal(numberSetting(blank, port), 4569);
    assert.equal(numberSetting(4570, port), 4570);
    assert.equal(numberSetting(" 4571 ", port), 4571);
    assert.equal(numberSetting("2.5", { name: "ping interval", default: 30, min: 0, unit: "s" }), 2.5);
  });

  it("reads 0x… as hexadecimal where the field says so (NSO's LIB_VSN)", () => {
    const lib = { name: "LIB_VSN", default: 0, min: 0, max: 0xffffffff, integer: true, hex: true };
    assert.equal(numberSetting("0x08020500", lib), 0x08020500);
    assert.equal(numberSetting(" 0X10 ", lib), 16);
    assert.throws(() => numberSetting("0x1ffffffff", lib), /LIB_VSN must be a whole number from 0 to 4294967295, got 0x1ffffffff/);
  });

  it("refuses what the user did not mean, in one wording, never a silent fallback", () => {
    assert.throws(() => numberSetting("abc", port), /^RangeError: port must be a whole number from 1 to 65535, got abc$/);
    assert.throws(() => numberSetting(0, port), /port must be a whole number from 1 to 65535, got 0/);
    assert.throws(() => numberSetting("70000", port), /got 70000/);
    assert.throws(() => numberSetting("1.5", port), /must be a whole number/);
    assert.throws(
      () => numberSetting("Infinity", { name: "heartbeat interval", default: 10, min: 0, unit: "s" }),
      /^RangeError: heartbeat interval must be a number of at least 0 s, got Infinity$/,
    );
    assert.throws(
      () => numberSetting("-1", { name: "idle timeout", default: 60, min: 0, max: 3600, unit: "s" }),
      /^RangeError: idle timeout must be a number from 0 to 3600 s, got -1$/,
    );
    assert.throws(() => numberSetting({ a: 1 }, port), /got \{"a":1\}/);
  });
});
