/**
 * APIC channel figures, each next to a baseline measured in the same run:
 *
 *  1. changes/s from the simulator into a flow (apic-controller -> apic-events -> counting node,
 *     in a real embedded Node-RED 4.1 runtime) next to the raw WebSocket message rate of the same
 *     simulator read by a bare `ws` client (no parsing). Target: the node costs < 20% of raw.
 *  2. refresh traffic with 500 subscriptions (requests/s and client CPU), library only.
 *  3. memory of the flow process over 1M changes.
 *  4. session renewal with 500 subscriptions under a steady change stream (library, in-process
 *     simulator with a short maximum lifetime) next to the plain re-login it replaces.
 *
 * The simulator runs in a child process (this file, forked with --sim-child) so that its own CPU
 * does not count against the client. Run: node --expose-gc --import tsx bench/apic-throughput.ts
 * [--changes N] [--million N] [--renewal-only]
 */
import { ChildProcess, fork } from "node:child_process";
import { EventEmitter } from "node:events";
import WebSocket from "ws";
import { EmbeddedRed, startEmbeddedRed } from "./_support/embedded-red";

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};

class Sim extends EventEmitter {
  url = "";
  constructor(private readonly child: ChildProcess) {
    super();
    child.on("message", (m: Record<string, unknown>) => this.emit("msg", m));
  }
  static async start(): Promise<Sim> {
    const child = fork(__filename, ["--sim-child"], { execArgv: ["--import", "tsx"], stdio: "inherit" });
    const sim = new Sim(child);
    sim.url = await new Promise<string>((r) => sim.once("msg", (m: { url: string }) => r(m.url)));
    return sim;
  }
  flood(n: number, mode: "modify" | "create" = "modify"): void {
    this.child.send(this.fast ? { replay: n } : { flood: n, mode });
  }
  /** Replay one prepared frame instead of building real changes (a faster source). */
  fast = false;
  stats(): Promise<Record<string, number>> {
    this.child.send({ stats: true });
    return new Promise((r) => {
      const on = (m: { stats?: Record<string, number> }) => {
        if (!m.stats) return;
        this.removeListener("msg", on);
        r(m.stats);
      };
      this.on("msg", on);
    });
  }
  stop(): void {
    this.child.disconnect();
  }
}

// ---- 1. raw WebSocket baseline ----------------------------------------------------------------

async function login(url: string): Promise<string> {
  const r = await fetch(`${url}/api/aaaLogin.json`, {
    method: "POST",
    body: JSON.stringify({ aaaUser: { attributes: { name: "admin", pwd: "demo-password" } } }),
  });
  return (await r.json()).imdata[0].aaaLogin.attributes.token;
}

interface Rate {
  perSec: number;
  /** Client-process CPU (user + system) per message, µs: what the client side costs. */
  cpuUs: number;
}

async function rawRate(sim: Sim, n: number): Promise<Rate> {
  const token = await login(sim.url);
  const ws = new WebSocket(`${sim.url.replace("http", "ws")}/socket${token}`, { perMessageDeflate: false });
  await new Promise((r) => ws.once("open", r));
  await fetch(`${sim.url}/api/class/fvTenant.json?subscription=yes`, { headers: { Cookie: `APIC-cookie=${token}` } });
  let count = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  const done = new Promise<number>((resolve) => {
    ws.on("message", () => {
      if (count === 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
      if (++count === n) resolve(performance.now() - t0);
    });
  });
  sim.flood(n);
  const ms = await done;
  const cpu = process.cpuUsage(cpu0);
  ws.terminate();
  return { perSec: (n - 1) / (ms / 1000), cpuUs: (cpu.user + cpu.system) / (n - 1) };
}

// ---- embedded Node-RED with our nodes ---------------------------------------------------------

const hub = new EventEmitter();

/** A counting sink: every message it gets goes to `hub`. */
const BENCH_NODES = {
  name: "apic-bench-sink",
  js: `module.exports = function (RED) {
  function Sink(config) {
    RED.nodes.createNode(this, config);
    const hub = globalThis.__apicBenchHub;
    this.on("input", (msg) => hub.emit("msg", msg));
  }
  RED.nodes.registerType("apic-bench-sink", Sink);
};\n`,
  html: `<script type="text/javascript">RED.nodes.registerType('apic-bench-sink',{category:'function',defaults:{},inputs:1,outputs:0});</script>\n`,
};

/** Node-RED with the bench flow written to its userDir before start (the way scripts/demo.js does). */
async function startRed(url: string): Promise<EmbeddedRed> {
  (globalThis as { __apicBenchHub?: EventEmitter }).__apicBenchHub = hub;
  const flows = [
    { id: "t", type: "tab", label: "bench" },
    { id: "ctl", type: "apic-controller", hosts: url, domain: "", tls: "", refreshTimeout: "", pingInterval: 30, maxFrameSize: 4096 },
    {
      id: "ev",
      type: "apic-events",
      z: "t",
      controller: "ctl",
      subscriptions: [{ kind: "class", target: "fvTenant", options: "" }],
      routing: "status",
      classes: "",
      outputs: 4,
      x: 100,
      y: 100,
      wires: [["sink"], ["sink"], ["sink"], ["sink"]],
    },
    { id: "sink", type: "apic-bench-sink", z: "t", x: 300, y: 100, wires: [] },
  ];
  const connected = new Promise<void>((r) => {
    const on = (m: { apic?: { status: string } }) => {
      if (m.apic?.status === "sync") {
        hub.removeListener("msg", on);
        r();
      }
    };
    hub.on("msg", on);
  });
  const red = await startEmbeddedRed({
    prefix: "apic-bench",
    types: ["apic-controller", "apic-events"],
    bench: BENCH_NODES,
    flows,
    credentials: { ctl: { username: "admin", password: "demo-password" } },
    settings: { logging: { console: { level: process.env.APIC_BENCH_DEBUG ? "debug" : "error", metrics: false, audit: false } } },
  });
  await connected;
  return red;
}

async function flowRate(sim: Sim, n: number): Promise<Rate> {
  let count = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  const done = new Promise<number>((resolve) => {
    const on = (m: { apic?: { status: string } }) => {
      if (m.apic?.status !== "modified") return;
      if (count === 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
      if (++count === n) {
        hub.removeListener("msg", on);
        resolve(performance.now() - t0);
      }
    };
    hub.on("msg", on);
  });
  sim.flood(n);
  const ms = await done;
  const cpu = process.cpuUsage(cpu0);
  return { perSec: (n - 1) / (ms / 1000), cpuUs: (cpu.user + cpu.system) / (n - 1) };
}

// ---- 2. refresh traffic with 500 subscriptions ---------------------------------------------------

async function refreshTraffic(sim: Sim): Promise<void> {
  const { ApicClient } = await import("../src/apic/client");
  const subs = 500;
  const client = new ApicClient({ hosts: [sim.url], credentials: { username: "admin", password: "demo-password" }, refreshTimeoutSeconds: 2 });
  const listener = { onEvent: () => undefined, onGap: () => undefined };
  for (let i = 0; i < subs; i++) client.subscribe({ kind: "dn", target: `uni/tn-bench${i}` }, listener);
  const t0 = performance.now();
  client.start();
  const before = await (async () => {
    for (;;) {
      const s = await sim.stats();
      if (s.subscribes >= subs) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const subscribeMs = performance.now() - t0;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const after = await sim.stats();
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - w0) / 1000;
  const refreshes = after.subscriptionRefreshes - before.subscriptionRefreshes;
  const perSec = refreshes / wall;
  console.log(`  subscribe ${subs} queries on one session : ${subscribeMs.toFixed(0)} ms (sequential, ${(subscribeMs / subs).toFixed(2)} ms each)`);
  console.log(
    `  refresh at refresh-timeout=2 s (T/2)      : ${perSec.toFixed(0)} refreshes/s (expected ${(subs / 1).toFixed(0)}/s), failures ${after.refreshFailures}`,
  );
  console.log(`  client CPU for refreshing                 : ${((cpu.user + cpu.system) / 1000 / refreshes).toFixed(3)} ms per refresh`);
  console.log(
    `  => at APIC's default 60 s timeout: ${((subs * 2) / 60).toFixed(1)} refreshes/s, ~${((((subs * 2) / 60) * (cpu.user + cpu.system)) / 1000 / refreshes / 10).toFixed(2)} % of one core`,
  );
  client.close();
}

// ---- 4. session renewal with 500 subscriptions ------------------------------------------------------

async function renewal(): Promise<void> {
  const { ApicClient } = await import("../src/apic/client");
  const { startApicSimulator } = await import("../src/sim/apic");
  const subs = 500;
  const run = async (mode: "renewal" | "re-login"): Promise<void> => {
    // Lifetime 8 s, renewal 4 s before it: long enough for 500 subscribes first.
    const s = await startApicSimulator({ maxLifetimeSeconds: 8 });
    const client = new ApicClient({ hosts: [s.url], credentials: { username: "admin", password: "demo-password" }, maxLifetimeMarginSeconds: 4 });
    let live = 0;
    let sync = 0;
    let gaps = 0;
    const seen = new Map<string, number>();
    const quiet = { onEvent: () => undefined, onGap: () => undefined };
    for (let i = 0; i < subs - 1; i++) client.subscribe({ kind: "dn", target: `uni/tn-bench${i}` }, quiet);
    client.subscribe(
      { kind: "class", target: "fvTenant" },
      {
        onEvent: (ev) => {
          if (ev.status === "sync") sync++;
          else {
            live++;
            seen.set(ev.attributes.descr ?? "", (seen.get(ev.attributes.descr ?? "") ?? 0) + 1);
          }
        },
        onGap: () => gaps++,
      },
    );
    client.start();
    // Every query subscribed and the fvTenant snapshot (5 tenants) delivered.
    while (s.sim.stats.subscribes < subs || sync < 5) await new Promise((r) => setTimeout(r, 20));
    const sync0 = sync;
    let t0 = 0;
    let t1 = 0;
    s.sim.on("request", (line: string) => {
      // Renewal: from the second login to the old session's logout.
      if (line.startsWith("POST /api/aaaLogin.json") && t0 === 0) t0 = performance.now();
      if (line.startsWith("POST /api/aaaLogout.json") && t1 === 0) t1 = performance.now();
    });
    if (mode === "re-login") {
      t0 = performance.now();
      s.sim.expireTokens();
    }
    // One change every 2 ms until the switch is over (or 8 s).
    let made = 0;
    const end = performance.now() + 10000;
    const cpu0 = process.cpuUsage();
    // Until the switch is over (renewal: old session logged out; re-login: the fvTenant re-read arrived), plus 200 ms.
    const over = (): boolean => (mode === "renewal" ? t1 > 0 : sync >= sync0 + 5);
    let overAt = 0;
    while (performance.now() < end && (overAt === 0 || performance.now() < overAt + 200)) {
      if (overAt === 0 && over()) overAt = performance.now();
      s.sim.modify("uni/tn-demo", { descr: `c${made++}` });
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 200));
    const cpu = process.cpuUsage(cpu0);
    if (mode === "re-login") t1 = overAt;
    let missing = 0;
    let dup = 0;
    for (let i = 0; i < made; i++) {
      const n = seen.get(`c${i}`) ?? 0;
      if (n === 0) missing++;
      if (n > 1) dup += n - 1;
    }
    const label = mode === "renewal" ? "make-before-break renewal" : "plain re-login (old way) ";
    console.log(
      `  ${label}: ${made} changes sent, ${live} delivered, ${missing} missed, ${dup} duplicated, ${gaps} gap(s), ${sync - sync0} re-read objects; switch ${(t1 - t0).toFixed(0)} ms; ${client.stats.duplicates} copies suppressed; client CPU over the run ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`,
    );
    client.close();
    await s.close();
  };
  await run("re-login");
  await run("renewal");
}

// ---- main -----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (process.argv.includes("--renewal-only")) {
    console.log(`4. session renewal with 500 subscriptions, a change every 2 ms (library, in-process simulator)`);
    await renewal();
    return;
  }
  const n = arg("changes", 100_000);
  const million = arg("million", 1_000_000);
  const sim = await Sim.start();
  console.log(`APIC bench: simulator ${sim.url} in a child process; Node ${process.version}`);
  const f = (r: Rate) => `${r.perSec.toFixed(0).padStart(7)} msg/s, client CPU ${r.cpuUs.toFixed(1).padStart(5)} µs/msg`;

  // Raw baselines first, with no Node-RED session alive (the simulator would feed both).
  await rawRate(sim, 2000); // warm-up
  const rawReal = await rawRate(sim, n);
  sim.fast = true;
  const rawFast = await rawRate(sim, n);
  sim.fast = false;

  const red = await startRed(sim.url);
  await flowRate(sim, 2000); // warm-up
  const flowReal = await flowRate(sim, n);
  sim.fast = true;
  const flowFast = await flowRate(sim, n);

  console.log(`\n1. changes/s from simulator to flow, ${n} modified notifications (~250-byte frames)`);
  console.log(`  a) simulator building real changes (store update, query match, JSON per change):`);
  console.log(`     raw ws client (no parsing)            : ${f(rawReal)}`);
  console.log(`     apic-controller -> apic-events -> flow : ${f(flowReal)}   (${((flowReal.perSec / rawReal.perSec) * 100).toFixed(0)} % of raw)`);
  console.log(`  b) simulator replaying one prepared frame (a faster source):`);
  console.log(`     raw ws client (no parsing)            : ${f(rawFast)}`);
  console.log(`     apic-controller -> apic-events -> flow : ${f(flowFast)}   (${((flowFast.perSec / rawFast.perSec) * 100).toFixed(0)} % of raw)`);
  console.log(`  client CPU per change: flow ${flowFast.cpuUs.toFixed(1)} µs vs raw ${rawFast.cpuUs.toFixed(1)} µs (raw does not even parse the JSON)`);

  console.log(`\n3. memory of the flow process over ${million} changes (replayed frames)`);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m0 = process.memoryUsage();
  let maxRss = m0.rss;
  let maxHeap = m0.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    maxRss = Math.max(maxRss, m.rss);
    maxHeap = Math.max(maxHeap, m.heapUsed);
  }, 100);
  const t = performance.now();
  const rate = await flowRate(sim, million);
  clearInterval(sampler);
  gc?.();
  const m1 = process.memoryUsage();
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
  console.log(`  ${million} changes in ${((performance.now() - t) / 1000).toFixed(1)} s (${rate.perSec.toFixed(0)} msg/s)`);
  console.log(`  heap used: start ${mb(m0.heapUsed)}, peak ${mb(maxHeap)}, end ${mb(m1.heapUsed)}${gc ? " (after gc)" : " (no --expose-gc)"}`);
  console.log(`  rss:       start ${mb(m0.rss)}, peak ${mb(maxRss)}, end ${mb(m1.rss)}`);
  await red.stop();
  sim.fast = false;

  console.log(`\n2. refresh traffic with 500 subscriptions (library, one session)`);
  await refreshTraffic(sim);
  sim.stop();

  console.log(`\n4. session renewal with ${500} subscriptions, a change every 2 ms (library, in-process simulator)`);
  await renewal();
}

// Entry point last: classes above are initialised by then.
if (process.argv.includes("--sim-child")) {
  void (async () => {
    const { startApicSimulator } = await import("../src/sim/apic");
    const s = await startApicSimulator({ seed: true });
    process.send!({ url: s.url });
    process.on("message", (m: { flood?: number; replay?: number; mode?: "modify" | "create"; stats?: boolean }) => {
      if (m.flood) void s.sim.flood(m.flood, m.mode).then((ms) => process.send!({ flooded: m.flood, ms }));
      if (m.replay) {
        // One real-shaped modified frame, listing every live subscription id.
        const frame = JSON.stringify({
          subscriptionId: s.sim.subscriptionIds(),
          imdata: [
            {
              fvTenant: {
                attributes: {
                  childAction: "",
                  descr: "replayed change",
                  dn: "uni/tn-flood",
                  modTs: "2026-01-01T10:00:00.000+00:00",
                  rn: "",
                  status: "modified",
                },
              },
            },
          ],
        });
        void s.sim.replay(frame, m.replay).then((ms) => process.send!({ replayed: m.replay, ms }));
      }
      if (m.stats) process.send!({ stats: s.sim.liveStats() });
    });
    process.on("disconnect", () => void s.close().then(() => process.exit(0)));
  })();
} else {
  void main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
