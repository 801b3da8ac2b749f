import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The embedded Node-RED the node benches measure in: the runtime in this process (so the
 * simulator, the nodes and the sink share one core and one clock), our node types loaded
 * from src/nodes/*.ts through tsx, plus bench-only nodes (a counting sink, a source for
 * Node-RED's own ceiling) written by the bench. No editor or HTTP endpoints are served.
 */
const root = join(__dirname, "..", "..");

/** Bench-only node types: `<name>.js` (a Node-RED module) and `<name>.html` (their registration). */
export interface BenchNodeSet {
  name: string;
  js: string;
  html: string;
}

export interface EmbeddedRedOptions {
  /** Prefix of the temp dirs: "<prefix>-nodes-…" and "<prefix>-user-…". */
  prefix: string;
  /** Our node types to load (src/nodes/<type>.ts). */
  types: string[];
  bench?: BenchNodeSet;
  flows: unknown[];
  /** Node credentials by node id (flows_cred.json, unencrypted). */
  credentials?: Record<string, Record<string, string>>;
  /** Runtime settings over the defaults below (e.g. `logging`). */
  settings?: Record<string, unknown>;
}

export interface EmbeddedRed {
  // Node-RED ships no types for its embedding API.

  RED: any;
  /** RED.stop(), then the temp dirs go. */
  stop(): Promise<void>;
}

/** A node dir the runtime can load: thin .js shims that require our .ts sources through tsx. */
function nodesDir(o: EmbeddedRedOptions): string {
  const dir = mkdtempSync(join(tmpdir(), `${o.prefix}-nodes-`));
  for (const t of o.types) {
    writeFileSync(join(dir, `${t}.js`), `module.exports = require(${JSON.stringify(join(root, "src", "nodes", `${t}.ts`))});\n`);
    cpSync(join(root, "src", "nodes", `${t}.html`), join(dir, `${t}.html`));
  }
  cpSync(join(root, "src", "nodes", "locales"), join(dir, "locales"), { recursive: true });
  cpSync(join(root, "src", "nodes", "icons"), join(dir, "icons"), { recursive: true });
  if (o.bench) {
    writeFileSync(join(dir, `${o.bench.name}.js`), o.bench.js);
    writeFileSync(join(dir, `${o.bench.name}.html`), o.bench.html);
  }
  return dir;
}

/** Writes the flow (and credentials) into a fresh user dir and starts the runtime on it. */
export async function startEmbeddedRed(o: EmbeddedRedOptions): Promise<EmbeddedRed> {
  const dir = nodesDir(o);
  const userDir = mkdtempSync(join(tmpdir(), `${o.prefix}-user-`));
  writeFileSync(join(userDir, "flows.json"), JSON.stringify(o.flows));
  if (o.credentials) writeFileSync(join(userDir, "flows_cred.json"), JSON.stringify(o.credentials));

  const RED = require("node-red");
  const server = http.createServer();
  RED.init(server, {
    userDir,
    nodesDir: [dir],
    flowFile: "flows.json",
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    logging: { console: { level: "warn" } },
    editorTheme: { tours: false },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    ...o.settings,
  });
  await RED.start();
  return {
    RED,
    stop: async () => {
      await RED.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
