/**
 * Starts a real Node-RED runtime (by default the one test/support/node-red-path.ts selects: 4.1,
 * or 5 in the Node 22 matrix run) (RED.init + RED.start, editor and admin API on an express
 * app) with a given user dir, listening on 127.0.0.1 port 0, and returns its URL and stop().
 *
 * The runtime runs in a child process (this same file, forked through tsx). Why not in-process:
 * `require("node-red")` is a process-wide singleton that its own docs say must not be restarted
 * after stop(), and node-red-node-test-helper (used by the node tests in the same mocha run)
 * re-initialises that same singleton and installs sinon spies on Node.prototype. A child gives
 * every test a clean runtime and lets a test load the package from a different place (a packed
 * tarball installed in a temp user dir) than the one the test files import.
 */
import { ChildProcess, fork } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { nodeRedPath as selectedNodeRedPath } from "./node-red-path";

export interface EmbedOptions {
  /** Node-RED user dir (must exist). Its node_modules is scanned for node modules. */
  userDir: string;
  /** Written to <userDir>/flows.json before start when given. */
  flows?: unknown[];
  /** Node credentials by node id, written to <userDir>/flows_cred.json (unencrypted: credentialSecret is false). */
  credentials?: Record<string, Record<string, string>>;
  /** Extra settings merged over the defaults below (must be JSON-serialisable). */
  settings?: Record<string, unknown>;
  /** Which node-red to run (its main file); default: test/support/node-red-path.ts's choice. */
  nodeRedPath?: string;
  /** Which node binary runs it; default: the one running this process. */
  nodeBinary?: string;
  /** Start timeout; default 30 s. */
  startTimeoutMs?: number;
}

export interface EmbeddedNodeRed {
  /** Editor / admin API root, e.g. "http://127.0.0.1:43117/" (ends in "/"). */
  url: string;
  userDir: string;
  /** What actually runs: process.version of the child and RED.version(). */
  versions: { node: string; nodeRed: string };
  /** Everything the runtime printed so far (for failure messages). */
  output(): string;
  /** "started" once the flows run, else the runtime's reason (e.g. "missing-types: a, b"). */
  flowState: string;
  /** Ask the runtime for the registry view of some node types (see TypeInfo). */
  typeInfo(types: string[]): Promise<Record<string, TypeInfo>>;
  /** Which of these node ids exist as live nodes (RED.nodes.getNode): a constructor that threw leaves none. */
  running(ids: string[]): Promise<Record<string, boolean>>;
  /** Every warn/error/fatal line logged since start, with the node type/id that logged it. */
  logs(): Promise<LogEntry[]>;
  /** RED.stop(), close the server, end the child; kills it if it does not exit in 10 s. */
  stop(): Promise<void>;
  /** The child's process id (a test that kills a Node-RED on purpose). */
  pid: number;
}

/** A warn-or-worse runtime log line, as Node-RED's logger saw it. */
export interface LogEntry {
  /** Node-RED log level: 10 fatal, 20 error, 30 warn. */
  level: number;
  /** Node type and id when a node logged it. */
  type?: string;
  id?: string;
  msg: string;
}

/** What the runtime's registry knows about a type. */
export interface TypeInfo {
  /** RED.nodes.getType(type) returned a constructor: the .js half registered it. */
  constructor: boolean;
  /** RED.nodes.getNodeInfo(type): set info incl. `err`, `enabled`, `loaded`, `module`. */
  info: { id?: string; module?: string; enabled?: boolean; loaded?: boolean; err?: unknown; types?: string[] } | null;
}

type ToChild =
  | { kind: "start"; options: Required<Omit<EmbedOptions, "flows" | "credentials" | "startTimeoutMs" | "nodeBinary">> }
  | { kind: "stop" }
  | { kind: "typeInfo"; seq: number; types: string[] }
  | { kind: "running"; seq: number; ids: string[] }
  | { kind: "logs"; seq: number };
type FromChild =
  | { kind: "ready"; port: number; flowState: string; node: string; nodeRed: string }
  | { kind: "failed"; error: string }
  | { kind: "typeInfo"; seq: number; result: Record<string, TypeInfo> }
  | { kind: "running"; seq: number; result: Record<string, boolean> }
  | { kind: "logs"; seq: number; result: LogEntry[] }
  | { kind: "stopped" };

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Settings every embedded runtime gets: quiet, no tours/telemetry prompts, local only. */
function baseSettings(userDir: string): Record<string, unknown> {
  return {
    userDir,
    flowFile: "flows.json",
    credentialSecret: false,
    httpAdminRoot: "/",
    httpNodeRoot: "/api",
    uiHost: "127.0.0.1",
    uiPort: 0,
    logging: { console: { level: "warn", metrics: false, audit: false } },
    // The welcome tour and the telemetry/update prompt would cover the workspace in the browser.
    editorTheme: { tours: false, palette: { catalogues: [] } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
  };
}

/** A node type and its editor definition (as scripts/scorecard.js reads it from the .html). */
export interface SeedType {
  type: string;
  def?: { category?: string; defaults?: Record<string, { value?: unknown; type?: string }>; outputs?: number };
}

/**
 * A flow with one node of every given type, on one tab: property values are the editor
 * defaults, and a property whose default names one of the given config types points at the
 * seeded node of that type (config nodes are global: no z). Types without a definition are left
 * out (the caller reports them).
 */
export function seedFlow(types: SeedType[], o: { tabId: string; disabled: boolean; idOf(type: string): string }): Array<Record<string, unknown>> {
  const configTypes = new Set(types.filter((t) => t.def?.category === "config").map((t) => t.type));
  const flow: Array<Record<string, unknown>> = [{ id: o.tabId, type: "tab", label: "infra events seed", disabled: o.disabled, info: "" }];
  let row = 0;
  for (const t of types) {
    if (!t.def) continue;
    const node: Record<string, unknown> = { id: o.idOf(t.type), type: t.type };
    for (const [prop, d] of Object.entries(t.def.defaults ?? {})) {
      if (d.type && configTypes.has(d.type)) node[prop] = o.idOf(d.type);
      else if (d.value !== undefined) node[prop] = d.value;
    }
    if (!configTypes.has(t.type)) {
      const outputs = Number((node.outputs as number | undefined) ?? t.def.outputs ?? 0);
      Object.assign(node, { z: o.tabId, x: 220 + 260 * (row % 3), y: 80 + 80 * Math.floor(row / 3), wires: Array.from({ length: outputs }, () => []) });
      row++;
    }
    flow.push(node);
  }
  return flow;
}

/** A fresh temp user dir with a package.json, as `node-red` creates on first run. */
export function makeUserDir(prefix = "ie-nodered-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "node-red-project", private: true, version: "0.0.1", dependencies: {} }, null, 2));
  return dir;
}

/**
 * Makes the package at `pkgRoot` visible to Node-RED in `userDir` the way `npm install <folder>`
 * does: a symlink in node_modules plus a dependency entry in the user dir's package.json.
 */
export function linkPackage(userDir: string, pkgRoot: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgRoot, "package.json"), "utf8")) as { name: string };
  const link = path.join(userDir, "node_modules", pkg.name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(pkgRoot, link, "dir");
  const upj = path.join(userDir, "package.json");
  const user = JSON.parse(fs.readFileSync(upj, "utf8")) as { dependencies?: Record<string, string> };
  user.dependencies = { ...user.dependencies, [pkg.name]: `file:${pkgRoot}` };
  fs.writeFileSync(upj, JSON.stringify(user, null, 2));
  return link;
}

export async function startNodeRed(opts: EmbedOptions): Promise<EmbeddedNodeRed> {
  if (!fs.statSync(opts.userDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`userDir ${opts.userDir} is not a directory`);
  if (opts.flows) fs.writeFileSync(path.join(opts.userDir, "flows.json"), JSON.stringify(opts.flows, null, 2));
  if (opts.credentials) fs.writeFileSync(path.join(opts.userDir, "flows_cred.json"), JSON.stringify(opts.credentials, null, 2));
  const nodeRedPath = opts.nodeRedPath ?? selectedNodeRedPath;
  const child = fork(__filename, [], {
    execPath: opts.nodeBinary ?? process.execPath,
    execArgv: ["--import", pathToFileURL(require.resolve("tsx")).href],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, NODE_RED_EMBED_CHILD: "1" },
  });
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test that fails before stop() must not leave a runtime (and its port) behind.
    process.on("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => (live.delete(child), resolve(code))));

  const timeoutMs = opts.startTimeoutMs ?? 30000;
  const ready = await new Promise<{ port: number; flowState: string; node: string; nodeRed: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Node-RED did not start within ${timeoutMs} ms. Output:\n${out}`));
    }, timeoutMs);
    const onMsg = (m: FromChild) => {
      if (m.kind === "ready") {
        clearTimeout(timer);
        child.off("message", onMsg);
        resolve({ port: m.port, flowState: m.flowState, node: m.node, nodeRed: m.nodeRed });
      } else if (m.kind === "failed") {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`Node-RED failed to start: ${m.error}\nOutput:\n${out}`));
      }
    };
    child.on("message", onMsg);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Node-RED child exited (code ${code}) before it was ready. Output:\n${out}`));
    });
    const { userDir, settings = {} } = opts;
    send(child, { kind: "start", options: { userDir, settings, nodeRedPath } });
  });

  let seq = 0;
  let stopped: Promise<void> | undefined;
  // One request/answer round over IPC, matched by sequence number.
  const ask = <R>(req: ToChild & { seq: number }, what: string) =>
    new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: no answer from the Node-RED child in 5 s`)), 5000);
      const onMsg = (m: FromChild) => {
        if (m.kind === req.kind && "seq" in m && m.seq === req.seq) {
          clearTimeout(timer);
          child.off("message", onMsg);
          resolve((m as unknown as { result: R }).result);
        }
      };
      child.on("message", onMsg);
      send(child, req);
    });
  return {
    url: `http://127.0.0.1:${ready.port}/`,
    flowState: ready.flowState,
    userDir: opts.userDir,
    pid: child.pid!,
    versions: { node: ready.node, nodeRed: ready.nodeRed },
    output: () => out,
    typeInfo: (types) => ask<Record<string, TypeInfo>>({ kind: "typeInfo", seq: ++seq, types }, "typeInfo"),
    running: (ids) => ask<Record<string, boolean>>({ kind: "running", seq: ++seq, ids }, "running"),
    logs: () => ask<LogEntry[]>({ kind: "logs", seq: ++seq }, "logs"),
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        send(child, { kind: "stop" });
        const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

function send(child: ChildProcess, m: ToChild): void {
  if (child.connected) child.send(m);
}

/** GET a JSON document from the admin API (Accept: application/json). */
export function getJson<T = unknown>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: "application/json" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body.slice(0, 300)}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (e) {
          reject(new Error(`GET ${url}: not JSON (${(e as Error).message}): ${body.slice(0, 300)}`));
        }
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Child side: runs when this file is forked.

interface RedModule {
  version(): string;
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener;
  httpNode: http.RequestListener;
  events: NodeJS.EventEmitter;
  nodes: {
    getType(t: string): unknown;
    getNodeInfo(t: string): TypeInfo["info"];
    getNode(id: string): unknown;
  };
}

function runChild(): void {
  let red: RedModule | undefined;
  // Log lines arrive here synchronously (a custom Node-RED logger), unlike stdout, which may lag
  // behind an IPC answer.
  const captured: LogEntry[] = [];
  const capture = {
    level: "warn",
    handler: () => (m: { level: number; type?: string; id?: string; msg?: unknown }) => {
      const msg = m.msg instanceof Error ? (m.msg.stack ?? m.msg.message) : typeof m.msg === "string" ? m.msg : JSON.stringify(m.msg);
      captured.push({ level: m.level, type: m.type, id: m.id, msg });
    },
  };
  let server: http.Server | undefined;
  process.on("message", (m: ToChild) => {
    if (m.kind === "start") {
      start(m.options).catch((e: unknown) => {
        process.send?.({ kind: "failed", error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies FromChild);
      });
    } else if (m.kind === "typeInfo") {
      const result: Record<string, TypeInfo> = {};
      for (const t of m.types) {
        result[t] = { constructor: typeof red?.nodes.getType(t) === "function", info: red?.nodes.getNodeInfo(t) ?? null };
      }
      process.send?.({ kind: "typeInfo", seq: m.seq, result } satisfies FromChild);
    } else if (m.kind === "running") {
      const result: Record<string, boolean> = {};
      for (const id of m.ids) result[id] = !!red?.nodes.getNode(id);
      process.send?.({ kind: "running", seq: m.seq, result } satisfies FromChild);
    } else if (m.kind === "logs") {
      process.send?.({ kind: "logs", seq: m.seq, result: captured } satisfies FromChild);
    } else if (m.kind === "stop") {
      void (async () => {
        try {
          await red?.stop();
        } finally {
          server?.closeAllConnections();
          server?.close();
          process.send?.({ kind: "stopped" } satisfies FromChild, () => process.exit(0));
        }
      })();
    }
  });
  // The parent went away (crash, kill): do not linger.
  process.on("disconnect", () => process.exit(0));

  async function start(o: Required<Omit<EmbedOptions, "flows" | "credentials" | "startTimeoutMs" | "nodeBinary">>): Promise<void> {
    red = require(o.nodeRedPath) as RedModule;
    const express = require(require.resolve("express", { paths: [path.dirname(o.nodeRedPath)] })) as () => http.RequestListener & {
      use(p: string, h: http.RequestListener): void;
    };
    const app = express();
    server = http.createServer(app);
    const base = baseSettings(o.userDir);
    const logging = { ...(base.logging as object), ...((o.settings.logging as object | undefined) ?? {}), embedCapture: capture };
    red.init(server, { ...base, ...o.settings, logging });
    app.use("/", red.httpAdmin);
    app.use("/api", red.httpNode);
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(0, "127.0.0.1", () => resolve());
    });
    // RED.start() resolves before the flows run (it starts them without waiting): report ready
    // only when they have started, or the runtime has said why they will not.
    const flowState = new Promise<string>((resolve) => {
      red!.events.once("flows:started", () => resolve("started"));
      red!.events.on("runtime-event", (e: { id?: string; payload?: { state?: string; error?: string; types?: string[] } }) => {
        if (e.id === "runtime-state" && e.payload?.state && e.payload.state !== "start") {
          resolve(`${e.payload.error ?? e.payload.state}${e.payload.types ? `: ${e.payload.types.join(", ")}` : ""}`);
        }
      });
    });
    await red.start();
    const addr = server.address();
    if (!addr || typeof addr === "string") throw new Error("server has no port");
    process.send?.({ kind: "ready", port: addr.port, flowState: await flowState, node: process.version, nodeRed: red.version() } satisfies FromChild);
  }
}

if (process.env.NODE_RED_EMBED_CHILD === "1" && require.main === module) runChild();
