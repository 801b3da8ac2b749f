import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";
import fc from "fast-check";
import { parseKeyList } from "../../../src/nodes/lib/routing";
import { routerFor, STATUS_OUTPUTS } from "../../../src/nodes/lib/apic-settings";

/**
 * The editor computes a routed node's ports from the same key list the runtime routes by. The
 * editor's copy is plain browser script in src/nodes/<type>.html; this test runs that very function
 * (cut out of the file) against the runtime's on generated input, so the two cannot drift apart
 * and leave a port that receives nothing or a key with no port.
 */
const root = path.resolve(__dirname, "../../..");

/** Cut `function <name>(…) {…}` out of a node's editor file and make it callable. */
function editorFunction<T extends (...a: never[]) => unknown>(file: string, name: string, context: Record<string, unknown> = {}): T {
  const html = readFileSync(path.join(root, "src", "nodes", file), "utf8");
  const start = html.indexOf(`function ${name}(`);
  assert.ok(start >= 0, `${file} has no function ${name}`);
  // The function ends at the first line that closes a block at its own indentation.
  const indent = html.slice(html.lastIndexOf("\n", start) + 1, start);
  const end = html.indexOf(`\n${indent}}`, start);
  assert.ok(end > start, `${file}: the end of ${name} not found`);
  const source = html.slice(start, end + indent.length + 2);
  const sandbox: Record<string, unknown> = { ...context };
  vm.runInNewContext(`${source}\nthis.fn = ${name};`, sandbox);
  return sandbox.fn as T;
}

/** Text a user may type into a key-list field: names, commas, spaces, tabs, newlines, repeats. */
const keyText = fc
  .array(fc.oneof(fc.constantFrom("dispatcher", "fvTenant", "faultInst", "a", "b.c", "x-y", "PhoneStatus"), fc.string({ maxLength: 6 })), { maxLength: 8 })
  .chain((words) =>
    fc
      .array(fc.constantFrom(",", " ", ", ", "\n", "\t", ",,", "  "), { minLength: words.length, maxLength: words.length })
      .map((seps) => words.map((w, i) => w + seps[i]).join("")),
  );

describe("editor and runtime read key lists the same way", () => {
  for (const [file, name] of [
    ["amqp1-events.html", "keyList"],
    ["sysadm-events.html", "keyList"],
    ["apic-events.html", "classList"],
  ] as const) {
    it(`${file}: ${name} gives parseKeyList's keys, in order, without repeats`, () => {
      const editor = editorFunction<(s: unknown) => string[]>(file, name);
      let nonEmpty = 0;
      fc.assert(
        fc.property(keyText, (text) => {
          const runtime = parseKeyList(text);
          if (runtime.length > 0) nonEmpty++;
          assert.deepEqual([...editor(text)], runtime);
        }),
        { numRuns: 500 },
      );
      assert.ok(nonEmpty > 100, "the generator makes real lists");
      assert.deepEqual([...editor(undefined)], parseKeyList(undefined));
    });
  }

  it("apic-events.html: the editor's port count is the runtime router's, in every routing mode", () => {
    const outputCount = editorFunction<(routing: string, classes: string) => number>("apic-events.html", "outputCount", {
      STATUS_OUTPUTS: [...STATUS_OUTPUTS],
      classList: editorFunction("apic-events.html", "classList"),
    });
    fc.assert(
      fc.property(fc.constantFrom("single", "status", "class"), keyText, (routing, classes) => {
        assert.equal(outputCount(routing, classes), routerFor(routing, classes).outputs);
      }),
      { numRuns: 300 },
    );
  });
});
