#!/usr/bin/env node
"use strict";
// The build's second half (`npm run build`: tsc, then this): Node-RED reads each node's editor
// page, messages and icons from beside its .js, so the hand-written ones under src/ go to the same
// place under dist/ that tsc gives the compiled code. Copies every file under src/ that is not
// TypeScript; a new asset needs no entry here.
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const src = path.join(root, "src");
const dist = path.join(root, "dist");

function copyAssets(from, to) {
  let n = 0;
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, e.name);
    const b = path.join(to, e.name);
    if (e.isDirectory()) n += copyAssets(a, b);
    else if (e.isFile() && !e.name.endsWith(".ts")) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(a, b);
      n++;
    }
  }
  return n;
}

// To stderr: stdout belongs to whoever ran the build (npm pack --json prints its JSON there).
process.stderr.write(`copy-assets: ${copyAssets(src, dist)} files from src/ to dist/\n`);
