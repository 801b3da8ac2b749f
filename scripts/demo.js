#!/usr/bin/env node
"use strict";
// `npm start`: Node-RED on http://127.0.0.1:1880 with this package, the example flows deployed
// and the protocol simulators (NSO, APIC, sysadm) running in this same process, so a newcomer
// sees live events in the debug sidebar within seconds. The AMQP examples use the broker on
// 127.0.0.1:5672 when it is reachable; the log says plainly when it is not, and why.
//
// The user's edits survive a restart: flows.json in the user dir is kept, and only the demo's own
// config nodes that still point at the previous run's simulators are pointed at this run's.
// `npm start -- --reset` puts the examples back. Every port can be moved (see usage()).
const fs = require("node:fs");
const path = require("node:path");
const http = require("node:http");

const root = path.resolve(__dirname, "..");
const pkg = require(path.join(root, "package.json"));

/** Demo credentials for the config nodes of the example flows (flows never carry secrets). */
const DEMO_CREDENTIALS = {
  "nso-server": {},
  "apic-controller": { username: "admin", password: "demo-password" },
  "sysadm-server": { username: "demo", password: "demo-password" },
  "amqp1-broker": { username: "guest", password: "guest" },
};

/** Tabs in this order: the editor opens on the first, NSO. */
const CHANNEL_ORDER = ["nso", "apic", "sysadm", "amqp"];

/** Where each config node type gets its address from: read it, write it. */
const ADDRESS_FIELDS = {
  "nso-server": {
    get: (n) => `${n.host}:${n.port}`,
    set: (n, a) => Object.assign(n, { host: a.nsoHost, port: a.nsoPort }),
    want: (a) => `${a.nsoHost}:${a.nsoPort}`,
  },
  "apic-controller": { get: (n) => n.hosts, set: (n, a) => Object.assign(n, { hosts: a.apicUrl }), want: (a) => a.apicUrl },
  "sysadm-server": { get: (n) => n.url, set: (n, a) => Object.assign(n, { url: a.sysadmUrl }), want: (a) => a.sysadmUrl },
  "amqp1-broker": { get: (n) => n.urls, set: (n, a) => Object.assign(n, { urls: a.amqpUrl }), want: (a) => a.amqpUrl },
};

const OPTIONS = {
  port: { env: "INFRA_EVENTS_DEMO_PORT", def: 1880, kind: "port", help: "Node-RED editor port" },
  nsoPort: { flag: "nso-port", env: "INFRA_EVENTS_NSO_PORT", def: 4569, kind: "port", help: "NSO simulator port" },
  apicPort: { flag: "apic-port", env: "INFRA_EVENTS_APIC_PORT", def: 4580, kind: "port", help: "APIC simulator port" },
  sysadmWsPort: { flag: "sysadm-ws-port", env: "INFRA_EVENTS_SYSADM_WS_PORT", def: 12152, kind: "port", help: "sysadm simulator ws port" },
  sysadmWssPort: { flag: "sysadm-wss-port", env: "INFRA_EVENTS_SYSADM_WSS_PORT", def: 12150, kind: "port", help: "sysadm simulator wss port" },
  amqpUrl: { flag: "amqp-url", env: "INFRA_EVENTS_AMQP_URL", def: "amqp://127.0.0.1:5672", kind: "url", help: "AMQP 1.0 broker for the AMQP examples" },
  userDir: { flag: "user-dir", env: "INFRA_EVENTS_DEMO_DIR", def: path.join(root, ".demo"), kind: "path", help: "Node-RED user dir" },
  reset: { flag: "reset", def: false, kind: "flag", help: "put the example flows back (drops your edits to them)" },
};

function usage() {
  const lines = ["usage: npm start -- [options]   (or: node scripts/demo.js [options])", ""];
  for (const [key, o] of Object.entries(OPTIONS)) {
    const flag = `--${o.flag ?? key}${o.kind === "flag" ? "" : ` <${o.kind}>`}`;
    const env = o.env ? `, env ${o.env}` : "";
    lines.push(`  ${flag.padEnd(26)} ${o.help} (default ${o.kind === "flag" ? "off" : o.def}${env})`);
  }
  lines.push("", "Port 0 picks any free port; the log prints the one each server got.");
  return lines.join("\n");
}

class UsageError extends Error {}

function parseValue(o, name, raw) {
  if (o.kind === "port") {
    const n = Number(raw);
    if (!/^\d+$/.test(String(raw)) || n > 65535) throw new UsageError(`${name} must be a port number 0-65535, got "${raw}"`);
    return n;
  }
  if (o.kind === "url" && !/^amqps?:\/\//.test(String(raw))) throw new UsageError(`${name} must be an amqp:// or amqps:// URL, got "${raw}"`);
  return String(raw);
}

/** Command line first, then the environment, then the defaults. */
function parseArgs(argv, env = process.env) {
  const out = {};
  for (const [key, o] of Object.entries(OPTIONS)) {
    if (o.env && env[o.env] !== undefined && env[o.env] !== "") out[key] = parseValue(o, o.env, env[o.env]);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") return { help: true };
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    const entry = m && Object.entries(OPTIONS).find(([key, o]) => (o.flag ?? key) === m[1]);
    if (!entry) throw new UsageError(`unknown option "${a}"`);
    const [key, o] = entry;
    if (o.kind === "flag") {
      if (m[2] !== undefined) throw new UsageError(`--${m[1]} takes no value`);
      out[key] = true;
      continue;
    }
    const raw = m[2] ?? argv[++i];
    if (raw === undefined) throw new UsageError(`--${m[1]} needs a value`);
    out[key] = parseValue(o, `--${m[1]}`, raw);
  }
  return out;
}

function channelOf(file) {
  const i = CHANNEL_ORDER.indexOf(file.split("-")[0]);
  return i < 0 ? CHANNEL_ORDER.length : i;
}

/** All example flows, each on its own tab (NSO first), config nodes shared by id. */
function exampleFlows() {
  const dir = path.join(root, "examples");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
  files.sort((a, b) => channelOf(a) - channelOf(b) || a.localeCompare(b));
  const flows = [];
  const seen = new Set();
  for (const file of files) {
    const nodes = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    const tabs = nodes.filter((n) => n.type === "tab");
    let tabId = tabs[0] && tabs[0].id;
    if (!tabId) {
      tabId = `demo-tab-${file.replace(/\W/g, "-")}`;
      flows.push({ id: tabId, type: "tab", label: file.replace(/\.json$/, ""), disabled: false, info: "" });
    }
    for (const n of nodes) {
      if (seen.has(n.id)) continue;
      seen.add(n.id);
      // Nodes with a position belong on a tab; config nodes (no x/y) stay global.
      if (n.type !== "tab" && n.x !== undefined && !n.z) n.z = tabId;
      flows.push(n);
    }
  }
  return flows;
}

function demoCredentials(flows) {
  const creds = {};
  for (const n of flows) if (DEMO_CREDENTIALS[n.type]) creds[n.id] = { ...DEMO_CREDENTIALS[n.type] };
  return creds;
}

/**
 * Point config nodes at this run's simulators and broker: every one that points where the demo
 * pointed it last time (or where the examples point), and no other, so an address the user typed
 * is left alone. Returns how many were moved.
 */
function pointAtServers(flows, addresses, previous) {
  const defaults = new Map(exampleFlows().map((n) => [n.id, n]));
  let moved = 0;
  for (const n of flows) {
    const f = ADDRESS_FIELDS[n.type];
    if (!f) continue;
    const now = f.get(n);
    const want = f.want(addresses);
    const example = defaults.get(n.id);
    const ours = (previous && now === f.want(previous)) || (example && now === f.get(example));
    if (ours && now !== want) {
      f.set(n, addresses);
      moved++;
    }
  }
  return moved;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if (e.code === "ENOENT") return undefined;
    throw new Error(`cannot read ${file}: ${e.message}`, { cause: e });
  }
}

const BROKER_HINTS = {
  amqp1: (u) => `AMQP 1.0 broker reachable at ${u}: the AMQP example flows will connect to it`,
  "amqp091-only": (u) =>
    `the broker at ${u} speaks only AMQP 0-9-1: the AMQP example flows need its AMQP 1.0 plugin (rabbitmq-plugins enable rabbitmq_amqp1_0)`,
  unreachable: (u) =>
    `no AMQP broker reachable at ${u}: the AMQP example flows will show 'disconnected' until one runs there (RabbitMQ with rabbitmq-plugins enable rabbitmq_amqp1_0)`,
  other: (u) => `something at ${u} answered, but not as an AMQP 1.0 broker: the AMQP example flows will not connect`,
};

async function startSimulators(o, log) {
  const { findSimulator, ListenError } = require(path.join(root, "dist", "sim", "registry.js"));
  const running = [];
  try {
    running.push(await findSimulator("nso").start({ port: String(o.nsoPort) }));
    running.push(await findSimulator("apic").start({ port: String(o.apicPort) }));
    running.push(await findSimulator("sysadm").start({ "ws-port": String(o.sysadmWsPort), "wss-port": String(o.sysadmWssPort) }));
  } catch (e) {
    await Promise.allSettled(running.map((r) => r.close()));
    // Name the demo's own flag (--apic-port), not the simulator CLI's (--port).
    if (e instanceof ListenError) throw new Error(e.withOption(`--${e.simulator}-${e.option.replace(/^--/, "")}`), { cause: e });
    throw e;
  }
  for (const r of running) for (const [what, where] of Object.entries(r.endpoints)) log(`${r.name} simulator ${what}: ${where}`);
  const [nso, apic, sysadm] = running;
  return { running, nso, apic, sysadm };
}

async function startDemo(options = {}) {
  const o = { ...Object.fromEntries(Object.entries(OPTIONS).map(([k, v]) => [k, v.def])), ...options };
  const log = options.log ?? ((m) => console.log(`[demo] ${m}`));
  const userDir = o.userDir;

  const sims = await startSimulators(o, log);
  let server;
  try {
    const { probeAmqp } = require(path.join(root, "dist", "amqp", "protocol-probe.js"));
    const amqp = new URL(o.amqpUrl);
    const brokerState = await probeAmqp(amqp.hostname, Number(amqp.port || (amqp.protocol === "amqps:" ? 5671 : 5672)), 2000);
    log(BROKER_HINTS[brokerState](o.amqpUrl));

    const addresses = {
      nsoHost: sims.nso.host,
      nsoPort: sims.nso.port,
      apicUrl: sims.apic.url,
      sysadmUrl: sims.sysadm.server.wsUrl,
      amqpUrl: o.amqpUrl,
    };
    fs.mkdirSync(path.join(userDir, "node_modules"), { recursive: true });
    const link = path.join(userDir, "node_modules", pkg.name);
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(root, link, "dir");
    fs.writeFileSync(
      path.join(userDir, "package.json"),
      JSON.stringify({ name: "infra-events-demo", private: true, dependencies: { [pkg.name]: `file:${root}` } }, null, 2),
    );
    const flowFile = path.join(userDir, "flows.json");
    const credFile = path.join(userDir, "flows_cred.json");
    const stateFile = path.join(userDir, "demo-addresses.json");
    const kept = o.reset ? undefined : readJson(flowFile);
    const flows = kept ?? exampleFlows();
    const moved = pointAtServers(flows, addresses, kept ? readJson(stateFile) : undefined);
    if (kept) {
      log(
        `kept your flows from ${flowFile}${moved ? ` (${moved} config nodes pointed at this run's servers)` : ""}; npm start -- --reset puts the examples back`,
      );
    } else {
      log(`${o.reset ? "reset: " : ""}deployed the ${fs.readdirSync(path.join(root, "examples")).length} example flows into ${flowFile}`);
      fs.writeFileSync(credFile, JSON.stringify(demoCredentials(flows), null, 2));
    }
    fs.writeFileSync(flowFile, JSON.stringify(flows, null, 2));
    fs.writeFileSync(stateFile, JSON.stringify(addresses, null, 2));

    // Tests may run the demo on another Node-RED (the Node-RED 5 matrix): nodeRedPath names it.
    const redPath = options.nodeRedPath ?? require.resolve("node-red");
    const RED = require(redPath);
    const express = require(require.resolve("express", { paths: [path.dirname(redPath)] }));
    const app = express();
    server = http.createServer(app);
    RED.init(server, {
      userDir,
      flowFile: "flows.json",
      credentialSecret: false,
      httpAdminRoot: "/",
      httpNodeRoot: "/api",
      uiHost: "127.0.0.1",
      uiPort: o.port,
      // No palette catalogue: the demo must not reach out to the internet (and offline it only logs errors).
      editorTheme: { tours: false, palette: { catalogues: [] } },
      telemetry: { enabled: false },
      diagnostics: { enabled: false },
      logging: { console: { level: options.logLevel ?? "info", metrics: false, audit: false } },
    });
    app.use("/", RED.httpAdmin);
    app.use("/api", RED.httpNode);
    await new Promise((resolve, reject) => {
      server.once("error", (e) =>
        reject(
          e.code === "EADDRINUSE"
            ? new Error(`Node-RED: port ${o.port} on 127.0.0.1 is already in use (choose another with --port, or 0 for any free port)`)
            : e,
        ),
      );
      server.listen(o.port, "127.0.0.1", resolve);
    });
    // RED.start() resolves before the flows file is loaded and started: wait for that, so the
    // editor API never answers "no flows" to whoever uses the demo straight away.
    const started = new Promise((resolve) => RED.events.once("flows:started", resolve));
    await RED.start();
    await started;
    const url = `http://127.0.0.1:${server.address().port}/`;
    log(`Node-RED ${RED.version()} editor: ${url} (open the debug sidebar to watch the events)`);

    let stopped = false;
    async function stop() {
      if (stopped) return;
      stopped = true;
      await RED.stop();
      await new Promise((resolve) => server.close(() => resolve()));
      await Promise.allSettled(sims.running.map((r) => r.close()));
    }
    return { url, RED, stop, simulators: sims.running, amqpUp: brokerState === "amqp1", addresses, kept: Boolean(kept) };
  } catch (e) {
    if (server && server.listening) server.close();
    await Promise.allSettled(sims.running.map((r) => r.close()));
    throw e;
  }
}

module.exports = { startDemo, exampleFlows, parseArgs, usage, UsageError };

if (require.main === module) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`[demo] ${e.message}\n\n${usage()}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(usage());
    process.exit(0);
  }
  startDemo(args).then(
    (demo) => {
      const shutdown = () => {
        console.log("[demo] stopping");
        demo.stop().then(() => process.exit(0));
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    },
    (e) => {
      console.error(`[demo] could not start: ${e.message}`);
      process.exit(1);
    },
  );
}
