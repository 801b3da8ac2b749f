/**
 * What the health view costs (printed, never asserted): simulator -> nso-server/nso-events ->
 * a sink in a real embedded Node-RED, msg/s with the "infra events" view closed and open, in
 * alternating blocks of the same run. Counting is always on (integer increments on the
 * connection); "open" adds what an editor with the tab open costs the runtime: a health report
 * built every second and serialised as Node-RED's comms does for each editor.
 * Run: node --expose-gc --import tsx bench/health-view.ts [--events 200000] [--rounds 5]
 */
import { startNsoSimulator } from "../src/sim/nso";
import { HealthRegistry } from "../src/nodes/lib/health";
import { metricsText } from "../src/nodes/lib/health-metrics";
import { startEmbeddedRed } from "./_support/embedded-red";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const EVENTS = arg("--events", 200_000);
const ROUNDS = arg("--rounds", 5);
const k = (n: number): string => `${(n / 1000).toFixed(1)}k`;

const BENCH_NODES = {
  name: "bench-nodes",
  js: `module.exports = function (RED) {
      function Sink(c) { RED.nodes.createNode(this, c); this.on("input", () => globalThis.__healthBenchSink()); }
      RED.nodes.registerType("bench-sink", Sink);
    };\n`,
  html: `<script type="text/javascript">RED.nodes.registerType('bench-sink',{category:'function',defaults:{},inputs:1,outputs:0});</script>`,
};

/** Keeps ~20k events in flight until `n` have reached the sink; returns events/s. */
async function pump(n: number, inject: (k: number) => void, count: () => number): Promise<number> {
  const base = count();
  let sent = 0;
  const t0 = process.hrtime.bigint();
  while (count() - base < n) {
    if (sent - (count() - base) < 20_000 && sent < n) {
      inject(2000);
      sent += 2000;
    }
    await new Promise((r) => setImmediate(r));
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function main(): Promise<void> {
  const sim = await startNsoSimulator({ port: 0 });
  let count = 0;
  (globalThis as Record<string, unknown>).__healthBenchSink = (): void => void count++;
  const flows = [
    { id: "t1", type: "tab", label: "bench" },
    { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
    { id: "ev", z: "t1", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], routing: "single", autoAck: 0, wires: [["sink"]] },
    { id: "sink", z: "t1", type: "bench-sink", wires: [] },
  ];
  const red = await startEmbeddedRed({ prefix: "health-bench", types: ["nso-server", "nso-events"], bench: BENCH_NODES, flows });
  await sim.server.waitForSubscribers(1);
  const inject = (n: number): void => {
    for (let i = 0; i < n; i++) sim.server.inject({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: "x" });
  };
  const registry = HealthRegistry.of(red.RED);
  let published = 0;
  let bytes = 0;
  // What the plugin does with a report (RED.comms.publish), and what comms does per editor: JSON.
  const open = (): void => {
    registry.publish = (report) => {
      published++;
      bytes = JSON.stringify({ topic: "infra-events/health", data: report }).length;
    };
  };
  const closed = (): void => {
    registry.publish = undefined;
  };

  await pump(20_000, inject, () => count);
  const rates = { closed: [] as number[], open: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    closed();
    rates.closed.push(await pump(EVENTS, inject, () => count));
    open();
    rates.open.push(await pump(EVENTS, inject, () => count));
  }
  closed();
  const report = registry.report();
  const metrics = metricsText(report);
  await red.stop();
  await sim.close();

  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const c = median(rates.closed);
  const o = median(rates.open);
  console.log(`health view, simulator -> nso-events -> sink (one process, one core), ${ROUNDS} alternating blocks of ${EVENTS} events:`);
  console.log(`  view closed (counting only):  median ${k(c)} msg/s   [${rates.closed.map(k).join(", ")}]`);
  console.log(`  view open (report every 1 s): median ${k(o)} msg/s   [${rates.open.map(k).join(", ")}]   (${((o / c - 1) * 100).toFixed(1)}% vs closed)`);
  console.log(`  reports published while open: ${published}, ${bytes} bytes each; metrics text: ${metrics.length} bytes`);
  console.log(`  counted by the connection: ${report.connections[0]?.events.total ?? 0} events, sink received ${count}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
