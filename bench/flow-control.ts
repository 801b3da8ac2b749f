/**
 * Flow control figures (issue 11), printed, never asserted. Per channel (NSO, APIC, sysadm,
 * AMQP 1.0), a wire-speed flood into (a) a core delay node in rate-limit mode (500 msg/s) and
 * (b) a function node busy 1 ms per message, for `--seconds` (default 120) per cell, with flow
 * control off (window 0: the behaviour before issue 11; AMQP: amqp1-events as it was then,
 * rebuilt in bench/_support/flow-nodes.ts), on with "hold back" and, for the delay flow, with
 * "drop the oldest and announce it" (not for AMQP, which always holds back through credit).
 *
 * Each cell is a child process (bench/_support/flow-cell.ts: embedded Node-RED 4.1, heap capped
 * with --max-old-space-size, --expose-gc); the sender runs here: a simulator flooding as fast
 * as its socket takes events, or a RabbitMQ queue filled beforehand. A cell whose heap nears the
 * cap (or that dies) is stopped and reported "out of memory at N s".
 *
 * Targets per cell: live heap peak (heapUsed after a forced full GC, every 5 s) < 150 MB,
 * event-loop lag p99 < 100 ms, no reconnect, and with "hold back" no event lost.
 *
 * Run: npm run bench -- flow-control [--seconds 120] [--channel nso,apic,sysadm,amqp]
 *      [--flow delay,busy] [--mode off,hold,drop-oldest] [--backlog 1000000]
 *      [--amqp-backlog 300000] [--window 100] [--rate 500] [--heap-cap 1024]
 * FLOW_BENCH_SECONDS sets the default duration (scripts/bench.js sets it short for a full-suite run).
 */
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CellSample, CellSpec, Channel, FlowKind, FromCell, Mode, ToCell } from "./_support/flow-protocol";
import { deleteLeftQueues, startSender, Sender } from "./_support/flow-senders";

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string, dflt: number): number => {
  const v = opt(name);
  const n = v === undefined ? dflt : Number(v);
  if (!(n > 0)) throw new RangeError(`${name} must be a positive number, got ${String(v)}`);
  return n;
};
const list = <T extends string>(name: string, all: readonly T[]): T[] => {
  const v = opt(name);
  if (v === undefined) return [...all];
  const got = v.split(",").map((s) => s.trim()) as T[];
  for (const g of got) if (!all.includes(g)) throw new RangeError(`${name}: ${g} is not one of ${all.join(", ")}`);
  return got;
};

const SECONDS = num("--seconds", Number(process.env.FLOW_BENCH_SECONDS) || 120);
const CHANNELS = list<Channel>("--channel", ["nso", "apic", "sysadm", "amqp"]);
const FLOWS = list<FlowKind>("--flow", ["delay", "busy"]);
const MODES = list<Mode>("--mode", ["off", "hold", "drop-oldest"]);
const BACKLOG = num("--backlog", 1_000_000);
const AMQP_BACKLOG = num("--amqp-backlog", 300_000);
const WINDOW = num("--window", 100);
const RATE = num("--rate", 500);
const HEAP_CAP_MB = num("--heap-cap", 1024);
/** Stop a cell whose heap passes the cap less this much: it is about to die of it. */
const OOM_MARGIN_MB = Math.max(96, Math.round(HEAP_CAP_MB * 0.15));

const TARGET_HEAP_MB = 150;
const TARGET_LAG_MS = 100;
const MB = 1024 * 1024;

interface CellResult {
  spec: CellSpec;
  backlog: number;
  last: CellSample | undefined;
  oomAt: number | undefined;
  failure: string | undefined;
  produced: number;
  heldBack: number;
  load: number;
}

const log = (s: string): void => console.log(s);
const cellScript = join(__dirname, "_support", "flow-cell.ts");

function rssOf(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function runCell(spec0: Omit<CellSpec, "peer">): Promise<CellResult> {
  const backlog = spec0.channel === "amqp" ? AMQP_BACKLOG : BACKLOG;
  const sender: Sender = await startSender(spec0.channel, backlog, log);
  const spec: CellSpec = { ...spec0, peer: sender.peer };
  // The child's temp dirs (Node-RED's user and node dirs) go with this one, even after a kill.
  const tmp = mkdtempSync(join(tmpdir(), "fc-cell-"));
  const child = fork(cellScript, [], {
    execArgv: ["--import", "tsx", "--expose-gc", `--max-old-space-size=${HEAP_CAP_MB}`],
    env: { ...process.env, TMPDIR: tmp },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited: { code: number | null; signal: string | null } | undefined;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  let last: CellSample | undefined;
  let lastAt = Date.now();
  let final: CellSample | undefined;
  let ready = false;
  let error: string | undefined;
  child.on("message", (m: FromCell) => {
    if ("ready" in m) ready = true;
    else if ("sample" in m) {
      last = m.sample;
      lastAt = Date.now();
    } else if ("final" in m) final = m.final;
    else if ("error" in m) error = m.error;
  });
  const tell = (m: ToCell) => {
    if (!exited && child.connected) child.send(m);
  };
  const result: CellResult = { spec, backlog, last: undefined, oomAt: undefined, failure: undefined, produced: 0, heldBack: 0, load: 0 };
  try {
    tell({ spec });
    const readyBy = Date.now() + 60_000;
    while (!ready && !error && !exited && Date.now() < readyBy) await sleep(50);
    if (!ready) throw new Error(error ?? `the cell did not start (${exited ? `exit ${exited.code ?? exited.signal}` : "timeout"})`);
    await Promise.race([sender.subscribed(), sleep(30_000).then(() => Promise.reject(new Error("the input node did not subscribe in 30 s")))]);
    tell({ start: true });
    sender.start();
    const t0 = Date.now();
    // Bounded: the cell's duration, or until it nears its heap cap or dies.
    while (Date.now() - t0 < SECONDS * 1000) {
      await sleep(250);
      if (error) throw new Error(error);
      const tNow = (Date.now() - t0) / 1000;
      if (exited) {
        result.oomAt = last?.t ?? tNow;
        result.failure = `died (${exited.code ?? exited.signal})`;
        break;
      }
      const stalled = Date.now() - lastAt > 5000;
      if ((last && last.heapUsed > (HEAP_CAP_MB - OOM_MARGIN_MB) * MB) || (stalled && rssOf(child.pid) > HEAP_CAP_MB * 0.9 * MB)) {
        result.oomAt = last?.t ?? tNow;
        break;
      }
    }
    result.load = loadavg()[0];
    if (result.oomAt === undefined) {
      // The sender's figures first (rabbitmqctl takes a moment), then the cell's last sample after a full GC.
      result.produced = await sender.produced();
      result.heldBack = await sender.heldBack();
      tell({ stop: true });
      const by = Date.now() + 20_000;
      while (!final && !exited && Date.now() < by) await sleep(50);
      last = final ?? last;
    } else {
      child.kill("SIGKILL");
      result.produced = await sender.produced();
      result.heldBack = await sender.heldBack();
    }
    result.last = last;
  } catch (e) {
    result.failure = e instanceof Error ? e.message : String(e);
    result.last = last;
  } finally {
    tell({ exit: true });
    const by = Date.now() + 10_000;
    while (!exited && Date.now() < by) await sleep(50);
    if (!exited) child.kill("SIGKILL");
    await sender.close().catch((e: unknown) => log(`    (closing the sender: ${String(e)})`));
    rmSync(tmp, { recursive: true, force: true });
  }
  if (result.failure && !result.oomAt) log(`    cell failed: ${result.failure}\n${output.trim().split("\n").slice(-8).join("\n")}`);
  return result;
}

// ---------------------------------------------------------------- figures
const mb = (n: number): string => `${(n / MB).toFixed(0)}`;
const k = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : String(n));

interface Verdict {
  pass: boolean;
  why: string[];
  lost: number | undefined;
}

function verdict(r: CellResult): Verdict {
  const s = r.last;
  const why: string[] = [];
  if (r.oomAt !== undefined) why.push(`out of memory at ${r.oomAt.toFixed(0)} s`);
  else if (r.failure) why.push(r.failure);
  if (!s) return { pass: false, why: why.length ? why : ["no figures"], lost: undefined };
  if (s.liveHeapPeak >= TARGET_HEAP_MB * MB || (s.liveHeapPeak === 0 && s.heapPeak >= TARGET_HEAP_MB * MB)) why.push("heap");
  if (s.lagP99 >= TARGET_LAG_MS) why.push("lag");
  const reconnects = Math.max(s.reconnects, s.lostConnection);
  if (reconnects > 0) why.push("reconnect");
  // Skipped sequence numbers the window did not drop: lost. Hold: must be none. With drop-oldest
  // the window's count also holds events dropped after the last one delivered, so this is a
  // lower bound there.
  const lost = Math.max(0, s.missing - s.windowDropped);
  if (r.spec.mode !== "drop-oldest" && lost > 0) why.push("lost");
  if (r.spec.mode === "drop-oldest" && lost > 0) why.push("lost unannounced");
  return { pass: why.length === 0, why, lost };
}

const COLS = [
  ["cell", 18],
  ["live heap MB", 12],
  ["heap peak", 9],
  ["rss peak", 8],
  ["lag p99 ms", 10],
  ["lag max", 7],
  ["delivered", 9],
  ["/s", 5],
  ["in between", 10],
  ["held@sender", 11],
  ["dropped/announced", 17],
  ["reconn.", 7],
  ["lost", 5],
  ["load", 4],
  ["result", 0],
] as const;

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(COLS[i][1]) : COLS[i][1] ? c.padStart(COLS[i][1]) : c)).join("  ");
}

function tableFor(channel: Channel, results: CellResult[]): void {
  const what = {
    nso: `NSO (simulator: ${k(BACKLOG)} audits to send, written as fast as the socket takes them)`,
    apic: `APIC (simulator: ${k(BACKLOG)} MO changes to send over the WebSocket, paced by its 4 MB socket backlog)`,
    sysadm: `sysadm (simulator: ${k(BACKLOG)} dispatcher events to send over the WebSocket, written as the socket drains)`,
    amqp: `AMQP 1.0 (RabbitMQ 3.10 on 127.0.0.1: a queue filled with ${k(AMQP_BACKLOG)} PhoneStatus events)`,
  }[channel];
  log(`\n${what}`);
  log(row(COLS.map(([h]) => h)));
  for (const r of results) {
    const s = r.last;
    const v = verdict(r);
    const name = `${r.spec.flow} ${r.spec.mode}`;
    if (!s) {
      log(row([name, ...COLS.slice(1, -1).map(() => "-"), `FAIL (${v.why.join(", ")})`]));
      continue;
    }
    const inRed = r.produced - s.delivered - s.windowDropped;
    const oom = r.oomAt !== undefined;
    log(
      row([
        name,
        // No forced GC got to run when the cell's event loop was blocked all along.
        oom ? `> ${mb((HEAP_CAP_MB - OOM_MARGIN_MB) * MB)}` : s.liveHeapPeak > 0 ? mb(s.liveHeapPeak) : "n/a",
        mb(s.heapPeak),
        mb(s.rssPeak),
        s.lagP99.toFixed(0),
        s.lagMax.toFixed(0),
        k(s.delivered),
        (s.delivered / Math.max(1, s.t)).toFixed(0),
        k(inRed),
        k(r.heldBack),
        r.spec.mode === "drop-oldest" ? `${k(s.windowDropped)}/${k(s.announced)}` : "-",
        String(Math.max(s.reconnects, s.lostConnection)),
        v.lost === undefined ? "-" : String(v.lost),
        r.load.toFixed(1),
        v.pass ? "pass" : `FAIL (${v.why.join(", ")})`,
      ]),
    );
  }
}

async function main(): Promise<void> {
  log(
    `flow control: ${SECONDS} s per cell, window ${WINDOW} (AMQP credit), delay node ${RATE} msg/s, busy function 1 ms/msg, ` +
      `heap cap ${HEAP_CAP_MB} MB (stopped at ${HEAP_CAP_MB - OOM_MARGIN_MB} MB) (Node ${process.version}, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")})`,
  );
  log(`targets per cell: live heap peak < ${TARGET_HEAP_MB} MB, event-loop lag p99 < ${TARGET_LAG_MS} ms, no reconnect, hold: nothing lost`);
  const results = new Map<Channel, CellResult[]>();
  for (const channel of CHANNELS) {
    for (const flow of FLOWS) {
      for (const mode of MODES) {
        // AMQP has no drop-oldest (the broker is the buffer); drop-oldest is measured on the delay flow.
        if (mode === "drop-oldest" && (channel === "amqp" || flow !== "delay")) continue;
        log(`  ${channel} ${flow} ${mode} ...`);
        const r = await runCell({ channel, flow, mode, window: WINDOW, rate: RATE });
        const v = verdict(r);
        const s = r.last;
        log(
          `    ${s ? `${s.t.toFixed(0)} s: live heap ${mb(s.liveHeapPeak)} MB, lag p99 ${s.lagP99.toFixed(0)} ms, ${k(s.delivered)} delivered, ${k(r.heldBack)} held at the sender; at the end: window ${s.inFlight} in flight + ${s.queued} waiting${s.paused ? " (holding back)" : ""}, delay node queue ${s.delayQueue}` : "no figures"}: ${v.pass ? "pass" : `FAIL (${v.why.join(", ")})`}`,
        );
        results.set(channel, [...(results.get(channel) ?? []), r]);
      }
    }
  }
  log(
    `\nFigures (load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")})`,
  );
  log(
    `live heap: heapUsed after a forced full GC (every 5 s and at the end), compared with the ${TARGET_HEAP_MB} MB target; heap peak: heapUsed sampled every 200 ms (garbage included); ` +
      `lag: how late a 10 ms timer fired in the cell (the forced GCs left out); in between: events the sender wrote that are neither delivered nor dropped (kernel buffers, Node-RED, the delay node); ` +
      `held@sender: events the sender still had to send; lost: sequence numbers skipped at the end of the flow that no window dropped`,
  );
  for (const [channel, rs] of results) tableFor(channel, rs);
  const all = [...results.values()].flat();
  const on = all.filter((r) => r.spec.mode !== "off");
  log(
    `\nflow control on: ${on.filter((r) => verdict(r).pass).length} of ${on.length} cells meet the targets; off: ${all.filter((r) => r.spec.mode === "off" && verdict(r).pass).length} of ${all.length - on.length}`,
  );
}

// Interrupted: the cell's child exits with its IPC channel; the queues this run made go too.
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    log(`\n${sig}: deleting this run's queues`);
    void deleteLeftQueues().finally(() => process.exit(130));
  });

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
