/**
 * sysadm figures (printed, never asserted):
 *  - events/s from the simulator through sysadm-server/sysadm-events to a sink node in a real
 *    embedded Node-RED 4.1 runtime, next to a bare `ws` client (JSON.parse and count, no
 *    protocol logic) reading the same flood in the same run, and Node-RED's own ceiling (a
 *    trivial source node -> the same sink). Target: node cost < 20 % of the bare client.
 *  - memory over 1M events through the node (heap after GC before/after, peak RSS).
 * The simulator runs in a child process so the flood does not compete with the measured side.
 * Run: node --expose-gc --import tsx bench/sysadm-throughput.ts [--events 200000] [--memory 1000000]
 */
import { fork, ChildProcess } from "node:child_process";
import WebSocket from "ws";
import { lifePreserverEvent } from "../src/sim/sysadm/generators";
import { startEmbeddedRed } from "./_support/embedded-red";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("--events", 200_000);
const MEM_N = arg("--memory", 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;
const k = (n: number): string => `${Math.round(n / 1000)}k`;
const EVENT = lifePreserverEvent("snapshot", "tank/home/bench");

// ---------------------------------------------------------------- the simulator child
type ToChild = { flood: number } | { close: true };
type FromChild = { url: string } | { flooded: number };

async function simChild(): Promise<void> {
  const { startSysadmSimulator } = await import("../src/sim/sysadm");
  const sim = await startSysadmSimulator({ wssPort: null, reorder: "none" });
  process.on("message", async (m: ToChild) => {
    if ("flood" in m) {
      await sim.server.flood(m.flood, "life-preserver", EVENT);
      process.send!({ flooded: m.flood } satisfies FromChild);
    } else {
      await sim.close();
      process.exit(0);
    }
  });
  process.send!({ url: sim.server.wsUrl! } satisfies FromChild);
}

class SimProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}
  static start(): Promise<SimProcess> {
    const child = fork(__filename, ["--sim-child"], { execArgv: ["--import", "tsx"] });
    return new Promise((resolve, reject) => {
      child.once("message", (m: FromChild) => ("url" in m ? resolve(new SimProcess(child, m.url)) : reject(new Error("bad hello"))));
      child.once("exit", (c) => reject(new Error(`simulator exited ${c}`)));
    });
  }
  flood(n: number): Promise<void> {
    return new Promise((resolve) => {
      const on = (m: FromChild) => {
        if ("flooded" in m) {
          this.child.off("message", on);
          resolve();
        }
      };
      this.child.on("message", on);
      this.child.send({ flood: n } satisfies ToChild);
    });
  }
  close(): void {
    this.child.send({ close: true } satisfies ToChild);
  }
}

/** Wait (bounded) until `count()` reaches `n`. */
async function until(count: () => number, n: number, maxMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (count() < n) {
    if (Date.now() - t0 > maxMs) throw new Error(`only ${count()} of ${n} after ${maxMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Warm up with 20k events, then time N events until `count()` (zeroed by `reset`) has seen them all; events/s. */
async function timedFlood(sim: SimProcess, count: () => number, reset: () => void): Promise<number> {
  await sim.flood(20_000); // warm-up
  await until(count, 20_000);
  reset();
  const t0 = process.hrtime.bigint();
  const flooding = sim.flood(N);
  await until(count, N);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await flooding;
  return N / secs;
}

// ---------------------------------------------------------------- baseline: bare ws client
async function bareClient(sim: SimProcess): Promise<number> {
  const ws = new WebSocket(sim.url);
  await new Promise((r) => ws.once("open", r));
  let count = 0;
  let replies = 0;
  ws.on("message", (d: Buffer) => {
    const f = JSON.parse(d.toString("utf8")) as { id: string };
    if (f.id === "") count++;
    else replies++;
  });
  ws.send(JSON.stringify({ namespace: "rpc", name: "auth", id: "a", args: { username: "demo", password: "demo-password" } }));
  ws.send(JSON.stringify({ namespace: "events", name: "subscribe", id: "s", args: ["life-preserver"] }));
  await until(() => replies, 2);
  const rate = await timedFlood(
    sim,
    () => count,
    () => (count = 0),
  );
  ws.terminate();
  return rate;
}

// ---------------------------------------------------------------- the library without Node-RED
async function libraryClient(sim: SimProcess): Promise<number> {
  const { SysadmClient } = await import("../src/sysadm");
  const c = new SysadmClient({ url: sim.url, username: "demo", password: "demo-password" });
  let count = 0;
  c.on("event", () => count++);
  await c.setSubscriptions(["life-preserver"]);
  c.start();
  await new Promise<void>((resolve) => c.lifecycle.on("state", (s) => s.state === "connected" && resolve()));
  const rate = await timedFlood(
    sim,
    () => count,
    () => (count = 0),
  );
  c.close();
  return rate;
}

// ---------------------------------------------------------------- the node in Node-RED
const BENCH_NODES = {
  name: "bench-nodes",
  js: `module.exports = function (RED) {
      function Sink(c) { RED.nodes.createNode(this, c); this.on("input", () => { globalThis.__sysadmBenchCount++; }); }
      RED.nodes.registerType("sysadm-bench-sink", Sink);
      function Source(c) { RED.nodes.createNode(this, c); globalThis.__sysadmBenchSource = (m) => this.send(m); }
      RED.nodes.registerType("sysadm-bench-source", Source);
    };\n`,
  html: `<script type="text/javascript">RED.nodes.registerType('sysadm-bench-sink',{category:'function',defaults:{},inputs:1,outputs:0});RED.nodes.registerType('sysadm-bench-source',{category:'function',defaults:{},inputs:0,outputs:1});</script>`,
};

interface NodeFigures {
  rate: number;
  ceiling: number;
  memory: { heapBefore: number; heapAfter: number; peakRss: number; rssBefore: number; secs: number };
}

async function throughNode(sim: SimProcess): Promise<NodeFigures> {
  const g = globalThis as unknown as { __sysadmBenchCount: number; __sysadmBenchSource: (m: object) => void };
  g.__sysadmBenchCount = 0;
  const flows = [
    { id: "t1", type: "tab", label: "bench" },
    { id: "srv", type: "sysadm-server", url: sim.url, keepalive: 90, maxFrameKB: 1024 },
    { id: "ev", z: "t1", type: "sysadm-events", server: "srv", events: "life-preserver", routing: "single", outputs: 1, wires: [["sink"]] },
    { id: "src", z: "t1", type: "sysadm-bench-source", wires: [["sink"]] },
    { id: "sink", z: "t1", type: "sysadm-bench-sink", wires: [] },
  ];
  const red = await startEmbeddedRed({
    prefix: "sysadm-bench",
    types: ["sysadm-server", "sysadm-events"],
    bench: BENCH_NODES,
    flows,
    credentials: { srv: { username: "demo", password: "demo-password" } },
  });
  const count = () => g.__sysadmBenchCount;
  // The snapshot-free subscribe completes shortly after start; flood until the sink sees events.
  for (let i = 0; i < 100 && count() === 0; i++) {
    await sim.flood(100);
    await new Promise((r) => setTimeout(r, 20));
  }
  const rate = await timedFlood(sim, count, () => (g.__sysadmBenchCount = 0));

  // Node-RED's ceiling: the same payload shape from a trivial source node, 20k in flight at most.
  g.__sysadmBenchCount = 0;
  let sent = 0;
  let t0 = process.hrtime.bigint();
  while (count() < N) {
    while (sent - count() < 20_000 && sent < N) {
      g.__sysadmBenchSource({
        topic: "life-preserver",
        payload: { ...EVENT },
        sysadm: { priority: { level: 1, category: "Information" }, snapshot: false, server: sim.url },
      });
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const ceiling = N / (Number(process.hrtime.bigint() - t0) / 1e9);

  // Memory over MEM_N events through the node, in chunks so a peak is seen as it grows.
  gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  g.__sysadmBenchCount = 0;
  t0 = process.hrtime.bigint();
  const chunk = 100_000;
  for (let done = 0; done < MEM_N; done += chunk) {
    const flooding = sim.flood(Math.min(chunk, MEM_N - done));
    await until(count, Math.min(done + chunk, MEM_N), 300_000);
    await flooding;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  gc();
  const after = process.memoryUsage();
  await red.stop();
  return { rate, ceiling, memory: { heapBefore: before.heapUsed, heapAfter: after.heapUsed, peakRss, rssBefore: before.rss, secs } };
}

async function main(): Promise<void> {
  const sim = await SimProcess.start();
  try {
    const raw1 = await bareClient(sim);
    const lib = await libraryClient(sim);
    const node = await throughNode(sim);
    const raw2 = await bareClient(sim);
    const raw = Math.max(raw1, raw2);
    const cost = 1 - node.rate / raw;
    const frameBytes = Buffer.byteLength(JSON.stringify({ args: EVENT, id: "", name: "life-preserver", namespace: "events" }));
    console.log(`sysadm: ${k(N)} life-preserver events of ~${frameBytes} bytes, simulator in a child process (Node ${process.version})`);
    console.log(`  simulator -> sysadm-events -> sink (embedded Node-RED): ${k(node.rate)} events/s`);
    console.log(`    baseline: bare ws client, JSON.parse + count:        ${k(raw)} events/s (runs: ${k(raw1)}, ${k(raw2)})`);
    console.log(`    the library alone (SysadmClient, no Node-RED):        ${k(lib)} events/s`);
    console.log(`    node cost vs bare client: ${(cost * 100).toFixed(1)} %   (target < 20 %)`);
    console.log(`    baseline: Node-RED ceiling, trivial source -> sink:  ${k(node.ceiling)} msg/s`);
    const m = node.memory;
    console.log(
      `  memory over ${k(MEM_N)} events (${k(MEM_N / m.secs)} events/s): heap after GC ${mb(m.heapBefore)} -> ${mb(m.heapAfter)}, RSS ${mb(m.rssBefore)} -> peak ${mb(m.peakRss)}`,
    );
  } finally {
    sim.close();
  }
}

if (process.argv.includes("--sim-child")) void simChild();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
