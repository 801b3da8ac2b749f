import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { spawn } from "node:child_process";

// The README's first command (`npm start`) as a newcomer runs it: Node-RED with the package,
// every example flow deployed and the simulators in-process. Within seconds, events from each
// simulated channel must reach the debug nodes of the example flows.

const { startDemo } = require("../../scripts/demo.js");

type Demo = {
  url: string;
  RED: any;
  stop(): Promise<void>;
  simulators: Array<{ name: string }>;
  amqpUp: boolean;
  kept: boolean;
  addresses: { nsoPort: number; apicUrl: string; sysadmUrl: string };
};

// Every server on a free port: the demo must never need the fixed ports (a real NSO uses 4569).
const FREE_PORTS = { port: 0, nsoPort: 0, apicPort: 0, sysadmWsPort: 0, sysadmWssPort: 0 };

describe("integration/demo (npm start)", function () {
  this.timeout(60000);
  let demo: Demo | undefined;
  let userDir: string;
  const seen = new Map<string, number>();

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-events-demo-"));
    demo = (await startDemo({ ...FREE_PORTS, userDir, logLevel: "warn", log: () => {} })) as Demo;
    // Count the messages each of our input nodes sends into the flows, and what debug nodes get.
    demo.RED.hooks.add("postDeliver.infra-demo-test", (ev: any) => {
      const from = ev.source?.node?.type ?? "unknown";
      seen.set(from, (seen.get(from) ?? 0) + 1);
      if (ev.destination?.node?.type === "debug") seen.set("debug", (seen.get("debug") ?? 0) + 1);
    });
  });

  after(async () => {
    demo?.RED.hooks.remove("*.infra-demo-test");
    await demo?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("serves the editor", async () => {
    const res = await fetch(demo!.url);
    assert.equal(res.status, 200);
  });

  it("deploys every example flow without unknown node types", async () => {
    const flows = await (await fetch(`${demo!.url}flows`, { headers: { "Node-RED-API-Version": "v2" } })).json();
    const types = new Set((flows.flows as Array<{ type: string }>).map((n) => n.type));
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8"));
    for (const t of Object.keys(pkg["node-red"].nodes)) {
      if (t.endsWith("-server") || t.endsWith("-controller") || t.endsWith("-broker")) continue;
      assert.ok(types.has(t), `no example flow uses ${t}`);
    }
    const known = new Set(demo!.RED.nodes.getNodeList().flatMap((s: { types: string[] }) => s.types));
    for (const t of types) if (t !== "tab") assert.ok(known.has(t), `example uses unknown type ${t}`);
  });

  it("shows live events from every simulated channel in the debug sidebar within seconds", async () => {
    const want = ["debug", ...demo!.simulators.map((s) => `${s.name}-events`)];
    if (demo!.amqpUp) want.push("amqp1-events");
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && !want.every((t) => (seen.get(t) ?? 0) > 0)) {
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const t of want) assert.ok((seen.get(t) ?? 0) > 0, `no ${t} message in 30 s (seen: ${JSON.stringify(Object.fromEntries(seen))})`);
  });

  it("points the example config nodes at the simulators' free ports", async () => {
    const flows = (await (await fetch(`${demo!.url}flows`, { headers: { "Node-RED-API-Version": "v2" } })).json()).flows as any[];
    const a = demo!.addresses;
    assert.ok(a.nsoPort > 0 && a.nsoPort !== 4569, `NSO simulator on ${a.nsoPort}`);
    for (const n of flows.filter((f) => f.type === "nso-server")) assert.equal(Number(n.port), a.nsoPort);
    for (const n of flows.filter((f) => f.type === "apic-controller")) assert.equal(n.hosts, a.apicUrl);
    for (const n of flows.filter((f) => f.type === "sysadm-server")) assert.equal(n.url, a.sysadmUrl);
  });

  it("opens on an NSO tab, and every tab is named for what it shows", async () => {
    const flows = (await (await fetch(`${demo!.url}flows`, { headers: { "Node-RED-API-Version": "v2" } })).json()).flows as any[];
    const tabs = flows.filter((f) => f.type === "tab").map((t) => t.label as string);
    assert.match(tabs[0], /^NSO: /);
    for (const t of tabs) assert.match(t, /^(NSO|APIC|sysadm|AMQP): \S/, `tab "${t}"`);
  });
});

// Each start is its own process, as `npm start` is: Node-RED's runtime is a singleton that keeps the
// flows of an earlier start in memory, so restarting it in one process would prove nothing.
interface DemoProcess {
  url: string;
  log: string[];
  stop(): Promise<number | null>;
}

function runDemo(args: string[]): Promise<DemoProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, "../../scripts/demo.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`demo did not start in 30 s:\n${log.join("\n")}`));
    }, 30000);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line) continue;
        log.push(line);
        const m = /editor: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({
            url: m[1],
            log,
            stop: () => {
              child.kill("SIGINT");
              return exited;
            },
          });
        }
      }
    };
    child.stdout.on("data", onLine);
    child.stderr.on("data", onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}) before it started:\n${log.join("\n")}`));
    });
  });
}

describe("integration/demo: the user's edits survive a restart", function () {
  this.timeout(90000);
  let userDir: string;
  let demo: DemoProcess | undefined;
  const args = () => ["--port", "0", "--nso-port", "0", "--apic-port", "0", "--sysadm-ws-port", "0", "--sysadm-wss-port", "0", "--user-dir", userDir];
  const flowsOf = async (d: DemoProcess) =>
    (await (await fetch(`${d.url}flows`, { headers: { "Node-RED-API-Version": "v2" } })).json()) as { rev: string; flows: any[] };
  const nsoPortIn = (d: DemoProcess) => Number(/nso simulator events: tcp:\/\/127\.0\.0\.1:(\d+)/.exec(d.log.join("\n"))?.[1]);

  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-events-demo-keep-"));
  });
  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
  });
  after(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it("keeps an edited flow across a restart, follows moved simulator ports, and --reset puts the examples back", async () => {
    demo = await runDemo(args());
    assert.ok(
      demo.log.some((l) => /deployed the \d+ example flows/.test(l)),
      demo.log.join("\n"),
    );
    const first = await flowsOf(demo);
    const renamed = first.flows.map((n) => (n.type === "tab" && /^NSO: audit/.test(n.label) ? { ...n, label: "my audit tab" } : n));
    const typed = renamed.find((n) => n.type === "amqp1-broker");
    typed.urls = "amqp://broker.example.invalid:5672"; // an address the user typed is theirs
    const res = await fetch(`${demo.url}flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify({ flows: renamed, rev: first.rev }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(await demo.stop(), 0, "SIGINT stops the demo cleanly");

    demo = await runDemo(args());
    assert.ok(
      demo.log.some((l) => /kept your flows from .*--reset puts the examples back/.test(l)),
      demo.log.join("\n"),
    );
    const again = await flowsOf(demo);
    assert.ok(
      again.flows.some((n) => n.type === "tab" && n.label === "my audit tab"),
      "the edited tab label is kept",
    );
    assert.ok(
      again.flows.some((n) => n.type === "amqp1-broker" && n.urls === "amqp://broker.example.invalid:5672"),
      "the typed broker URL is kept",
    );
    // The simulators got new free ports; the demo's own config nodes follow them.
    const nsoPort = nsoPortIn(demo);
    assert.ok(nsoPort > 0);
    const nsoServers = again.flows.filter((f) => f.type === "nso-server");
    assert.ok(nsoServers.length > 0);
    for (const n of nsoServers) assert.equal(Number(n.port), nsoPort);
    await demo.stop();

    demo = await runDemo([...args(), "--reset"]);
    assert.ok(
      demo.log.some((l) => /reset: deployed the \d+ example flows/.test(l)),
      demo.log.join("\n"),
    );
    const reset = await flowsOf(demo);
    assert.ok(!reset.flows.some((n) => n.type === "tab" && n.label === "my audit tab"), "reset restores the example tabs");
    assert.ok(reset.flows.some((n) => n.type === "tab" && n.label === "NSO: audit log"));
  });

  it("refuses an unknown option with exit code 2 and names it", async () => {
    const child = spawn(process.execPath, [path.join(__dirname, "../../scripts/demo.js"), "--nso-prot", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 2);
    assert.match(err, /unknown option "--nso-prot"/);
  });

  it("names the simulator and the port when a port is taken", async () => {
    const held = net.createServer();
    await new Promise<void>((resolve) => held.listen(0, "127.0.0.1", resolve));
    const port = (held.address() as net.AddressInfo).port;
    try {
      const child = spawn(process.execPath, [path.join(__dirname, "../../scripts/demo.js"), ...args(), "--apic-port", String(port)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      assert.equal(code, 1);
      assert.match(err, new RegExp(`apic simulator: port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(err, /--apic-port/);
    } finally {
      held.close();
    }
  });
});
