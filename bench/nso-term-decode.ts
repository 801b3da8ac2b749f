/**
 * ETF decode throughput over the 555 frames a real NSO 6.2.5 sent (test/fixtures/nso/nso-real-frames.txt),
 * next to baselines measured in the same run:
 *  - JSON.parse of the same notifications rendered as JSON (what a JSON protocol would cost),
 *  - Erlang's own binary_to_term over the very same bytes, timed inside one `erl` (if installed).
 * Notification payloads, side by side in three rounds, the paths taking turns sweep by sweep
 * (medians printed, with the load average before and after): the fast path the client uses (fastNotification straight from the
 * bytes, the generic path for what it does not take), the generic path (decodeTerm +
 * decodeNotification) and JSON.parse. Also encodeTerm. Run: node --import tsx bench/nso-term-decode.ts
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeTerm, encodeTerm, Term, termToJson } from "../src/nso/term";
import { decodeNotification } from "../src/nso/notifications";
import { fastNotification, lazyRawEvent } from "../src/nso/fast-decode";

const FRAMES = path.resolve(__dirname, "../test/fixtures/nso/nso-real-frames.txt");
const TARGET_MS = Number(process.env.BENCH_MS ?? 1500);
const ROUNDS = 3;

/** Payloads (length prefix stripped) of every framed term in the file, and the notifications among them. */
function loadPayloads(): { all: Buffer[]; notifications: Buffer[] } {
  const all: Buffer[] = [];
  const notifications: Buffer[] = [];
  for (const line of fs.readFileSync(FRAMES, "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const [name, dir, , , hex] = line.split(" | ");
    if (hex === "-" || name === "HANDSHAKE_HEADER" || name === "VERSION_REPLY") continue;
    const bytes = Buffer.from(hex, "hex");
    const payload = bytes.subarray(4);
    if (payload[0] !== 131) continue;
    try {
      decodeTerm(payload);
    } catch {
      continue; // the capture client's deliberately malformed {foo}
    }
    all.push(payload);
    if (dir === "in" && !name.startsWith("SUBSCRIBE")) notifications.push(payload);
  }
  return { all, notifications };
}

/** Runs `pass` (one sweep over the set) until TARGET_MS has elapsed; returns sweeps per second. */
function measure(pass: () => void): number {
  for (let i = 0; i < 20; i++) pass(); // warm up the JIT
  let sweeps = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < TARGET_MS) {
    pass();
    sweeps++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (sweeps * 1000) / elapsed;
}

/**
 * Runs the passes in turn, one sweep each, until each has had about TARGET_MS: a load spike on
 * the shared machine then falls on all of them alike. Sweeps per second of each.
 */
function measureInTurns(passes: Array<() => void>): number[] {
  for (let i = 0; i < 20; i++) for (const pass of passes) pass();
  const spent = passes.map(() => 0);
  const sweeps = passes.map(() => 0);
  const start = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - start) / 1e6 < TARGET_MS * passes.length) {
    passes.forEach((pass, i) => {
      const t0 = process.hrtime.bigint();
      pass();
      spent[i] += Number(process.hrtime.bigint() - t0) / 1e6;
      sweeps[i]++;
    });
  }
  return sweeps.map((n, i) => (n * 1000) / spent[i]);
}

function row(label: string, sweepsPerSec: number, frames: number, bytes: number): void {
  const fps = sweepsPerSec * frames;
  const mbs = (sweepsPerSec * bytes) / 1e6;
  console.log(`${label.padEnd(44)} ${Math.round(fps).toLocaleString("en-US").padStart(12)} frames/s ${mbs.toFixed(1).padStart(8)} MB/s`);
}

/** binary_to_term inside erl over the same payloads; frames/s or null when erl is not there. */
function erlBaseline(payloads: Buffer[]): { fps: number; mbs: number } | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etf-bench-"));
  try {
    const file = path.join(dir, "frames.bin");
    fs.writeFileSync(file, Buffer.concat(payloads.flatMap((p) => [u32(p.length), p])));
    const script = `
      {ok, Bin} = file:read_file("${file}"),
      Split = fun S(<<L:32, P:L/binary, R/binary>>, Acc) -> S(R, [P | Acc]); S(<<>>, Acc) -> lists:reverse(Acc) end,
      Ps = Split(Bin, []),
      Bytes = lists:sum([byte_size(P) || P <- Ps]),
      Sweep = fun() -> lists:foreach(fun(P) -> binary_to_term(P) end, Ps) end,
      [Sweep() || _ <- lists:seq(1, 20)],
      Loop = fun L(N, T0) -> Sweep(), T = erlang:monotonic_time(microsecond) - T0,
                 if T >= ${TARGET_MS * 1000} -> {N + 1, T}; true -> L(N + 1, T0) end end,
      {Sweeps, Us} = Loop(0, erlang:monotonic_time(microsecond)),
      io:format("~p ~p~n", [Sweeps * length(Ps) * 1000000 / Us, Sweeps * Bytes / Us]),
      halt().`;
    const out = execFileSync("erl", ["-noshell", "-eval", script], { encoding: "utf8", timeout: 60000 });
    const [fps, mbs] = out.trim().split(/\s+/).map(Number);
    return { fps, mbs };
  } catch {
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function main(): void {
  const { all, notifications } = loadPayloads();
  const bytes = all.reduce((s, p) => s + p.length, 0);
  const nBytes = notifications.reduce((s, p) => s + p.length, 0);
  const terms: Term[] = all.map((p) => decodeTerm(p));
  const nTerms: Term[] = notifications.map((p) => decodeTerm(p));
  const libVsn = 0x08020500;
  const json = nTerms.map((t) => JSON.stringify(termToJson(t)));
  const jsonBytes = json.reduce((s, j) => s + Buffer.byteLength(j), 0);

  console.log(`nso term codec bench: ${all.length} frames (${bytes} bytes), ${notifications.length} notifications; node ${process.version}`);
  row(
    "decodeTerm (all frames)",
    measure(() => {
      for (const p of all) decodeTerm(p);
    }),
    all.length,
    bytes,
  );

  const opts = { libVsn };
  const generic = (p: Buffer): void => {
    try {
      decodeNotification(decodeTerm(p), opts);
    } catch {
      /* progold/cqold frames decode the same way; nothing throws here */
    }
  };
  const fastTaken = notifications.filter((p) => fastNotification(p, opts) !== undefined).length;
  const paths: Array<[string, () => void, number]> = [
    [
      "fast path (client: bytes -> payload)",
      () => {
        for (const p of notifications) if (fastNotification(p, opts) === undefined) generic(p);
      },
      nBytes,
    ],
    [
      "fast path + the client's event (lazy raw)",
      () => {
        for (const p of notifications) {
          const f = fastNotification(p, opts);
          if (f === undefined) generic(p);
          else lazyRawEvent(f.notification, p);
        }
      },
      nBytes,
    ],
    [
      "generic decodeTerm + decodeNotification",
      () => {
        for (const p of notifications) generic(p);
      },
      nBytes,
    ],
    [
      `baseline JSON.parse (same events, ${jsonBytes} B)`,
      () => {
        for (const j of json) JSON.parse(j);
      },
      jsonBytes,
    ],
  ];
  const load = (): string =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  console.log(
    `notification payloads: ${fastTaken} of ${notifications.length} take the fast path; ${ROUNDS} rounds, paths taking turns; load average ${load()}`,
  );
  const runs = paths.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) measureInTurns(paths.map(([, pass]) => pass)).forEach((x, i) => runs[i].push(x));
  const medians = runs.map((xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
  paths.forEach(([label, , b], i) => {
    row(`${label}`, medians[i], notifications.length, b);
    console.log(`${"".padEnd(44)} rounds: ${runs[i].map((x) => Math.round(x * notifications.length).toLocaleString("en-US")).join(" / ")}`);
  });
  const jsonMedian = medians[paths.length - 1];
  console.log(
    `fast path / JSON.parse: ${(medians[0] / jsonMedian).toFixed(2)} (with the event and its frame copy ${(medians[1] / jsonMedian).toFixed(2)}); generic / JSON.parse: ${(medians[2] / jsonMedian).toFixed(2)}; load average after ${load()}`,
  );
  row(
    "encodeTerm (all frames)",
    measure(() => {
      for (const t of terms) encodeTerm(t);
    }),
    all.length,
    bytes,
  );
  const erl = erlBaseline(all);
  if (erl) {
    console.log(
      `${"baseline erl binary_to_term (OTP, same bytes)".padEnd(44)} ${Math.round(erl.fps).toLocaleString("en-US").padStart(12)} frames/s ${erl.mbs.toFixed(1).padStart(8)} MB/s`,
    );
  } else console.log("baseline erl binary_to_term: erl not available");
  const mem = process.memoryUsage();
  console.log(`rss ${(mem.rss / 1e6).toFixed(0)} MB, heap used ${(mem.heapUsed / 1e6).toFixed(0)} MB`);
}

main();
