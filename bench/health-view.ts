/**
 * What the health view costs (printed, never asserted): simulator -> nso-server/nso-events ->
 * a sink in a real embedded Node-RED, msg/s in three conditions taking turns in blocks of the
 * same run (so a machine shared with other work loads them alike):
 *  - no counting: the one per-event counter (TypeCounts.add, the events by type) made a no-op;
 *  - counting, view closed: as shipped, nobody looking;
 *  - counting, view open: plus what an editor with the tab open costs the runtime, a health
 *    report built every second and serialised as Node-RED's comms does for each editor.
 * Also the cost of one TypeCounts.add on its own.
 * Run: node --expose-gc --import tsx bench/health-view.ts [--events 200000] [--rounds 5]
 */
import { startNsoSimulator } from "../src/sim/nso";
import { HealthRegistry } from "../src/nodes/lib/health";
import { metricsText } from "../src/nodes/lib/health-metrics";
import { TypeCounts } from "../src/core/type-counts";
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

  // Taken off the prototype and put back as it was: never called unbound.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const add = TypeCounts.prototype.add;
  const counting = (on: boolean): void => {
    TypeCounts.prototype.add = on ? add : function (this: TypeCounts): void {};
  };

  await pump(20_000, inject, () => count);
  const rates = { none: [] as number[], closed: [] as number[], open: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    counting(false);
    closed();
    rates.none.push(await pump(EVENTS, inject, () => count));
    counting(true);
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
  const n = median(rates.none);
  const c = median(rates.closed);
  const o = median(rates.open);
  const vs = (x: number): string => `${((x / n - 1) * 100).toFixed(1)}% vs no counting`;
  console.log(`health view, simulator -> nso-events -> sink (one process), ${ROUNDS} rounds of three ${EVENTS}-event blocks taking turns:`);
  console.log(`  no counting (baseline):           median ${k(n)} msg/s   [${rates.none.map(k).join(", ")}]`);
  console.log(`  counting, view closed:            median ${k(c)} msg/s   [${rates.closed.map(k).join(", ")}]   (${vs(c)})`);
  console.log(`  counting, view open (1 report/s): median ${k(o)} msg/s   [${rates.open.map(k).join(", ")}]   (${vs(o)})`);
  console.log(`  one TypeCounts.add (3 types, fresh strings as decoded): ${addCost().toFixed(1)} ns`);
  console.log(`  reports published while open: ${published}, ${bytes} bytes each; metrics text: ${metrics.length} bytes`);
  console.log(`  sink received ${count} events; the connection counted ${report.connections[0]?.events.total ?? 0} (all but the no-counting blocks')`);
}

/** Nanoseconds per add, with type strings built per event as a decoder builds them. */
function addCost(): number {
  const names = ["NOTIF_AUDIT", "NOTIF_COMMIT_DIFF", "NOTIF_USER_SESSION"].map((t) => Buffer.from(t));
  const strings = Array.from({ length: 3000 }, (_, i) => names[i % 3].toString("latin1"));
  const counts = new TypeCounts();
  const N = 3_000_000;
  const run = (): bigint => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) counts.add(strings[i % 3000]);
    return process.hrtime.bigint() - t0;
  };
  run();
  return Number(run()) / N;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
