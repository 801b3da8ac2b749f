#!/usr/bin/env node
"use strict";
// Runs every test/**/*.test.ts (or the files/folders given as arguments) with mocha, TypeScript
// loaded through tsx, and ends with one summary line: "tests: N passed, N failed, N skipped".
// Exit code: 0 only when nothing failed and at least one test ran.
const path = require("node:path");
const fs = require("node:fs");
const { register } = require("tsx/cjs/api");

register();
const { Mocha } = require("mocha");

const root = path.resolve(__dirname, "..");
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

mocha.loadFilesAsync().then(() => {
  const runner = mocha.run((failures) => {
    const s = runner.stats || { passes: 0, failures, pending: 0 };
    console.log(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
    process.exitCode = failures > 0 || s.passes === 0 ? 1 : 0;
    // Open handles left by a test must not hang CI; the summary above is already printed.
    setTimeout(() => process.exit(process.exitCode), 2000).unref();
  });
}).catch((e) => {
  console.error(e);
  console.log("tests: 0 passed, 1 failed, 0 skipped");
  process.exit(1);
});
