import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { canonicalJson, stableId } from "../../../src/core/stable-id";

describe("core/stable-id", () => {
  it("canonical JSON: sorted keys at every level, undefined left out, bigint and Buffer as text", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson(10n), '"10"');
    assert.equal(canonicalJson(Buffer.from("hi")), '{"$bytes":"aGk="}');
  });

  it("is the same in another process (no process state, no random)", () => {
    const parts = ["nso", "nso.example:4569", "NOTIF_AUDIT", { logno: 116, usid: 59, msg: "m" }];
    const src = path.join(__dirname, "../../../src/core/stable-id.ts");
    const code = `const { stableId } = require(${JSON.stringify(src)}); process.stdout.write(stableId(${JSON.stringify(parts)}));`;
    const other = execFileSync(process.execPath, ["--import", "tsx", "-e", code], { encoding: "utf8", timeout: 30000 });
    assert.equal(other, stableId(parts));
    assert.equal(stableId(parts), stableId(structuredClone(parts)));
  });
});
