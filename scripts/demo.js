#!/usr/bin/env node
"use strict";
// `npm start`: Node-RED 4.1 on http://127.0.0.1:1880 with this package, the example flows
// deployed and the protocol simulators (NSO, APIC, sysadm) running in this same process, so a
// newcomer sees live events in the debug sidebar within seconds. The AMQP examples use the
// broker on 127.0.0.1:5672 when it is reachable; the log says so plainly when it is not.
const fs = require("node:fs");
const path = require("node:path");
const net = require("node:net");
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

function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** All example flows, each on its own tab, config nodes shared by id. */
function exampleFlows() {
  const dir = path.join(root, "examples");
  const flows = [];
  const seen = new Set();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
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

async function startDemo(options = {}) {
  const port = options.port ?? Number(process.env.INFRA_EVENTS_DEMO_PORT || 1880);
  const userDir = options.userDir ?? path.join(root, ".demo");
  const log = options.log ?? ((m) => console.log(`[demo] ${m}`));

  const { simulators } = require(path.join(root, "sim", "registry.js"));
  const running = [];
  for (const s of simulators) {
    const r = await s.start({});
    running.push(r);
    for (const [what, where] of Object.entries(r.endpoints)) log(`${r.name} simulator ${what}: ${where}`);
  }
  const amqpUp = await reachable("127.0.0.1", 5672);
  log(
    amqpUp
      ? "AMQP broker reachable on 127.0.0.1:5672: the AMQP example flows will connect to it"
      : "AMQP broker NOT reachable on 127.0.0.1:5672: the AMQP example flows will show 'disconnected' until one runs there (AMQP 1.0 plugin: rabbitmq-plugins enable rabbitmq_amqp1_0)",
  );

  fs.mkdirSync(path.join(userDir, "node_modules"), { recursive: true });
  const link = path.join(userDir, "node_modules", pkg.name);
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(root, link, "dir");
  fs.writeFileSync(
    path.join(userDir, "package.json"),
    JSON.stringify({ name: "infra-events-demo", private: true, dependencies: { [pkg.name]: `file:${root}` } }, null, 2),
  );
  const flows = exampleFlows();
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows, null, 2));
  fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify(demoCredentials(flows), null, 2));

  const RED = require("node-red");
  const express = require("express");
  const app = express();
  const server = http.createServer(app);
  RED.init(server, {
    userDir,
    flowFile: "flows.json",
    credentialSecret: false,
    httpAdminRoot: "/",
    httpNodeRoot: "/api",
    uiHost: "127.0.0.1",
    uiPort: port,
    editorTheme: { tours: false },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    logging: { console: { level: options.logLevel ?? "info", metrics: false, audit: false } },
  });
  app.use("/", RED.httpAdmin);
  app.use("/api", RED.httpNode);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  await RED.start();
  const url = `http://127.0.0.1:${server.address().port}/`;
  log(`Node-RED ${RED.version()} editor: ${url} (open the debug sidebar to watch the events)`);

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    await RED.stop();
    await new Promise((resolve) => server.close(() => resolve()));
    await Promise.allSettled(running.map((r) => r.close()));
  }
  return { url, RED, stop, simulators: running, amqpUp };
}

module.exports = { startDemo, exampleFlows };

if (require.main === module) {
  startDemo().then(
    (demo) => {
      const shutdown = () => {
        console.log("[demo] stopping");
        demo.stop().then(() => process.exit(0));
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    },
    (e) => {
      console.error(`[demo] could not start: ${e.stack || e.message}`);
      process.exit(1);
    },
  );
}
