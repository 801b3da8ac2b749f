import assert from "node:assert/strict";
import { inspect } from "node:util";
import { categoryFor, parsePriority } from "../../../src/sysadm/priority";

describe("sysadm/priority", () => {
  it("parses the server's '<n> - <Category>' form", () => {
    assert.deepEqual(parsePriority("2 - Warning"), { level: 2, category: "Warning" });
    assert.deepEqual(parsePriority("7 - Critical"), { level: 7, category: "Critical" });
    assert.deepEqual(parsePriority("0 - Information"), { level: 0, category: "Information" });
  });

  it("accepts the later docs' '<n>/<Category>' form and a bare number", () => {
    assert.deepEqual(parsePriority("9/Urgent"), { level: 9, category: "Urgent" });
    assert.deepEqual(parsePriority("4"), { level: 4, category: "Warning" });
  });

  it("clamps the level to 0..10 and fills a missing category from the table", () => {
    assert.deepEqual(parsePriority("42 - "), { level: 10, category: "Urgent" });
    assert.equal(categoryFor(5), "Warning");
    assert.equal(categoryFor(6), "Critical");
  });

  it("gives null for anything else instead of failing the event", () => {
    for (const v of [undefined, null, 3, "", "high", "- Warning", {}, "x".repeat(500)]) assert.equal(parsePriority(v), null, inspect(v));
  });
});
