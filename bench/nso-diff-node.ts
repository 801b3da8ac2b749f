/**
 * Issue 7 figures through the node: how long NSO's commit is held when nso-events reads what
 * changed ("Read what changed" + "Ack at once") inside a real embedded Node-RED runtime, next
 * to the same commits read by the library alone (NsoClient + MaapiClient +
 * readCommitDiffAndAck, no Node-RED) in the same run. The simulator runs in this process, so
 * both figures include its encoding work.
 *
 *   node --import tsx bench/nso-diff-node.ts
 */
import { Backoff } from "../src/core/backoff";
import { NsoClient } from "../src/nso/client";
import { maskOf } from "../src/nso/constants";
import { MaapiClient, readCommitDiffAndAck } from "../src/nso/maapi";
import { startNsoSimulator, RunningNsoSimulator } from "../src/sim/nso";
import { bulkDiffSpec, DEMO_DIFF, DiffSpecItem } from "../src/sim/nso/maapi";
import { startEmbeddedRed } from "./_support/embedded-red";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
// Warm-up commits per case (JIT, label cache, MAAPI dial) are not counted.
const WARMUP = 20;
const CASES: Array<[string, DiffSpecItem[], number]> = [
  ["demo commit (21 changes, 5 labels)", DEMO_DIFF, 21],
  ["bulk commit (2000 changes)", bulkDiffSpec(500), 2000],
];

/** Held time (inject -> every subscriber acked) of ROUNDS commits with `diff`, p50 and p90. */
async function holdTimes(sim: RunningNsoSimulator, diff: DiffSpecItem[]): Promise<{ p50: number; p90: number }> {
  const held: number[] = [];
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const t0 = process.hrtime.bigint();
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 }, diff });
    const o = await r.done;
    if (o[0] !== "acked") throw new Error(`commit not acked: ${o.join(",")}`);
    if (i >= WARMUP) held.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  held.sort((a, b) => a - b);
  return { p50: held[Math.floor(held.length / 2)], p90: held[Math.floor(held.length * 0.9)] };
}

async function libraryBaseline(): Promise<Array<{ p50: number; p90: number }>> {
  const sim = await startNsoSimulator({ port: 0 });
  const client = new NsoClient({
    host: "127.0.0.1",
    port: sim.port,
    backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }),
    subscription: () => ({ mask: maskOf(["NOTIF_COMMIT_DIFF"]) }),
  });
  const maapi = new MaapiClient({ host: "127.0.0.1", port: sim.port });
  client.on("notification", (ev) => {
    const p = ev.notification.payload as { tctx: { th: number }; uinfo: { usid: number } };
    void readCommitDiffAndAck(maapi, { thandle: p.tctx.th, usid: p.uinfo.usid }, () => client.ack(ev.ack));
  });
  const up = sim.server.waitForSubscribers(1);
  client.start();
  await up;
  const out = [];
  for (const [, diff] of CASES) out.push(await holdTimes(sim, diff));
  client.stop();
  maapi.close();
  await sim.close();
  return out;
}

async function throughNode(): Promise<Array<{ p50: number; p90: number }>> {
  const sim = await startNsoSimulator({ port: 0 });
  const flows = [
    { id: "t1", type: "tab", label: "bench" },
    { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
    {
      id: "ev",
      z: "t1",
      type: "nso-events",
      server: "srv",
      notifications: ["NOTIF_COMMIT_DIFF"],
      routing: "single",
      autoAck: 10,
      readDiff: true,
      ackAtOnce: true,
      wires: [[]],
    },
  ];
  const red = await startEmbeddedRed({ prefix: "nso-diff-bench", types: ["nso-server", "nso-events"], flows });
  await sim.server.waitForSubscribers(1);
  const out = [];
  for (const [, diff] of CASES) out.push(await holdTimes(sim, diff));
  await red.stop();
  await sim.close();
  return out;
}

async function main(): Promise<void> {
  const lib = await libraryBaseline();
  const node = await throughNode();
  console.log(`NSO commit held while nso-events reads what changed (${ROUNDS} commits each, simulator in-process, loopback)`);
  CASES.forEach(([label, , n], i) => {
    const per100 = (node[i].p50 * 100) / n;
    console.log(
      `${label.padEnd(36)} node p50 ${node[i].p50.toFixed(2)} ms p90 ${node[i].p90.toFixed(2)} ms  ${per100.toFixed(2)} ms/100 changes  ${Math.round((n / node[i].p50) * 1000)} changes/s`,
    );
    console.log(
      `${"  baseline: library, no Node-RED".padEnd(36)}      p50 ${lib[i].p50.toFixed(2)} ms p90 ${lib[i].p90.toFixed(2)} ms  ${((lib[i].p50 * 100) / n).toFixed(2)} ms/100 changes`,
    );
  });
  const worst = Math.max(...CASES.map(([, , n], i) => (node[i].p50 * 100) / n));
  console.log(`target <= 25 ms per 100 changes: ${worst <= 25 ? "met" : "NOT met"} (${worst.toFixed(2)} ms)`);
  process.exit(0);
}

void main();
