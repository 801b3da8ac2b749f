/**
 * NSO figures (printed, never asserted):
 *  1. decode rate of a realistic notification corpus (codec + payload decoder), next to
 *     Erlang's own binary_to_term on the same bytes in the same run;
 *  2. end to end simulator -> nso-server/nso-events -> a sink node in a real embedded
 *     Node-RED 4.1 runtime: msg/s, p50/p99 latency at a fixed 10k msg/s, heap growth over
 *     1M events; next to Node-RED's own ceiling (a trivial source node -> the same sink)
 *     and the raw client without Node-RED.
 * Run: node --expose-gc --import tsx bench/nso-e2e.ts [--events 1000000]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeTerm, encodeTerm } from "../src/nso/term";
import { atom, ImproperList, Term, Tuple } from "../src/nso/term/types";
import { decodeNotification } from "../src/nso/notifications";
import { buildNotification, Spec } from "../src/sim/nso/builders";
import { startNsoSimulator } from "../src/sim/nso";
import { NsoClient } from "../src/nso/client";
import { maskOf } from "../src/nso/constants";
import { Backoff } from "../src/core/backoff";
import { startEmbeddedRed } from "./_support/embedded-red";

const argEvents = process.argv.indexOf("--events");
const TOTAL = argEvents > 0 ? Number(process.argv[argEvents + 1]) : 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;
const k = (n: number): string => `${Math.round(n / 1000)}k`;

// ---------------------------------------------------------------- 1. decode rate
const admin = { usid: 59, username: "admin", context: "cli", proto: 2, ip: "192.0.2.10", port: 52344, logintime: 1795372452 };
const CORPUS_SPECS: Spec[] = [
  { type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: "assigned to groups: admin" },
  { type: "NOTIF_AUDIT", logno: 12, user: "admin", usid: 59, msg: "CLI 'commit label lbl-101 comment real-nso-trigger'" },
  { type: "NOTIF_USER_SESSION", session_type: 1, uinfo: admin, database: 0 },
  { type: "NOTIF_COMMIT_DIFF", database: 2, uinfo: admin, th: 119, comment: "real-nso-trigger", label: "lbl-101" },
  { type: "NOTIF_COMMIT_SIMPLE", database: 2, uinfo: admin, diff_available: 1 },
  { type: "NOTIF_HA_INFO", ha_type: 6, data: 0 },
  { type: "NOTIF_DAEMON", logno: 20, prio: 6, msg: "NCS started vsn: 6.2.5" },
  {
    type: "NOTIF_PROGRESS",
    ptype: 2,
    duration: 1534,
    trace_id: "bd306620-dc1b-4034-8a31-6d74b9f5a5a8",
    span_id: "4a2f6590627d5abd",
    usid: 59,
    tid: 119,
    context: "cli",
    subsystem: "ncs",
    msg: "applying transaction",
    attributes: [
      [":device", "ce0"],
      ["x", 1],
    ],
    links: [["bd306620-dc1b-4034-8a31-6d74b9f5a5a8", "4a2f6590627d5abd"]],
  },
  {
    type: "NOTIF_AUDIT_NETWORK",
    usid: 83,
    tid: 166,
    user: "admin",
    device: "d0",
    trace_id: "bd306620",
    config: "<rpc><edit-config><config><demo><value>v103</value></demo></config></edit-config></rpc>",
  },
];
function buildStream(): Term {
  // The NETCONF config-change stream event of a real 6.2.5 (12 tagged values).
  const q = (t: number): ImproperList => new ImproperList([1244620176], t);
  const v: Term[] = [
    new Tuple([q(2103098691), atom("start")]),
    new Tuple([q(737643097), atom("start")]),
    new Tuple([q(870658415), Buffer.from("admin")]),
    new Tuple([q(372565948), new Tuple([12, 0])]),
    new Tuple([q(1399987302), new Tuple([127, 0, 0, 1])]),
    new Tuple([q(737643097), atom("stop")]),
    new Tuple([q(449538578), new Tuple([28, 0])]),
    new Tuple([q(1716487530), atom("start")]),
    new Tuple([q(1914145912), new Tuple([34, [171963197, 992999221, new ImproperList([469622343], 270307409)]])]),
    new Tuple([q(1037011282), new Tuple([28, 1])]),
    new Tuple([q(1716487530), atom("stop")]),
    new Tuple([q(2103098691), atom("stop")]),
  ];
  return new Tuple([524288, new Tuple([new Tuple([19, new Tuple([2026, 11, 22, 18, 34, 12, 619337, 0, 0])]), v])]);
}
const corpus: Buffer[] = [...CORPUS_SPECS.map((s) => encodeTerm(buildNotification(s, { libVsn: 0x08020500, mask: 0x7fffffff }))), encodeTerm(buildStream())];

function decodeBench(): { ts: number; tsTermOnly: number } {
  const N = 300_000;
  for (let i = 0; i < 50_000; i++) decodeNotification(decodeTerm(corpus[i % corpus.length]), { libVsn: 0x08020500 });
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) decodeTerm(corpus[i % corpus.length]);
  const termOnly = N / (Number(process.hrtime.bigint() - t0) / 1e9);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) decodeNotification(decodeTerm(corpus[i % corpus.length]), { libVsn: 0x08020500 });
  const full = N / (Number(process.hrtime.bigint() - t0) / 1e9);
  return { ts: full, tsTermOnly: termOnly };
}

function erlangBench(): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), "nso-bench-"));
  const file = join(dir, "corpus.bin");
  writeFileSync(
    file,
    Buffer.concat(
      corpus.map((b) => {
        const h = Buffer.alloc(4);
        h.writeUInt32BE(b.length);
        return Buffer.concat([h, b]);
      }),
    ),
  );
  const script = `
    {ok, B} = file:read_file("${file}"),
    Split = fun S(<<L:32, T:L/binary, R/binary>>, Acc) -> S(R, [T | Acc]); S(<<>>, Acc) -> lists:reverse(Acc) end,
    C = list_to_tuple(Split(B, [])), M = tuple_size(C), N = 300000,
    Loop = fun L(0) -> ok; L(I) -> binary_to_term(element((I rem M) + 1, C)), L(I - 1) end,
    Loop(50000),
    {T, ok} = timer:tc(fun() -> Loop(N) end),
    io:format("~p~n", [round(N / (T / 1.0e6))]), halt().`;
  try {
    return Number(execFileSync("erl", ["-noshell", "-eval", script], { encoding: "utf8", timeout: 60000 }).trim());
  } catch (e) {
    console.log(`  (erl not available: ${(e as Error).message.split("\n")[0]})`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Keeps ~20k events in flight until `n` have been counted by `count()`; returns events/s. */
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

// ---------------------------------------------------------------- 2. raw client (no Node-RED)
async function rawBaseline(n: number): Promise<number> {
  const sim = await startNsoSimulator({ port: 0 });
  const client = new NsoClient({ host: "127.0.0.1", port: sim.port, backoff: new Backoff(), subscription: () => ({ mask: maskOf(["NOTIF_AUDIT"]) }) });
  let got = 0;
  client.on("notification", () => got++);
  client.start();
  await sim.server.waitForSubscribers(1);
  const inject = (k: number): void => {
    for (let i = 0; i < k; i++) sim.server.inject({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: "x" });
  };
  await pump(2000, inject, () => got);
  const rate = await pump(n, inject, () => got);
  client.stop();
  await sim.close();
  return rate;
}

// ---------------------------------------------------------------- 3. end to end in Node-RED
// The sink counts and timestamps; the source is Node-RED's own ceiling (a trivial node sending the same messages).
const BENCH_NODES = {
  name: "bench-nodes",
  js: `module.exports = function (RED) {
      function Sink(c) { RED.nodes.createNode(this, c); const s = globalThis.__nsoBenchSink; this.on("input", (m) => s(m)); }
      RED.nodes.registerType("bench-sink", Sink);
      function Source(c) { RED.nodes.createNode(this, c); globalThis.__nsoBenchSource = (m) => this.send(m); }
      RED.nodes.registerType("bench-source", Source);
    };\n`,
  html: `<script type="text/javascript">RED.nodes.registerType('bench-sink',{category:'function',defaults:{},inputs:1,outputs:0});RED.nodes.registerType('bench-source',{category:'function',defaults:{},inputs:0,outputs:1});</script>`,
};

async function e2e(rawRate: number): Promise<void> {
  const sim = await startNsoSimulator({ port: 0 });
  const sink = { count: 0, latencies: [] as number[], record: false };
  (globalThis as Record<string, unknown>).__nsoBenchSink = (m: { payload?: { msg?: string } }): void => {
    sink.count++;
    if (sink.record && m.payload?.msg) sink.latencies.push(Number(process.hrtime.bigint() - BigInt(m.payload.msg)) / 1e6);
  };
  const flows = [
    { id: "t1", type: "tab", label: "bench" },
    { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
    { id: "ev", z: "t1", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], routing: "single", autoAck: 0, wires: [["sink"]] },
    { id: "src", z: "t1", type: "bench-source", wires: [["sink"]] },
    { id: "sink", z: "t1", type: "bench-sink", wires: [] },
  ];
  const red = await startEmbeddedRed({ prefix: "nso-bench", types: ["nso-server", "nso-events"], bench: BENCH_NODES, flows });
  const RED = red.RED;
  await sim.server.waitForSubscribers(1);
  const inject = (n: number, stamp = false): void => {
    for (let i = 0; i < n; i++)
      sim.server.inject({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: stamp ? String(process.hrtime.bigint()) : "x" });
  };
  const waitCount = async (target: number, maxMs = 120000): Promise<void> => {
    const t0 = Date.now();
    while (sink.count < target && Date.now() - t0 < maxMs) await new Promise((r) => setTimeout(r, 2));
  };

  await pump(2000, inject, () => sink.count);
  const rate = await pump(200_000, inject, () => sink.count);

  // Latency at a fixed 10k msg/s (about 10 events per ms); stamps are taken when the simulator writes.
  sink.count = 0;
  sink.record = true;
  const L = 50_000;
  const start = Date.now();
  let sentL = 0;
  while (sentL < L) {
    const due = Math.min(L, Math.floor(((Date.now() - start) / 1000) * 10_000) + 10);
    if (due > sentL) {
      inject(due - sentL, true);
      sentL = due;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await waitCount(L);
  sink.record = false;
  const lat = sink.latencies.sort((a, b) => a - b);
  const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];

  // Heap growth over TOTAL events.
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  await pump(TOTAL, inject, () => sink.count);
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heap0;

  // Node-RED's ceiling: the same message shape from a trivial source node to the same sink.
  const send = (globalThis as Record<string, unknown>).__nsoBenchSource as (m: object) => void;
  const ceiling = await pump(
    200_000,
    (n) => {
      for (let i = 0; i < n; i++)
        send({ topic: "NOTIF_AUDIT", payload: { logno: 116, user: "admin", usid: 59, msg: "x" }, nso: { type: 1, typeName: "NOTIF_AUDIT", server: "x" } });
    },
    () => sink.count,
  );

  await red.stop();
  await sim.close();

  console.log("end to end (simulator and Node-RED in one process, one core):");
  console.log(`  simulator -> nso-events -> sink (Node-RED ${RED.version()}): ${k(rate)} msg/s   (target >= 30k)`);
  console.log(`    baseline: simulator -> raw NsoClient, no Node-RED: ${k(rawRate)} msg/s`);
  console.log(`    baseline: Node-RED ceiling, trivial source -> sink: ${k(ceiling)} msg/s`);
  console.log(
    `  latency at 10k msg/s (${lat.length} events): p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(2)} ms   (target p99 < 5 ms)`,
  );
  console.log(`  heap growth over ${TOTAL} events: ${mb(heapGrowth)}   (target < 50 MB)`);
}

async function main(): Promise<void> {
  console.log(
    `corpus: ${corpus.length} frames, ${corpus.reduce((a, b) => a + b.length, 0)} bytes (audit, user session, commit diff/simple, HA, daemon, progress, audit-network, NETCONF stream event)`,
  );
  const d = decodeBench();
  const erl = erlangBench();
  console.log("decode rate (one core):");
  console.log(`  decodeTerm + decodeNotification: ${k(d.ts)} notifications/s   (target >= 300k)`);
  console.log(`  decodeTerm only:                 ${k(d.tsTermOnly)} terms/s`);
  if (erl) console.log(`  baseline: Erlang binary_to_term:  ${k(erl)} terms/s   (Erlang / ours = ${(erl / d.ts).toFixed(2)}; target within 2x)`);
  const raw = await rawBaseline(200_000);
  await e2e(raw);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
