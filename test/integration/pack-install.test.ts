import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { builtinModules } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { nodeRedVersion } from "../support/node-red-path";
import { EmbeddedNodeRed, getJson, LogEntry, makeUserDir, seedFlow, SeedType, startNodeRed, TypeInfo } from "../support/nodered-embed";

// Pack-and-install: what a user gets from `npm install node-red-contrib-infra-events`.
// `npm pack` the package (build output must exist: `npm test` builds first), install the tarball
// into a fresh Node-RED user dir, start Node-RED on it (the one test/support/node-red-path.ts
// selects: 4.1, or 5 on Node 22 in the matrix run) and ask the runtime's registry whether every
// type listed in package.json loaded. Types come from package.json, never from a list here;
// INFRA_EVENTS_PKG_ROOT points the suite at another package root.

const execFileP = promisify(execFile);
const repoRoot = path.resolve(__dirname, "../..");
const pkgRoot = path.resolve(process.env.INFRA_EVENTS_PKG_ROOT || repoRoot);
const pkg = JSON.parse(fs.readFileSync(path.join(pkgRoot, "package.json"), "utf8")) as {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  "node-red": { nodes: Record<string, string>; plugins?: Record<string, string> };
};
const entries = Object.entries(pkg["node-red"].nodes);
const exampleNames = fs.existsSync(path.join(pkgRoot, "examples"))
  ? fs
      .readdirSync(path.join(pkgRoot, "examples"))
      .filter((f) => f.endsWith(".json"))
      .sort()
  : [];

// Editor definitions (from each built dist/nodes/<type>.html) give the seed flow its property values.

const scorecard = require(path.join(repoRoot, "scripts/scorecard.js")) as { loadPackage(root: string): { nodes: SeedType[] } };
const seedTypes = scorecard.loadPackage(pkgRoot).nodes;
const idOf = (type: string) => `ie-pack-${type}`;

// Paths a user never needs; their presence means `files` in package.json leaks sources or dev tooling.
const FORBIDDEN = [/^src\//, /^test\//, /^\.ci\//, /^node_modules\//, /^bench\//, /^scripts\//, /^artifacts\//, /^\.demo\//, /\.ts$/, /\.tgz$/, /^tsconfig/];
// Types the editor writes into flows that are not node types.
const FLOW_STRUCTURE = /^(tab|subflow|group|junction|subflow:.+)$/;

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string }>;
}

describe(`pack and install into a fresh Node-RED ${nodeRedVersion} on Node ${process.version}`, function () {
  let tmp: string;
  let userDir: string;
  let packed: PackResult;
  let nr: EmbeddedNodeRed | undefined;
  let typeInfo: Record<string, TypeInfo> = {};
  let running: Record<string, boolean> = {};
  let logs: LogEntry[] = [];

  before(async function () {
    // npm install fetches the runtime dependencies from the npm cache or registry.
    this.timeout(240000);
    const missing = entries.map(([, js]) => js).filter((js) => !fs.existsSync(path.join(pkgRoot, js)));
    if (missing.length) {
      throw new Error(`built node files missing: ${missing.join(", ")} — run \`npm run build\` first (npm test does)`);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ie-pack-"));
    // --ignore-scripts: `prepare` would rebuild the whole tree; the build is npm test's job.
    const { stdout } = await execFileP("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], {
      cwd: pkgRoot,
      maxBuffer: 64 * 1024 * 1024,
    });
    // npm may run `prepare` even so, and a script's own output lands before the JSON.
    packed = (JSON.parse(stdout.slice(stdout.indexOf("[\n"))) as PackResult[])[0];
    userDir = makeUserDir("ie-pack-user-");
    const t0 = Date.now();
    await execFileP("npm", ["install", path.join(tmp, packed.filename), "--no-audit", "--no-fund", "--prefer-offline", "--omit=dev", "--loglevel=error"], {
      cwd: userDir,
      maxBuffer: 64 * 1024 * 1024,
    });
    const installMs = Date.now() - t0;
    // A figure for the README, not a timed assertion.
    console.log(
      `      pack: ${packed.filename} ${(packed.size / 1024).toFixed(0)} KiB (${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ` +
        `${packed.files.length} files); npm install into a fresh user dir: ${(installMs / 1000).toFixed(1)} s`,
    );
    // One live node of every type on an enabled tab: the runtime runs every constructor. Nodes
    // keep their default settings, so they may try to reach servers that are not there; that
    // must cost a status and a retry, never a crash.
    nr = await startNodeRed({ userDir, flows: seedFlow(seedTypes, { tabId: "ie-pack-tab", disabled: false, idOf }) });
    typeInfo = await nr.typeInfo(entries.map(([t]) => t));
    running = await nr.running(entries.map(([t]) => idOf(t)));
    logs = await nr.logs();
  });

  after(async function () {
    this.timeout(20000);
    if (nr) await nr.stop();
    if (process.env.INFRA_EVENTS_KEEP_TMP !== "1") {
      for (const d of [tmp, userDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it(`the runtime started is the selected one (Node-RED ${nodeRedVersion}, Node ${process.version})`, () => {
    // RED.version() adds "-git" when a .git sits four levels above @node-red/runtime/lib, as
    // this repository's own does above node_modules.
    const started = nr?.versions && { ...nr.versions, nodeRed: nr.versions.nodeRed.replace(/-git$/, "") };
    assert.deepEqual(started, { node: process.version, nodeRed: nodeRedVersion });
  });

  it("tarball holds no sources, tests, CI files or node_modules", () => {
    const leaked = packed.files.map((f) => f.path).filter((p) => FORBIDDEN.some((re) => re.test(p)) && !p.endsWith(".d.ts"));
    assert.deepEqual(leaked, [], `files a user does not need: ${leaked.join(", ")}`);
  });

  it("tarball holds README, LICENSE, package.json and every example", () => {
    const have = new Set(packed.files.map((f) => f.path));
    const need = ["package.json", "README.md", "LICENSE", ...exampleNames.map((e) => `examples/${e}`)];
    assert.ok(exampleNames.length > 0, "the package has no examples/*.json");
    assert.deepEqual(
      need.filter((p) => !have.has(p)),
      [],
    );
  });

  it("tarball's file list is exactly what the sources build plus the hand-written files a user needs", () => {
    // Derived from the tree, never listed by hand: each src/<dir>/**/*.ts ships as dist/<dir>/**/*.js,
    // the editor files, icons and locales beside them (src/nodes, src/plugins -> dist/), the examples,
    // the simulator launcher and the package's papers as they are.
    const walk = (dir: string): string[] =>
      fs.existsSync(path.join(pkgRoot, dir))
        ? fs.readdirSync(path.join(pkgRoot, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`]))
        : [];
    const want = new Set<string>([
      ...walk("src")
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
        .map((f) => f.replace(/^src\//, "dist/").replace(/\.ts$/, ".js")),
      // The nodes' and the editor plugin's pages, messages and icons (package.json node-red.nodes, .plugins).
      ...walk("src")
        .filter((f) => /^src\/(nodes|plugins)\/([^/]+\.html$|icons\/|locales\/)/.test(f))
        .map((f) => f.replace(/^src\//, "dist/")),
      ...walk("examples").filter((f) => f.endsWith(".json")),
      ...walk("bin"),
      "package.json",
      "README.md",
      "CHANGELOG.md",
      "LICENSE",
    ]);
    const have = new Set(packed.files.map((f) => f.path));
    assert.deepEqual([...want].filter((f) => !have.has(f)).sort(), [], "missing from the tarball");
    assert.deepEqual([...have].filter((f) => !want.has(f)).sort(), [], "in the tarball but not built from src/ nor hand-written for users");
  });

  describe("tarball holds each node's runtime, editor and locale files", () => {
    for (const [type, js] of entries) {
      it(type, () => {
        const have = new Set(packed.files.map((f) => f.path));
        const dir = path.posix.dirname(js);
        const base = path.posix.basename(js).replace(/\.c?js$/, "");
        const need = [js, `${dir}/${base}.html`, `${dir}/locales/en-US/${base}.json`];
        assert.deepEqual(
          need.filter((p) => !have.has(p)),
          [],
        );
      });
    }
  });

  it("shipped code requires only Node built-ins, its own files and packages a user install gets", () => {
    // A require of a devDependency (or an undeclared package) works in the working tree and
    // fails for a user; lazy requires inside functions would not show at load time.
    const installed = path.join(userDir, "node_modules", pkg.name);
    // Optional and peer dependencies count: a lazy require of those is a documented choice.
    const declared = new Set([pkg.dependencies, pkg.optionalDependencies, pkg.peerDependencies].flatMap((d) => Object.keys(d ?? {})));
    const problems: string[] = [];
    for (const f of packed.files.map((x) => x.path).filter((p) => /\.c?js$/.test(p))) {
      const code = fs.readFileSync(path.join(installed, f), "utf8");
      for (const m of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)|\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec.split("/")[0])) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (!declared.has(name)) problems.push(`${f}: ${spec}`);
      }
    }
    assert.deepEqual(problems, [], "requires of packages a user's install does not get (not in dependencies, optionalDependencies or peerDependencies)");
  });

  it("Node-RED loads the installed copy, not the working tree", async () => {
    const mod = await getJson<{ name: string; path: string; nodes: unknown[] }>(`${nr!.url}nodes/${pkg.name}`);
    assert.equal(mod.name, pkg.name);
    assert.equal(fs.realpathSync(mod.path), fs.realpathSync(path.join(userDir, "node_modules", pkg.name)));
    assert.equal(mod.nodes.length, entries.length);
  });

  describe("every node type registers without a load error", () => {
    for (const [type] of entries) {
      it(type, () => {
        const t = typeInfo[type];
        assert.ok(t && t.info, `${type} is not in the runtime's node registry. Runtime output:\n${nr?.output()}`);
        assert.equal(t.info.err, undefined, `${type} failed to load: ${String(t.info.err)}`);
        assert.equal(t.info.module, pkg.name);
        assert.equal(t.info.enabled, true, `${type} is not enabled`);
        assert.equal(t.info.loaded, true, `${type} is not loaded`);
        assert.equal(t.constructor, true, `${type}: the editor file declares it but the .js never called RED.nodes.registerType('${type}', …)`);
      });
    }
  });

  it("the seed flow with one node of every type starts", () => {
    assert.equal(nr?.flowState, "started", `flows did not start: ${nr?.flowState}`);
  });

  describe("every node type starts in a deployed flow (constructor ran without throwing)", () => {
    for (const [type] of entries) {
      it(type, () => {
        const t = seedTypes.find((x) => x.type === type);
        assert.ok(t?.def, `${type}: no editor definition to seed it from (dist/nodes/${type}.html missing or broken)`);
        assert.equal(running[idOf(type)], true, `${type} did not start. Runtime output:\n${nr?.output()}`);
      });
    }
  });

  describe("no node logs a programming error while starting", () => {
    // Unconfigured nodes may rightly complain ("no controller address"); a TypeError is a bug.
    const BUG =
      /\b(TypeError|ReferenceError|SyntaxError)\b|Cannot read propert|Cannot set propert|is not a function|is not defined|is not iterable|Maximum call stack/;
    for (const [type] of entries) {
      it(type, () => {
        const bugs = logs.filter((l) => l.type === type && BUG.test(l.msg)).map((l) => l.msg);
        assert.deepEqual(bugs, []);
      });
    }
  });

  it("loads the editor plugin (the infra events sidebar) and serves its health figures", async () => {
    const plugins = pkg["node-red"].plugins ?? {};
    assert.ok(Object.keys(plugins).length > 0, "package.json declares no node-red.plugins");
    // The admin API's plugin list (what the editor loads): each of ours enabled, without a load error.
    const listed = await getJson<Array<{ id: string; module: string; enabled?: boolean; err?: unknown }>>(`${nr!.url}plugins`);
    for (const name of Object.keys(plugins)) {
      const p = listed.find((x) => x.id === `${pkg.name}/${name}`);
      assert.ok(p, `plugin ${name} is not in the runtime's plugin list: ${JSON.stringify(listed.map((x) => x.id))}`);
      assert.equal(p.err, undefined, `plugin ${name} failed to load: ${String(p.err)}`);
      assert.equal(p.enabled, true);
    }
    // Its runtime half: a card for each seeded config node whose default settings make a
    // connection (an nso-server's always do; one without credentials has nothing to connect).
    const health = await getJson<{ connections: Array<{ type: string }> }>(`${nr!.url}infra-events/health`);
    const configTypes = seedTypes.filter((t) => t.def?.category === "config").map((t) => t.type);
    const shown = health.connections.map((c) => c.type);
    assert.ok(shown.includes("nso-server"), `cards: ${JSON.stringify(shown)}`);
    assert.deepEqual(
      shown.filter((t) => !configTypes.includes(t)),
      [],
    );
  });

  it("lists the module's examples under Import > Examples", async () => {
    const modules = await getJson<string[]>(`${nr!.url}library/examples/flows`);
    assert.ok(modules.includes(pkg.name), `examples library lists ${JSON.stringify(modules)}`);
    // Entries are sub-folder names (strings) and flows ({fn}); ours are flat.
    const listing = await getJson<Array<string | { fn: string }>>(`${nr!.url}library/examples/flows/${pkg.name}`);
    const flows = listing.filter((x): x is { fn: string } => typeof x === "object").map((x) => x.fn);
    assert.deepEqual(flows.sort(), exampleNames.map((e) => e.replace(/\.json$/, "")).sort());
  });

  it("serves every example and each uses only node types the runtime knows", async () => {
    const all = await getJson<Array<{ types: string[] }>>(`${nr!.url}nodes`);
    const known = new Set(all.flatMap((s) => s.types));
    const problems: string[] = [];
    for (const e of exampleNames) {
      const flow = await getJson<Array<{ type: string }>>(`${nr!.url}library/examples/flows/${pkg.name}/${e.replace(/\.json$/, "")}`);
      assert.ok(Array.isArray(flow), `${e} is not a flow array`);
      const unknown = [...new Set(flow.map((n) => n.type))].filter((t) => !FLOW_STRUCTURE.test(t) && !known.has(t));
      if (unknown.length) problems.push(`${e}: ${unknown.join(", ")}`);
    }
    assert.deepEqual(problems, [], "examples use types that neither Node-RED core nor this package provides");
  });
});
