#!/usr/bin/env node
"use strict";
// `npm run bench`: runs every bench/*.ts (or the ones named) one after the other through tsx.
// Each script prints its own figures next to a baseline measured in the same run.
// Arguments starting with "--" (and the value after each) are passed on to the scripts:
// `npm run bench -- flow-control --seconds 30 --channel nso`.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const dir = path.join(root, "bench");
const args = process.argv.slice(2);
const wanted = [];
const passOn = [];
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith("--")) {
    passOn.push(args[i]);
    if (i + 1 < args.length && !args[i + 1].startsWith("--")) passOn.push(args[++i]);
  } else wanted.push(args[i]);
}
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
// The whole suite stays bounded: flow-control's cells run 120 s each (19 cells) when asked for
// by name, 15 s each in a run of every bench unless FLOW_BENCH_SECONDS says otherwise.
const env = { ...process.env };
if (wanted.length === 0 && !env.FLOW_BENCH_SECONDS) env.FLOW_BENCH_SECONDS = "15";
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", path.join(dir, f), ...passOn], { stdio: "inherit", cwd: root, env });
  if (r.status !== 0) {
    failed++;
    console.log(`!!! ${f} exited with ${r.status ?? r.signal}`);
  }
}
process.exitCode = failed ? 1 : 0;
