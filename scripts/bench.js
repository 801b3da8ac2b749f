#!/usr/bin/env node
"use strict";
// `npm run bench`: runs every bench/*.ts (or the ones named) one after the other through tsx.
// Each script prints its own figures next to a baseline measured in the same run.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const dir = path.join(root, "bench");
const wanted = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", path.join(dir, f)], { stdio: "inherit", cwd: root });
  if (r.status !== 0) {
    failed++;
    console.log(`!!! ${f} exited with ${r.status ?? r.signal}`);
  }
}
process.exitCode = failed ? 1 : 0;
