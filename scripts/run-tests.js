#!/usr/bin/env node
"use strict";
// Runs every test/**/*.test.ts (or the files/folders given as arguments) with mocha, TypeScript
// loaded through tsx, and ends with one summary line: "tests: N passed, N failed, N skipped".
// Exit code: 0 only when nothing failed and at least one test ran.
// The Node-RED under test is test/support/node-red-path.ts's choice (INFRA_EVENTS_NODE_RED); the
// Node.js is the one running this script. When scripts/run-matrix.js runs it, it sets
// INFRA_EVENTS_SUMMARY_FILE: the counts go there as JSON and the closing line names the runtime
// instead of being a "tests:" line, so that only the matrix's total is read as the closing line.
const path = require("node:path");
const fs = require("node:fs");
const { register } = require("tsx/cjs/api");

register();
const { Mocha } = require("mocha");

const root = path.resolve(__dirname, "..");
const { runtimeLabel, nodeRedDir } = require("../test/support/node-red-path.ts");
if (process.env.INFRA_EVENTS_NODE_RED) redirectNodeRedRequires(path.dirname(nodeRedDir));
console.log(`runtime: ${runtimeLabel} (${path.relative(root, nodeRedDir)})`);
const summaryFile = process.env.INFRA_EVENTS_SUMMARY_FILE;
const args = process.argv.slice(2);
const grepIdx = args.indexOf("--grep");
let grep;
if (grepIdx >= 0) {
  grep = args[grepIdx + 1];
  args.splice(grepIdx, 2);
}
const targets = args.length ? args : ["test"];

function collect(p, out) {
  const abs = path.resolve(root, p);
  const st = fs.statSync(abs);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(abs).sort()) {
      if (e === "support" || e === "fixtures") continue;
      collect(path.join(abs, e), out);
    }
  } else if (abs.endsWith(".test.ts")) out.push(abs);
}

const files = [];
for (const t of targets) collect(t, files);
// Browser and packaging tests are the slowest: run them last so a broken unit shows first.
const weight = (f) => (f.includes(`${path.sep}e2e${path.sep}`) ? 2 : f.includes(`${path.sep}integration${path.sep}`) ? 1 : 0);
files.sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));

const mocha = new Mocha({ timeout: 20000, reporter: "spec", grep });
for (const f of files) mocha.addFile(f);

/**
 * With another Node-RED selected, a bare require of node-red or @node-red/* from outside that
 * runtime's own tree resolves into it. Why: node-red-node-test-helper's constructor loads
 * require.resolve("node-red") (this repository's 4.1) before a test's helper.init(path) picks
 * the selected one.
 */
function redirectNodeRedRequires(nodeModules) {
  const Module = require("node:module");
  const inner = Module._resolveFilename;
  const tree = nodeModules + path.sep;
  Module._resolveFilename = function (request, parent, isMain, options) {
    const bare = request === "node-red" || request.startsWith("node-red/") || request.startsWith("@node-red/");
    if (bare && !(parent && parent.filename && parent.filename.startsWith(tree))) {
      return inner.call(this, request, parent, isMain, { ...options, paths: [nodeModules] });
    }
    return inner.call(this, request, parent, isMain, options);
  };
}

/**
 * With another Node-RED selected, a module loaded from this repository's own node-red (4.1) tree
 * means a test mixed the two runtimes: what it tested was not (only) the selected one.
 */
function mixedRuntimeModules() {
  if (!process.env.INFRA_EVENTS_NODE_RED) return [];
  const own = [path.join(root, "node_modules", "node-red") + path.sep, path.join(root, "node_modules", "@node-red") + path.sep];
  return Object.keys(require.cache).filter((f) => own.some((p) => f.startsWith(p)));
}

function report(s) {
  if (summaryFile) {
    fs.writeFileSync(summaryFile, JSON.stringify({ label: runtimeLabel, passes: s.passes, failures: s.failures, pending: s.pending }));
    console.log(`[${runtimeLabel}] ${s.passes} passing, ${s.failures} failing, ${s.pending} pending`);
  } else {
    console.log(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
  }
}

mocha
  .loadFilesAsync()
  .then(() => {
    const runner = mocha.run((failures) => {
      const s = { ...(runner.stats || { passes: 0, failures, pending: 0 }) };
      const mixed = mixedRuntimeModules();
      if (mixed.length) {
        console.log(`Modules of this repository's own Node-RED were loaded in a run against ${runtimeLabel}:\n  ${mixed.slice(0, 20).join("\n  ")}`);
        s.failures += 1;
      }
      report(s);
      process.exitCode = s.failures > 0 || s.passes === 0 ? 1 : 0;
      // Open handles left by a test must not hang CI; the summary above is already printed.
      setTimeout(() => process.exit(process.exitCode), 2000).unref();
    });
  })
  .catch((e) => {
    console.error(e);
    report({ passes: 0, failures: 1, pending: 0 });
    process.exit(1);
  });
