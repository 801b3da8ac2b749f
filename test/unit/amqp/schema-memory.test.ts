import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

interface Heap {
  top: number;
  bytes: number;
  compiles: number;
}

describe("amqp schema validator: WASM memory", function () {
  this.timeout(120000);

  it("does not grow over 200 schema reloads (50 of them to a broken schema) and 200 validators closed", async () => {
    // A child process: its libxml2 instance is fresh and its heap is read from outside the API.
    const probe = path.join(__dirname, "support", "schema-memory-probe.ts");
    const { stdout } = await run(process.execPath, ["--import", pathToFileURL(require.resolve("tsx")).href, probe, "200"], { timeout: 100000 });
    const { before, after, checks } = JSON.parse(stdout.trim().split("\n").pop()!) as { before: Heap; after: Heap; checks: number };
    assert.equal(after.compiles - before.compiles, 200, "one compile per changed round");
    assert.equal(checks, 20 + 2000 + 200 + 200 + 2000);
    // One leaked compiled set is ~20 KiB and one leaked event ~2 KiB: 200 rounds of either would
    // move the top by MiBs. The slack allows for the allocator's own bookkeeping only.
    assert.ok(
      after.top - before.top <= 64 * 1024,
      `heap top moved by ${after.top - before.top} bytes (before ${JSON.stringify(before)}, after ${JSON.stringify(after)})`,
    );
    assert.equal(after.bytes, before.bytes, "WASM memory grew");
  });
});
