#!/usr/bin/env node
"use strict";
// `npm test`'s runner: the whole suite on this Node (20) + the devDependency Node-RED (4.1), then
// the tests that touch Node-RED — node tests, pack-and-install, the health endpoint, editor in Chromium — on Node 22 +
// Node-RED 5 (installed into ~/.cache/infra-events-nr5 by scripts/node22-env.js). Each run prints its own
// "[Node v… + Node-RED …] N passing, N failing, N pending" line; the last line is the total,
// "tests: N passed, N failed, N skipped". Exit 0 only when both runs ran tests and none failed:
// a Node 22 + Node-RED 5 runtime that cannot be installed is a failure, never a silent pass.
//
//   node scripts/run-matrix.js            both runs
//   node scripts/run-matrix.js --nr5-only only the Node 22 + Node-RED 5 run
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { ensureNr5Env, cacheDir } = require("./node22-env");

const root = path.resolve(__dirname, "..");
const runTests = path.join(__dirname, "run-tests.js");
// The health endpoint test: adminAuth and the plugin's routes on the admin API are Node-RED's, and
// differ between majors as much as anything the node tests touch.
const NR5_TARGETS = ["test/nodes", "test/integration/pack-install.test.ts", "test/integration/health-endpoint.test.ts"];
// The demo and the browser tests start their own Node-RED runtime in the test process: they run in a
// process of their own, so no state a node test left in the runtime singletons (hooks, flow
// events) can reach them.
const OWN_PROCESS = ["test/integration/demo.test.ts", "test/e2e"];
const integrationRest = fs
  .readdirSync(path.join(root, "test", "integration"))
  .filter((f) => f.endsWith(".test.ts") && !OWN_PROCESS.includes(`test/integration/${f}`))
  .map((f) => `test/integration/${f}`);
const NR4_TARGETS = ["test/unit", "test/nodes", ...integrationRest];
const nr5Only = process.argv.includes("--nr5-only");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ie-matrix-"));

/** Runs scripts/run-tests.js under `node` with `env`; its counts come back through a JSON file. */
function run(name, node, args, env) {
  const summaryFile = path.join(tmp, `${name}.json`);
  const t0 = Date.now();
  const base = { ...process.env };
  delete base.INFRA_EVENTS_NODE_RED; // each run says which Node-RED it wants
  const r = spawnSync(node, [runTests, ...args], { cwd: root, stdio: "inherit", env: { ...base, ...env, INFRA_EVENTS_SUMMARY_FILE: summaryFile } });
  const seconds = Math.round((Date.now() - t0) / 1000);
  let s;
  try {
    s = JSON.parse(fs.readFileSync(summaryFile, "utf8"));
  } catch {
    // No summary: the runner died before reporting (signal, crash). Count it as a failure.
    return {
      label: name,
      passes: 0,
      failures: 1,
      pending: 0,
      seconds,
      note: `runner ended without a summary (exit ${r.status ?? r.signal ?? r.error?.message})`,
    };
  }
  return { ...s, seconds, note: r.status === 0 ? "" : `exit ${r.status}` };
}

const results = [];
let nr5;
let nr5Error;
const t0 = Date.now();
try {
  nr5 = ensureNr5Env();
  console.log(
    `nr5 runtime: Node ${nr5.nodeVersion}, Node-RED ${nr5.nodeRedVersion} in ${path.relative(root, cacheDir)} (${nr5.reused ? "cached" : "installed"}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
} catch (e) {
  nr5Error = e.message;
  console.log(`nr5 runtime: ${nr5Error}`);
}

if (!nr5Only) {
  results.push(run("node20-nr4", process.execPath, NR4_TARGETS, {}));
  results.push(run("node20-nr4-runtime", process.execPath, OWN_PROCESS, {}));
}
if (nr5) {
  console.log(`\n=== ${NR5_TARGETS.join(", ")} on Node ${nr5.nodeVersion} + Node-RED ${nr5.nodeRedVersion} ===`);
  results.push(run("node22-nr5", nr5.nodeBin, NR5_TARGETS, { INFRA_EVENTS_NODE_RED: nr5.nodeRedDir }));
  results.push(run("node22-nr5-browser", nr5.nodeBin, ["test/e2e"], { INFRA_EVENTS_NODE_RED: nr5.nodeRedDir }));
} else {
  results.push({ label: "Node 22 + Node-RED 5", passes: 0, failures: 1, pending: 0, seconds: 0, note: `not run: ${nr5Error.split("\n")[0]}` });
}
fs.rmSync(tmp, { recursive: true, force: true });

console.log("");
for (const r of results) {
  console.log(`[${r.label}] ${r.passes} passing, ${r.failures} failing, ${r.pending} pending in ${r.seconds} s${r.note ? ` (${r.note})` : ""}`);
}
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
console.log(`tests: ${sum("passes")} passed, ${sum("failures")} failed, ${sum("pending")} skipped`);
const bad = results.some((r) => r.failures > 0 || r.passes === 0 || r.note);
process.exit(bad ? 1 : 0);
