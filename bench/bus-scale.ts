/**
 * Scale-out figures (issue 16; printed, never asserted): events/s processed when each event costs
 * 5 ms of asynchronous work (a function node awaiting a 5 ms timer, a stand-in for a ticketing
 * API), one NSO simulator offering the same audit notifications at a fixed rate to:
 *  - direct: one Node-RED, nso-events -> the work; nso-events' window (default 100) is how many
 *    events are in work at once; also with window 5, one worker's credit (like for like);
 *  - bus: one ingest Node-RED (nso-events -> amqp1-send, bus event format) into a durable queue
 *    on the RabbitMQ at 127.0.0.1:5672, and 1, 2, then 3 worker Node-REDs reading it
 *    (amqp1-events, manual settlement, credit 5 -> the same work -> amqp1-ack).
 * Every Node-RED is a process of its own (test/support/nodered-embed.ts). Each worker counts what
 * it processed (per event number, with the time) and the bench reads that over HTTP; every cell
 * checks that each offered event was processed, and says how many were processed twice. Each
 * cell is bounded: a fixed number of events after a warm-up batch, and a time limit. Next to each
 * rate: its ceiling without any overhead (events in work at once / 5 ms).
 * Run: npm run bench -- bus-scale  (it builds first: the Node-REDs load the package the way a user
 * installs it, from dist/nodes/*.js) [--events 3000] [--rate 5000] [--cell-seconds 60] [--credit 5] [--ingest-window 2000]
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { NsoSimServer } from "../src/sim/nso/server";
import { EmbeddedNodeRed, getJson, linkPackage, makeUserDir, startNodeRed } from "../test/support/nodered-embed";
import { deleteQueues, listQueues, RABBIT, RABBIT_URL } from "../test/unit/amqp/support/rabbit";

const root = join(__dirname, "..");
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} takes a positive number, got ${process.argv[i + 1]}`);
  return v;
};
/** Events per cell (measured), after a warm-up batch of WARMUP. */
const N = arg("--events", 3000);
const WARMUP = Math.min(300, Math.ceil(N / 10));
/** Offered rate (events/s): above what one worker can do (credit 5 / 5 ms = 1000/s), and above three. */
const RATE = arg("--rate", 5000);
const CELL_MS = arg("--cell-seconds", 60) * 1000;
const WORK_MS = 5;
/** Each worker's credit (events in work at once), also the window of the like-for-like direct cell. */
const CREDIT = arg("--credit", 5);
const DIRECT_WINDOW = 100; // nso-events' default window
/**
 * The ingest's nso-events window: a message is finished when the broker confirmed it, and
 * RabbitMQ confirms a persistent message once it is on disk (or consumed), later while the
 * broker is busy. With the default window of 100 the ingest fell to 720-810 events/s once 2 or 3
 * workers were reading (one run, load average 6), so the 3-worker cell measured the ingest, not
 * the workers. A larger window keeps the ingest ahead of the workers.
 */
const INGEST_WINDOW = arg("--ingest-window", 2000);
const WORKERS = 3;
const QUEUE = `ietest.bench.bus.${randomBytes(4).toString("hex")}`;

// The work, the same in every Node-RED: 5 ms of asynchronous waiting, then a record of the event
// (per cell: count, first and last time, event numbers) in flow context, which the report
// endpoint below serves. An event's cell is its logno / 1e6. Anything else (an ingest's gap
// message) is counted apart. The message goes on (to amqp1-ack in a worker). The ingest records
// its broker-confirmed sends the same way, without the wait.
const record = (waitMs: number): string => `${waitMs ? `await new Promise((r) => setTimeout(r, ${waitMs}));\n` : ""}const p = msg.payload || {};
if (msg.topic === "NOTIF_AUDIT" && typeof p.logno === "number") {
  const all = flow.get("bench") || {};
  const key = String(Math.floor(p.logno / 1e6));
  const c = all[key] || (all[key] = { n: 0, first: 0, last: 0, lognos: [], times: [] });
  const now = Date.now();
  if (c.n++ === 0) c.first = now;
  c.last = now;
  c.lognos.push(p.logno % 1e6);
  c.times.push(now);
  flow.set("bench", all);
} else {
  flow.set("benchOther", (flow.get("benchOther") || 0) + 1);
}
return msg;`;
const REPORT = `const all = flow.get("bench") || {};
const full = msg.req.query.full === "1";
const cells = {};
for (const k of Object.keys(all)) cells[k] = full ? all[k] : { n: all[k].n, first: all[k].first, last: all[k].last };
msg.payload = { cells, other: flow.get("benchOther") || 0 };
return msg;`;

interface CellRecord {
  n: number;
  first: number;
  last: number;
  lognos?: number[];
  times?: number[];
}
interface Report {
  cells: Record<string, CellRecord>;
  other: number;
}

function nsoNodes(nsoPort: number, window: number | "", next: string): unknown[] {
  return [
    { id: "nso", type: "nso-server", name: "sim", host: "127.0.0.1", port: nsoPort, protoVsn: "auto", heartbeat: 10, maxFrameSize: 16777216 },
    {
      id: "ev",
      type: "nso-events",
      z: "tab",
      server: "nso",
      notifications: ["NOTIF_AUDIT"],
      heartbeat: 10,
      healthCheck: 10,
      stream: "",
      routing: "single",
      ackMode: "sent",
      autoAck: 10,
      window,
      outputs: 1,
      wires: [[next]],
    },
  ];
}

/** The work node (or the ingest's record of what the broker confirmed) and the GET /api/bench endpoint that reports what it did. */
function workNodes(waitMs: number, next: string[]): unknown[] {
  return [
    { id: "work", type: "function", z: "tab", func: record(waitMs), outputs: 1, timeout: 0, wires: [next] },
    { id: "in", type: "http in", z: "tab", url: "/bench", method: "get", upload: false, wires: [["report"]] },
    { id: "report", type: "function", z: "tab", func: REPORT, outputs: 1, wires: [["out"]] },
    { id: "out", type: "http response", z: "tab", statusCode: "", headers: {}, wires: [] },
  ];
}

const broker = { id: "br", type: "amqp1-broker", name: "local", urls: RABBIT_URL, vhost: "", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 };
const brokerCredentials = { br: { username: RABBIT.username, password: RABBIT.password } };

const directFlow = (nsoPort: number, window: number | ""): unknown[] => [
  { id: "tab", type: "tab", label: "direct" },
  ...nsoNodes(nsoPort, window, "work"),
  ...workNodes(WORK_MS, []),
];
const ingestFlow = (nsoPort: number): unknown[] => [
  { id: "tab", type: "tab", label: "ingest" },
  broker,
  ...nsoNodes(nsoPort, INGEST_WINDOW, "send"),
  { id: "send", type: "amqp1-send", z: "tab", broker: "br", address: `/queue/${QUEUE}`, format: "bus", durable: true, maxQueue: 10000, wires: [] },
  // amqp1-send finishes a message (done) once the broker confirmed it: the complete node sees that.
  { id: "confirmed", type: "complete", z: "tab", scope: ["send"], uncaught: false, wires: [["work"]] },
  ...workNodes(0, []),
];
const workerFlow = (): unknown[] => [
  { id: "tab", type: "tab", label: "worker" },
  broker,
  {
    id: "q",
    type: "amqp1-events",
    z: "tab",
    broker: "br",
    address: `/queue/${QUEUE}`,
    format: "xml-event",
    routing: "single",
    ack: "manual",
    durability: "durable",
    credit: CREDIT,
    dedupSize: 0,
    outputs: 1,
    wires: [["work"]],
  },
  ...workNodes(WORK_MS, ["ack"]),
  { id: "ack", type: "amqp1-ack", z: "tab", outcome: "accept", deliveryFailed: true, undeliverableHere: false, wires: [] },
];

/** Everything the bench started, stopped once (on success, failure or a signal). */
class Resources {
  readonly reds: Array<{ name: string; red: EmbeddedNodeRed }> = [];
  readonly dirs: string[] = [];
  sim: NsoSimServer | undefined;
  queueUsed = false;
  private done: Promise<void> | undefined;

  async red(name: string, flows: unknown[], amqp: boolean): Promise<EmbeddedNodeRed> {
    const userDir = makeUserDir("ie-bench-bus-");
    this.dirs.push(userDir);
    linkPackage(userDir, root);
    const red = await startNodeRed({ userDir, flows, credentials: amqp ? brokerCredentials : undefined, startTimeoutMs: 60_000 });
    this.reds.push({ name, red });
    if (red.flowState !== "started") throw new Error(`${name}: flows did not start (${red.flowState})\n${red.output()}`);
    return red;
  }

  async stopRed(red: EmbeddedNodeRed): Promise<void> {
    await red.stop().catch(() => {
      try {
        process.kill(red.pid, "SIGKILL");
      } catch {
        // already gone
      }
    });
  }

  cleanup(): Promise<void> {
    return (this.done ??= (async () => {
      await Promise.all(this.reds.map((r) => this.stopRed(r.red)));
      await this.sim?.close();
      if (this.queueUsed) await deleteQueues([QUEUE]);
      for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    })());
  }
}

async function until(what: string | (() => string), cond: () => boolean | Promise<boolean>, ms: number, every = 100): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Offers `n` audit events of cell `cell` at RATE/s; returns when the first and the last went out. */
async function offer(sim: NsoSimServer, cell: number, n: number): Promise<{ t0: number; t1: number }> {
  const t0 = Date.now();
  let sent = 0;
  while (sent < n) {
    const due = Math.min(n, Math.floor(((Date.now() - t0) / 1000) * RATE) + 1);
    for (; sent < due; sent++) sim.inject({ type: "NOTIF_AUDIT", logno: cell * 1e6 + sent, usid: 7, user: "bench", msg: `bench event ${sent}` });
    await new Promise((r) => setTimeout(r, 1));
  }
  return { t0, t1: Date.now() };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux; 10 ms ticks). */
function cpuMs(pid: number): number {
  // The fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** The machine's RabbitMQ (its Erlang VM, started with `-s rabbit boot`), for its CPU time; undefined if not found. */
function brokerPid(): number | undefined {
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (cmd.includes("beam.smp") && cmd.includes("-home\0/var/lib/rabbitmq") && cmd.includes("rabbit\0boot")) return Number(d);
    } catch {
      // a process that ended while we looked
    }
  }
  return undefined;
}

const report = (red: EmbeddedNodeRed, full = false): Promise<Report> => getJson<Report>(`${red.url}api/bench${full ? "?full=1" : ""}`);

interface Cell {
  label: string;
  /** Events in work at once, all processes together: the ceiling is this / 5 ms. */
  concurrency: number;
  offered: number;
  rate: number;
  /** From the first event offered to the last processed. */
  endToEnd: number;
  /** Bus cells: the ingest's broker-confirmed sends/s, first to last. */
  ingest?: number;
  /**
   * Bus cells: processed/s after the ingest's last confirmed send (the workers alone on a
   * backlog), and that backlog's share of the cell; no rate when it was under a fifth.
   */
  drain?: { rate?: number; share: number };
  processed: number;
  distinct: number;
  twice: number;
  shares: number[];
  /** CPU µs per event of the cell's Node-REDs (the ingest too) and of the broker (with whatever else it served then). */
  cpuUs: number;
  brokerUs?: number;
  load: number;
}

/** Processed/s from `from` (the ingest's last confirm) to `last`, if at least a fifth of the cell came after it. */
function drainAfter(times: number[], from: number, last: number): { rate?: number; share: number } {
  const after = times.filter((t) => t > from).length;
  const share = after / N;
  return { share, rate: share >= 0.2 && last > from ? after / ((last - from) / 1000) : undefined };
}

/** What the given Node-REDs recorded of one cell: all of them together. */
async function collect(reds: EmbeddedNodeRed[], cell: number, n: number) {
  const recs = (await Promise.all(reds.map((r) => report(r, true)))).map((r) => r.cells[cell] ?? { n: 0, first: Infinity, last: 0, lognos: [] });
  const seen = new Set(recs.flatMap((r) => r.lognos ?? []));
  const processed = recs.reduce((a, r) => a + r.n, 0);
  const first = Math.min(...recs.filter((r) => r.n > 0).map((r) => r.first));
  const last = Math.max(...recs.map((r) => r.last));
  return {
    first,
    last,
    times: recs.flatMap((r) => r.times ?? []),
    rate: (n - 1) / Math.max(0.001, (last - first) / 1000),
    processed,
    distinct: [...seen].filter((l) => l >= 0 && l < n).length,
    twice: processed - seen.size,
    shares: recs.map((r) => r.n),
  };
}

/**
 * One cell: a warm-up batch, then N events, each waited for (bounded) at the processing
 * Node-REDs; a bus cell also reads the ingest's record of what the broker confirmed.
 */
async function measure(sim: NsoSimServer, cell: number, label: string, concurrency: number, reds: EmbeddedNodeRed[], ingest?: EmbeddedNodeRed): Promise<Cell> {
  const batch = async (id: number, n: number): Promise<{ t0: number; t1: number }> => {
    const offered = await offer(sim, id, n);
    let got = 0;
    await until(
      () => `${label}: ${n} events processed (have ${got})`,
      async () => {
        const rs = await Promise.all(reds.map((r) => report(r)));
        got = rs.reduce((a, r) => a + (r.cells[id]?.n ?? 0), 0);
        return got >= n;
      },
      CELL_MS,
      200,
    );
    return offered;
  };
  await batch(cell + 50, WARMUP);
  const pids = [...reds, ...(ingest ? [ingest] : [])].map((r) => r.pid);
  const broker = ingest ? brokerPid() : undefined;
  const cpu0 = pids.reduce((a, p) => a + cpuMs(p), 0);
  const broker0 = broker && cpuMs(broker);
  const { t0, t1 } = await batch(cell, N);
  const cpu = pids.reduce((a, p) => a + cpuMs(p), 0) - cpu0;
  const brokerCpu = broker && broker0 !== undefined ? cpuMs(broker) - broker0 : undefined;
  const c = await collect(reds, cell, N);
  const sent = ingest && (await collect([ingest], cell, N));
  if (sent && sent.distinct !== N) throw new Error(`${label}: the ingest recorded ${sent.distinct} of ${N} events as confirmed by the broker`);
  return {
    label,
    concurrency,
    offered: N / Math.max(0.001, (t1 - t0) / 1000),
    rate: c.rate,
    endToEnd: N / Math.max(0.001, (c.last - t0) / 1000),
    ingest: sent?.rate,
    drain: sent && drainAfter(c.times, sent.last, c.last),
    processed: c.processed,
    distinct: c.distinct,
    twice: c.twice,
    shares: c.shares,
    cpuUs: (cpu * 1000) / N,
    brokerUs: brokerCpu === undefined ? undefined : (brokerCpu * 1000) / N,
    load: os.loadavg()[0],
  };
}

async function run(res: Resources): Promise<Cell[]> {
  const sim = (res.sim = new NsoSimServer({ host: "127.0.0.1", port: 0, maapi: false }));
  const { port } = await sim.listen();
  const subscribers = async (n: number, what: string) => until(`${what}: ${n} subscriber(s) at the simulator`, () => sim.subscribers().length === n, 30_000);
  const cells: Cell[] = [];

  // Direct: one Node-RED at a time, so each event is processed once.
  for (const [i, window] of [DIRECT_WINDOW, CREDIT].entries()) {
    const red = await res.red(`direct-${window}`, directFlow(port, window === DIRECT_WINDOW ? "" : window), false);
    await subscribers(1, "direct");
    const label = window === DIRECT_WINDOW ? `direct: nso-events (default window ${window}) -> work` : `direct: nso-events (window ${window}) -> work`;
    cells.push(await measure(sim, i + 1, label, window, [red]));
    await res.stopRed(red);
    await subscribers(0, "direct stopped");
  }

  // Bus: the ingest declares the queue (a classic durable queue: `/queue/<name>`), then one more
  // worker per cell; a cell starts once the broker counts every worker as a consumer.
  res.queueUsed = true;
  const ingest = await res.red("ingest", ingestFlow(port), true);
  await subscribers(1, "ingest");
  await until(`queue ${QUEUE} declared`, async () => (await listQueues()).some((q) => q.name === QUEUE), 30_000, 500);
  const workers: EmbeddedNodeRed[] = [];
  for (let w = 1; w <= WORKERS; w++) {
    workers.push(await res.red(`worker-${w}`, workerFlow(), true));
    await until(`${w} consumer(s) on ${QUEUE}`, async () => (await listQueues()).find((q) => q.name === QUEUE)?.consumers === w, 30_000, 500);
    const label = `bus: ingest -> queue -> ${w} worker${w > 1 ? "s" : ""} (credit ${CREDIT} each)`;
    cells.push(await measure(sim, 2 + w, label, w * CREDIT, workers, ingest));
  }
  const left = (await listQueues()).find((q) => q.name === QUEUE);
  if (left && left.messages !== 0) throw new Error(`${left.messages} messages left in ${QUEUE} after the last cell`);
  return cells;
}

/** Left-aligned first column, the others right-aligned, each as wide as its widest cell. */
function table(rows: string[][]): string[] {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "));
}

function print(cells: Cell[], load0: number[]): void {
  const cores = os.cpus().length;
  const r = (x: number) => x.toFixed(0);
  console.log(
    `bus-scale: ${N} NSO audit events per cell (after ${WARMUP} warm-up events), offered at ${RATE}/s by one simulator; ${WORK_MS} ms of asynchronous work per event`,
  );
  console.log(
    `  Node ${process.version}, every Node-RED a process of its own; RabbitMQ on ${RABBIT_URL}, durable queue ${QUEUE} (deleted at the end); the ingest's nso-events window ${INGEST_WINDOW}`,
  );
  console.log(`  ${cores} cores; load average at start ${load0.map((l) => l.toFixed(2)).join(" ")}`);
  const rows = [
    [
      "cell",
      "processed/s",
      "ceiling",
      "offered/s",
      "into queue/s",
      "backlog drain/s",
      "offered->last/s",
      "processed",
      "missing",
      "twice",
      "per process",
      "CPU µs/event",
      "broker µs/event",
      "load 1 min",
    ],
  ];
  for (const c of cells) {
    const ceiling = (c.concurrency * 1000) / WORK_MS;
    rows.push([
      c.label,
      `${r(c.rate)}${c.rate >= 0.95 * c.offered ? " (the offer)" : ""}`,
      r(ceiling),
      r(c.offered),
      c.ingest === undefined ? "-" : r(c.ingest),
      c.drain === undefined ? "-" : `${c.drain.rate === undefined ? "-" : r(c.drain.rate)} (${(c.drain.share * 100).toFixed(0)} %)`,
      r(c.endToEnd),
      String(c.processed),
      String(N - c.distinct),
      String(c.twice),
      c.shares.join("/"),
      r(c.cpuUs),
      c.brokerUs === undefined ? "-" : r(c.brokerUs),
      c.load.toFixed(2),
    ]);
  }
  for (const line of table(rows)) console.log(`  ${line}`);
  const bus = cells.filter((c) => c.ingest !== undefined);
  if (bus.length === WORKERS) {
    const x = (k: number, f: (c: Cell) => number | undefined) => {
      const a = f(bus[k]);
      const b = f(bus[0]);
      return a === undefined || b === undefined ? "-" : (a / b).toFixed(2);
    };
    console.log(
      `  workers: processed/s 2 = ${x(1, (c) => c.rate)} x 1, 3 = ${x(2, (c) => c.rate)} x 1; backlog drain/s 2 = ${x(1, (c) => c.drain?.rate)} x 1, 3 = ${x(2, (c) => c.drain?.rate)} x 1 (ideal 2 and 3); 1 worker = ${((bus[0].rate / cells[1].rate) * 100).toFixed(0)} % of direct with the same window (${CREDIT})`,
    );
  }
  console.log(`  processed/s: first to last event processed, all processes together ("the offer": within 5 % of the offered rate, so it limited the cell);`);
  console.log(`  ceiling: events in work at once / ${WORK_MS} ms (direct: nso-events' window; bus: credit x workers); into queue/s: the ingest's`);
  console.log(`  broker-confirmed sends, first to last; backlog drain/s: processed/s after the ingest's last confirmed send, the workers alone`);
  console.log(`  on a backlog (the share of the cell processed then; "-" under 20 %); offered->last: first event offered to last processed;`);
  console.log(`  missing: offered, never processed;`);
  console.log(`  CPU µs/event: the cell's Node-RED processes (ingest included), /proc times over the measured batch; broker: RabbitMQ's VM, with`);
  console.log(`  whatever else it served meanwhile (the machine's broker is shared).`);
  console.log(
    `  The Node-REDs, RabbitMQ and the simulator share these ${cores} cores: beyond ${cores} workers a worker mostly competes for CPU, so 3 workers may not beat 2.`,
  );
  if (cells.some((c) => c.distinct !== N)) process.exitCode = 1;
}

async function main(): Promise<void> {
  const res = new Resources();
  let signalled = false;
  const onSignal = (sig: string) => {
    if (signalled) return;
    signalled = true;
    console.error(`${sig}: stopping the Node-REDs and deleting ${QUEUE}`);
    void res.cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  const load0 = os.loadavg();
  try {
    print(await run(res), load0);
  } finally {
    await res.cleanup();
  }
}

main().then(
  () => process.exit(),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
