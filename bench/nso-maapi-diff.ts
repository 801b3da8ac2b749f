/**
 * What reading a commit diff costs NSO (issue 7, Figures): changes read per second and the time
 * a commit is held per 100 changes (target <= 25 ms per 100 on loopback, decoding and path/value
 * rendering included), next to the bare round trip of one MAAPI call measured in the same run,
 * raw (a socket, no library) and through MaapiConnection. The simulator runs in a worker
 * thread so client and server do not share an event loop, as with a real NSO.
 *
 *   node --import tsx bench/nso-maapi-diff.ts
 */
import * as net from "node:net";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { encodeFrame } from "../src/nso/framing";
import { encodeRequest, maapiHeader, MaapiClient, MaapiConnection, readCommitDiff } from "../src/nso/maapi";
import { bulkDiffSpec, DEMO_DIFF, DiffSpecItem, MaapiSimServer } from "../src/sim/nso/maapi";

type Msg = { block: { th: number; usid: number; diff: DiffSpecItem[] } } | { stop: true };

async function simWorker(): Promise<void> {
  const sim = new MaapiSimServer();
  const { port } = await sim.listen();
  parentPort!.on("message", async (m: Msg) => {
    if ("block" in m) {
      sim.store.block(m.block);
      parentPort!.postMessage({ blocked: m.block.th });
    } else {
      await sim.close();
      parentPort!.postMessage({ stopped: true });
    }
  });
  parentPort!.postMessage({ port });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  // Worker threads do not take .ts entry files: register tsx's CommonJS hook, then load us.
  const worker = new Worker(`require("tsx/cjs/api").register(); require(${JSON.stringify(__filename)});`, { eval: true });
  const port: number = await new Promise((res) => worker.once("message", (m: { port: number }) => res(m.port)));
  const block = (th: number, diff: DiffSpecItem[]): Promise<void> =>
    new Promise((res) => {
      worker.once("message", () => res());
      worker.postMessage({ block: { th, usid: 59, diff } } satisfies Msg);
    });

  // Baseline 1: raw socket, one MAAPI request (DETACH of an unknown th) and its reply frame.
  const rawRtt: number[] = [];
  {
    const s = net.connect(port, "127.0.0.1");
    s.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let want: (() => void) | undefined;
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      want?.();
    });
    const take = (n: number): Promise<Buffer> =>
      new Promise((res) => {
        const check = (): void => {
          if (buf.length >= n) {
            want = undefined;
            const out = buf.subarray(0, n);
            buf = buf.subarray(n);
            res(out);
          }
        };
        want = check;
        check();
      });
    s.write(maapiHeader(82, 0x08020500));
    await take(9);
    const req = encodeFrame(encodeRequest(221, 1));
    for (let i = 0; i < 3000; i++) {
      const t0 = process.hrtime.bigint();
      s.write(req);
      const len = (await take(4)).readUInt32BE(0);
      await take(len);
      if (i >= 500) rawRtt.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    s.destroy();
  }

  // Baseline 2: the same call through MaapiConnection (promise plumbing, reply parsing).
  const libRtt: number[] = [];
  {
    const c = await MaapiConnection.open({ host: "127.0.0.1", port });
    for (let i = 0; i < 3000; i++) {
      const t0 = process.hrtime.bigint();
      await c.detach(1).catch(() => undefined);
      if (i >= 500) libRtt.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    c.destroy();
  }

  const client = new MaapiClient({ host: "127.0.0.1", port });
  let th = 1000;
  const run = async (diff: DiffSpecItem[], rounds: number, opts: { skipCreatedChildren?: boolean } = {}): Promise<{ ms: number[]; changes: number }> => {
    const ms: number[] = [];
    let changes = 0;
    for (let i = 0; i < rounds; i++) {
      await block(++th, diff);
      const t0 = process.hrtime.bigint();
      const r = await readCommitDiff(client, { thandle: th, usid: 59, budgetMs: 60_000, maxChanges: 1_000_000, ...opts });
      const took = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.truncated) throw new Error(`bench diff truncated: ${r.error?.message}`);
      ms.push(took);
      changes = r.changes.length;
    }
    return { ms: ms.sort((a, b) => a - b), changes };
  };
  await run(DEMO_DIFF, 3); // warm-up (JIT, connection, label cache)
  const bulk = await run(bulkDiffSpec(500), 10);
  const demo = await run(DEMO_DIFF, 50);
  const labelled: DiffSpecItem[] = [];
  for (let i = 0; i < 500; i++)
    labelled.push({
      op: "value_set",
      path: `/devices/device{d${i}}/state/admin-state`,
      value: { vtype: 28, value: i % 3 },
      label: ["unlocked", "locked", "southbound-locked"][i % 3],
    });
  const enums = await run(labelled, 10);
  const cont = await run(bulkDiffSpec(500), 10, { skipCreatedChildren: true });
  client.close();
  worker.postMessage({ stop: true } satisfies Msg);
  await new Promise((res) => worker.once("message", res));
  await worker.terminate();

  const med = (a: number[]): number => pct(a, 50);
  const f = (n: number, d = 2): string => n.toFixed(d);
  rawRtt.sort((a, b) => a - b);
  libRtt.sort((a, b) => a - b);
  console.log("NSO MAAPI commit-diff read (client <-> simulator in a worker thread, loopback)");
  console.log(
    `baseline: one MAAPI call round trip   raw socket p50 ${f(med(rawRtt), 3)} ms p99 ${f(pct(rawRtt, 99), 3)} ms | MaapiConnection p50 ${f(med(libRtt), 3)} ms p99 ${f(pct(libRtt, 99), 3)} ms`,
  );
  const line = (name: string, r: { ms: number[]; changes: number }): void => {
    const m = med(r.ms);
    console.log(
      `${name.padEnd(38)} ${String(r.changes).padStart(5)} changes  held p50 ${f(m, 2).padStart(7)} ms (max ${f(r.ms[r.ms.length - 1], 1)})  ${f((m / r.changes) * 100).padStart(5)} ms/100 changes  ${Math.round(
        (r.changes / m) * 1000,
      )
        .toString()
        .padStart(6)} changes/s  = ${f(m / r.changes / med(rawRtt), 2)} raw RTT per change`,
    );
  };
  line("bulk 500 entries x 4 items (P14 shape)", bulk);
  line("bulk, ITER_CONTINUE on created entries", cont);
  line("500 enum leaves, labels via XPath", enums);
  line("demo commit (21 changes, 5 labels)", demo);
  const target = (med(bulk.ms) / bulk.changes) * 100;
  console.log(`target <= 25 ms per 100 changes: ${target <= 25 ? "met" : "NOT met"} (${f(target)} ms)`);
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  void simWorker();
}
