/**
 * AMQP figures (printed, never asserted), all against the RabbitMQ on 127.0.0.1:5672:
 *  - messages/s drained from a pre-filled queue through amqp1-broker/amqp1-events to a sink node
 *    in a real embedded Node-RED 4.1 runtime, next to a bare rhea receiver (same credit, same
 *    settlement, body to string, count) draining queues of the same contents, drains alternating
 *    in one process; medians of each side, and the client's CPU time per message. Target: node
 *    >= 85 % of bare.
 *  - the same with the seed's XQuery filter on, in the same rounds (target: >= 80 % of the node
 *    without a filter); the node runs the compiled query on the DOM-free reader's tree;
 *  - XQuery cost per event, in-process: the whole decode without a filter, with the seed's query
 *    compiled, and the fontoxpath path (DOM parse + fontoxpath) the compiled one replaces;
 *  - send rate through EventSender (broker-confirmed) with and without XSD validation: one event
 *    at a time (rounds alternating plain / validated, medians; target: validation costs < 10 % of
 *    the plain rate) and 1000 concurrent sends; XSD validation cost per event in-process.
 * Run: node --import tsx bench/amqp-throughput.ts [--messages 20000] [--serial 2000] [--only send]
 * (`--only send` skips the queue drains and the XQuery figures: only the send part runs.)
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { create_container, EventContext, Message, message as rheaMessage } from "rhea";
import { AmqpConnection, EventDecoder, EventSender, makeEvent, parseBrokerUrls, parseEvent, SchemaValidator, XQueryFilter } from "../src/amqp";
import { startEmbeddedRed } from "./_support/embedded-red";

const root = join(__dirname, "..");
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("--messages", 30_000);
/** Events per side in a one-at-a-time send round (a round also stops after SERIAL_MAX_MS per side). */
const SERIAL = arg("--serial", 2000);
const SERIAL_MAX_MS = 5000;
const SERIAL_BLOCK = 50;
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const k = (n: number): string => (n >= 10_000 ? `${Math.round(n / 1000)}k` : `${(n / 1000).toFixed(1)}k`);
const RABBIT = { host: "127.0.0.1", port: 5672, username: "guest", password: "guest" };
const SEED_QUERY = `declare namespace f='http://www.gonicus.de/Events';
let $e := ./f:Event
return $e/f:PhoneStatus`;
const DOMAIN = "org.clacks.bench";
const EVENT = makeEvent({ PhoneStatus: { CallerId: "012345", ReceiverId: "12343424", Status: "busy" } });
const secsSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function until(count: () => number, n: number, maxMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (count() < n) {
    if (Date.now() - t0 > maxMs) throw new Error(`only ${count()} of ${n} after ${maxMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function connection(): AmqpConnection {
  return new AmqpConnection({
    id: `bench-${randomBytes(3).toString("hex")}`,
    urls: parseBrokerUrls(`amqp://${RABBIT.host}:${RABBIT.port}`),
    username: RABBIT.username,
    password: RABBIT.password,
  });
}

async function openSender(address: string): Promise<{ conn: AmqpConnection; sender: EventSender }> {
  const conn = connection();
  const sender = new EventSender(conn, { address, maxQueue: 100_000 });
  sender.open();
  conn.start();
  await until(() => (sender.state === "attached" ? 1 : 0), 1, 10_000);
  return { conn, sender };
}

/** Fill queue `q` with n PhoneStatus events; returns the broker-confirmed send rate. */
async function prefill(q: string, n: number): Promise<number> {
  const { conn, sender } = await openSender(`/queue/${q}`);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => sender.send({ ...EVENT, domain: DOMAIN })));
  const rate = n / secsSince(t0);
  sender.close();
  await conn.stop();
  return rate;
}

/** One drain: messages/s and the client's CPU time per message, both from first to last message. */
interface Drain {
  rate: number;
  cpuUs: number;
}

function drainFigures(n: number, t0: bigint, cpu0: NodeJS.CpuUsage): Drain {
  const secs = secsSince(t0);
  const cpu = process.cpuUsage(cpu0);
  return { rate: (n - 1) / secs, cpuUs: (cpu.user + cpu.system) / (n - 1) };
}

/**
 * Baseline: a bare rhea receiver with what amqp1-events does on the wire: credit 1000, which
 * rhea's credit_window refills once a quarter window is used (amqp1-events batches its flow
 * frames the same way), every delivery accepted and settled (autoaccept), body to a string.
 */
async function bareDrain(q: string, n: number): Promise<Drain> {
  const c = create_container({ id: `bench-bare-${randomBytes(3).toString("hex")}` });
  const conn = c.connect({ ...RABBIT, reconnect: false });
  let count = 0;
  let t0 = 0n;
  let cpu0 = process.cpuUsage();
  const r = conn.open_receiver({ source: { address: `/amq/queue/${q}` }, credit_window: 1000 });
  r.on("message", (ctx: EventContext) => {
    if (count === 0) {
      t0 = process.hrtime.bigint();
      cpu0 = process.cpuUsage();
    }
    const b = ctx.message!.body as { content?: Buffer } | Buffer | string;
    const s = typeof b === "string" ? b : Buffer.isBuffer(b) ? b.toString("utf8") : b.content!.toString("utf8");
    if (s.length > 0) count++;
  });
  await until(() => count, n);
  const d = drainFigures(n, t0, cpu0);
  conn.close();
  return d;
}

// Bench-only nodes: a counting sink, and "the bare receiver as a trivial node" (the same rhea
// receiver as bareDrain, sending {payload: body string} per delivery): Node-RED's own cost per
// message on top of the bare receiver, i.e. the ceiling any AMQP input node could reach here.
const BENCH_NODES = {
  name: "amqp-bench-nodes",
  js: `const rhea = require(${JSON.stringify(require.resolve("rhea"))});
    module.exports = function (RED) {
      function Sink(c) { RED.nodes.createNode(this, c); this.on("input", () => { if (globalThis.__amqpBench[c.name]++ === 0) { globalThis.__amqpBenchT0[c.name] = process.hrtime.bigint(); globalThis.__amqpBenchCpu0[c.name] = process.cpuUsage(); } }); }
      RED.nodes.registerType("amqp-bench-sink", Sink);
      function Bare(c) {
        RED.nodes.createNode(this, c);
        const node = this;
        const conn = rhea.create_container({ id: "bench-red-bare-" + c.id }).connect({ host: c.host, port: Number(c.port), username: "guest", password: "guest", reconnect: false });
        const r = conn.open_receiver({ source: { address: c.address }, credit_window: 1000 });
        r.on("message", (ctx) => {
          const b = ctx.message.body;
          const s = typeof b === "string" ? b : Buffer.isBuffer(b) ? b.toString("utf8") : b.content.toString("utf8");
          node.send({ payload: s });
        });
        this.on("close", (done) => { conn.close(); done(); });
      }
      RED.nodes.registerType("amqp-bench-bare", Bare);
    };\n`,
  html: `<script type="text/javascript">RED.nodes.registerType('amqp-bench-sink',{category:'function',defaults:{name:{value:''}},inputs:1,outputs:0});
    RED.nodes.registerType('amqp-bench-bare',{category:'function',defaults:{host:{value:''},port:{value:''},address:{value:''}},inputs:0,outputs:1});</script>`,
};

interface Rounds {
  bare: Drain[];
  node: Drain[];
  /** The bare receiver as a trivial Node-RED node. */
  redBare: Drain[];
  /** amqp1-events with the seed's XQuery. */
  xquery: Drain[];
}

/**
 * Alternate bare, node, trivial node and node-with-XQuery drains (…, bare) in one process, so a
 * busy moment on the shared machine hits every side alike. Node-RED runs all along; while the
 * bare receiver drains, its flow holds no AMQP node.
 */
async function interleavedDrains(bareQs: string[], nodeQs: string[], redBareQs: string[], xqQs: string[], n: number): Promise<Rounds> {
  const g = globalThis as unknown as {
    __amqpBench: Record<string, number>;
    __amqpBenchT0: Record<string, bigint>;
    __amqpBenchCpu0: Record<string, NodeJS.CpuUsage>;
  };
  g.__amqpBench = { plain: 0, xquery: 0 };
  g.__amqpBenchT0 = {};
  g.__amqpBenchCpu0 = {};
  const base = [
    { id: "t1", type: "tab", label: "bench" },
    { id: "br", type: "amqp1-broker", urls: `amqp://${RABBIT.host}:${RABBIT.port}`, sasl: "plain", vhost: "", idleTimeout: 60 },
  ];
  const eventsNode = (id: string, q: string, sink: string, xquery = "") => [
    {
      id,
      z: "t1",
      type: "amqp1-events",
      broker: "br",
      address: `/amq/queue/${q}`,
      xquery,
      format: "xml-event",
      routing: "single",
      ack: "auto",
      credit: 1000,
      outputs: 1,
      wires: [[`s-${id}`]],
    },
    { id: `s-${id}`, z: "t1", type: "amqp-bench-sink", name: sink, wires: [] },
  ];
  const red = await startEmbeddedRed({
    prefix: "amqp-bench",
    types: ["amqp1-broker", "amqp1-events"],
    bench: BENCH_NODES,
    flows: base,
    credentials: { br: { username: RABBIT.username, password: RABBIT.password } },
  });
  const deploy = (flows: unknown[]) => red.RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: "full", user: null });
  const nodeDrain = async (id: string, q: string, sink: string, xquery = ""): Promise<Drain> => {
    g.__amqpBench[sink] = 0;
    await deploy([...base, ...eventsNode(id, q, sink, xquery)]);
    await until(() => g.__amqpBench[sink], n);
    const d = drainFigures(n, g.__amqpBenchT0[sink], g.__amqpBenchCpu0[sink]);
    await deploy(base);
    return d;
  };
  const redBareDrain = async (id: string, q: string): Promise<Drain> => {
    g.__amqpBench.redbare = 0;
    await deploy([
      ...base,
      { id, z: "t1", type: "amqp-bench-bare", host: RABBIT.host, port: String(RABBIT.port), address: `/amq/queue/${q}`, wires: [[`s-${id}`]] },
      { id: `s-${id}`, z: "t1", type: "amqp-bench-sink", name: "redbare", wires: [] },
    ]);
    await until(() => g.__amqpBench.redbare, n);
    const d = drainFigures(n, g.__amqpBenchT0.redbare, g.__amqpBenchCpu0.redbare);
    await deploy(base);
    return d;
  };
  const out: Rounds = { bare: [], node: [], redBare: [], xquery: [] };
  try {
    for (let i = 0; i < nodeQs.length; i++) {
      out.bare.push(await bareDrain(bareQs[i], n));
      out.node.push(await nodeDrain(`ev${i}`, nodeQs[i], "plain"));
      out.redBare.push(await redBareDrain(`rb${i}`, redBareQs[i]));
      out.xquery.push(await nodeDrain(`evx${i}`, xqQs[i], "xquery", SEED_QUERY));
    }
    out.bare.push(await bareDrain(bareQs[nodeQs.length], n));
  } finally {
    await red.stop();
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface XQueryCost {
  /** Whole decode, µs per event: without a filter; with the seed's query compiled. */
  plainUs: number;
  compiledUs: number;
  /** The fontoxpath path: DOM parse + envelope, and the query on the DOM. */
  parseUs: number;
  fontoxpathUs: number;
}

/** Per-event costs in-process, the sides taking turns in blocks so a busy moment hits all alike; medians of the blocks. */
function xqueryCost(): XQueryCost {
  const f = new XQueryFilter(SEED_QUERY);
  const plain = new EventDecoder({});
  const compiled = new EventDecoder({ xquery: SEED_QUERY });
  // What the node runs: the compiled query, never the DOM (counted below).
  if (!compiled.filter?.compiled) throw new Error("the seed query must compile");
  let domEvaluations = 0;
  const realEvaluate = compiled.filter.evaluate.bind(compiled.filter);
  compiled.filter.evaluate = (doc, vars) => (domEvaluations++, realEvaluate(doc, vars));
  const msg = { body: rheaMessage.data_section(Buffer.from(EVENT.xml)) } as Message;
  const block = 2000;
  const sides: Array<() => void> = [
    () => plain.decode(msg),
    () => {
      if (compiled.decode(msg).kind !== "event") throw new Error("the seed query must match every PhoneStatus");
    },
    () => parseEvent(EVENT.xml),
    () => {
      if (!f.evaluate(parseEvent(EVENT.xml).doc).match) throw new Error("the seed query must match every PhoneStatus");
    },
  ];
  for (const side of sides) for (let i = 0; i < block; i++) side(); // warm up
  const times: number[][] = sides.map(() => []);
  const start = process.hrtime.bigint();
  for (let round = 0; round < 15 && secsSince(start) < 10; round++) {
    sides.forEach((side, s) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < block; i++) side();
      times[s].push(Number(process.hrtime.bigint() - t0) / 1e3 / block);
    });
  }
  if (domEvaluations !== 0) throw new Error(`the compiled path fell back to fontoxpath ${domEvaluations} times`);
  const [plainUs, compiledUs, parseUs, bothUs] = times.map(median);
  return { plainUs, compiledUs, parseUs, fontoxpathUs: bothUs - parseUs };
}

/** One-at-a-time figures of one side: per-round rates, and per-block-pair costs against plain. */
interface Side {
  label: string;
  rounds: number[];
  pairCosts: number[];
}

interface SendFigures {
  /** Pipelined: n sends in flight at once, broker-confirmed. */
  plain: number;
  /** One at a time, each awaiting its confirmation: plain, validated, validated by libxml2 alone. */
  serial: Side[];
  /** XSD validation alone, in-process, compiled schema reused: as sent, and by libxml2 alone. */
  validateUs: number;
  libxml2Us: number;
  /** 1000 concurrent sends, each validated first. */
  burstRate: number;
}

async function sendRates(): Promise<SendFigures> {
  const { conn, sender } = await openSender("/exchange/amq.topic");
  const n = Math.min(N, 20_000);
  let t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => sender.send({ ...EVENT, domain: DOMAIN })));
  const plain = n / secsSince(t0);
  // The package's own Clacks-format schemas (PhoneStatus among them), see its README.
  const schemas = resolve(root, "test/fixtures/clacks-schemas");
  const v = new SchemaValidator(schemas);
  // The same schemas without the JS fast path (xsd-fast.ts): what libxml2 itself costs.
  const lx = new SchemaValidator(schemas, undefined, { fastPath: false });
  try {
    await v.validate(EVENT.xml); // load the folder and the WASM module once
    // Steady state, as in a node that has been sending for a while: V8 compiles WASM functions
    // with its baseline compiler first and optimizes each once it has run enough (a fresh
    // process pays ~1.5x per libxml2 validation for its first few 10k events).
    for (let i = 0; i < 30_000; i++) await lx.validate(EVENT.xml);
    for (let i = 0; i < 30_000; i++) await v.validate(EVENT.xml);
    // One at a time, as a flow with one message in flight sends: validate (or not), send, await
    // the broker's confirmation, next. Within a round, blocks of SERIAL_BLOCK events go round
    // the sides, each timed on its own, so a busy moment on the shared machine (the broker
    // shares its two CPUs with us) hits every side alike. Each block next to a plain block
    // also gives one cost figure (1 - plain time / its time): their median shrugs off a burst
    // of load that hits one block.
    const validators: Array<SchemaValidator | undefined> = [undefined, v, lx];
    const sides: Side[] = ["without validation", "with XSD validation", "with XSD validation by libxml2 alone"].map((label) => ({
      label,
      rounds: [],
      pairCosts: [],
    }));
    const serialRound = async (): Promise<void> => {
      const ns = sides.map(() => 0);
      const secs = sides.map(() => 0);
      while (ns[0] < SERIAL && secs.reduce((x, y) => x + y, 0) < (sides.length * SERIAL_MAX_MS) / 1000) {
        const block = sides.map(() => 0);
        for (let side = 0; side < sides.length; side++) {
          const val = validators[side];
          const start = process.hrtime.bigint();
          for (let i = 0; i < SERIAL_BLOCK; i++) {
            if (val) {
              const r = await val.validate(EVENT.xml);
              if (!r.valid) throw new Error(r.errors.join("; "));
            }
            await sender.send({ ...EVENT, domain: DOMAIN });
          }
          block[side] = secsSince(start);
          secs[side] += block[side];
          ns[side] += SERIAL_BLOCK;
        }
        for (let side = 1; side < sides.length; side++) sides[side].pairCosts.push(1 - block[0] / block[side]);
      }
      sides.forEach((sd, i) => sd.rounds.push(ns[i] / secs[i]));
    };
    await serialRound(); // warm up the link and the JIT
    for (const sd of sides) sd.rounds.length = sd.pairCosts.length = 0;
    for (let r = 0; r < 3; r++) await serialRound();
    const perEvent = async (val: SchemaValidator): Promise<number> => {
      let reps = 0;
      const start = process.hrtime.bigint();
      while (reps < 20_000 && secsSince(start) < 3) {
        if (!(await val.validate(EVENT.xml)).valid) throw new Error("PhoneStatus must validate");
        reps++;
      }
      return Number(process.hrtime.bigint() - start) / 1e3 / reps;
    };
    const validateUs = await perEvent(v);
    const libxml2Us = await perEvent(lx);
    const burst = 1000;
    t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: burst }, async () => {
        const r = await v.validate(EVENT.xml);
        if (!r.valid) throw new Error(r.errors.join("; "));
        await sender.send({ ...EVENT, domain: DOMAIN });
      }),
    );
    const burstRate = burst / secsSince(t0);
    return { plain, serial: sides, validateUs, libxml2Us, burstRate };
  } finally {
    v.close();
    lx.close();
    sender.close();
    await conn.stop();
  }
}

function printSend(send: SendFigures): void {
  const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  const [plain, ...validated] = send.serial;
  const base = median(plain.rounds);
  console.log(
    `  send one event at a time (each awaits the broker's confirmation); 3 rounds of ${SERIAL} events a side (or ${SERIAL_MAX_MS / 1000} s), in blocks of ${SERIAL_BLOCK} taking turns:`,
  );
  console.log(`    ${plain.label}: ${base.toFixed(0)} msg/s median (runs: ${runs(plain.rounds)})`);
  for (const sd of validated) {
    const rate = median(sd.rounds);
    console.log(
      `    ${sd.label} (3 Clacks-format schemas): ${rate.toFixed(0)} msg/s median (runs: ${runs(sd.rounds)}); ${(1000 / rate).toFixed(3)} ms per event`,
    );
    const roundCosts = sd.rounds.map((r, i) => 1 - r / plain.rounds[i]);
    console.log(
      `      costs ${(median(sd.pairCosts) * 100).toFixed(1)} % of the rate without validation (median over ${sd.pairCosts.length} block pairs; per round: ${roundCosts.map((c) => `${(c * 100).toFixed(1)} %`).join(", ")})${sd === validated[0] ? "   (target < 10 %)" : ""}`,
    );
  }
  console.log(`  XSD validation alone, in-process, back to back: ${send.validateUs.toFixed(1)} µs per event (libxml2 alone: ${send.libxml2Us.toFixed(1)} µs)`);
  console.log(`  send with XSD validation, 1000 concurrent sends: ${k(send.burstRate)} msg/s (pipelined without validation: ${k(send.plain)} msg/s)`);
}

async function main(): Promise<void> {
  if (ONLY === "send") {
    const send = await sendRates();
    console.log(`amqp send: PhoneStatus events of ${Buffer.byteLength(EVENT.xml)} bytes, RabbitMQ on loopback (Node ${process.version})`);
    console.log(`  send (broker-confirmed, /exchange/amq.topic), pipelined: ${k(send.plain)} msg/s`);
    printSend(send);
    return;
  }
  if (ONLY !== undefined) throw new Error(`--only takes "send", got ${ONLY}`);
  const ROUNDS = 3;
  const loadAtStart = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
  const tag = randomBytes(3).toString("hex");
  const bareQs = Array.from({ length: ROUNDS + 1 }, (_, i) => `ietest.bench.bare${i}.${tag}`);
  const nodeQs = Array.from({ length: ROUNDS }, (_, i) => `ietest.bench.node${i}.${tag}`);
  const redBareQs = Array.from({ length: ROUNDS }, (_, i) => `ietest.bench.redbare${i}.${tag}`);
  const xqQs = Array.from({ length: ROUNDS }, (_, i) => `ietest.bench.xq${i}.${tag}`);
  const qs = [...bareQs, ...nodeQs, ...redBareQs, ...xqQs];
  try {
    const fill = await prefill(qs[0], N);
    for (const q of qs.slice(1)) await prefill(q, N);
    const r = await interleavedDrains(bareQs, nodeQs, redBareQs, xqQs, N);
    const bare = median(r.bare.map((d) => d.rate));
    const node = median(r.node.map((d) => d.rate));
    const bareCpu = median(r.bare.map((d) => d.cpuUs));
    const nodeCpu = median(r.node.map((d) => d.cpuUs));
    const redBare = median(r.redBare.map((d) => d.rate));
    const redBareCpu = median(r.redBare.map((d) => d.cpuUs));
    const xqRate = median(r.xquery.map((d) => d.rate));
    const xqCpu = median(r.xquery.map((d) => d.cpuUs));
    const xq = xqueryCost();
    const send = await sendRates();
    const runs = (ds: Drain[]) => ds.map((d) => k(d.rate)).join(", ");
    const load = os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(", ");
    console.log(
      `amqp: ${k(N)} PhoneStatus events of ${Buffer.byteLength(EVENT.xml)} bytes per queue, RabbitMQ 3.10 on loopback (Node ${process.version}); load average at the start ${loadAtStart}, at the end ${load}`,
    );
    console.log(
      `  queue -> amqp1-events (auto accept, credit 1000) -> sink, embedded Node-RED: ${k(node)} msg/s median (runs: ${runs(r.node)}); client CPU ${nodeCpu.toFixed(1)} µs/msg`,
    );
    console.log(
      `    baseline: bare rhea receiver (credit 1000, autoaccept, body to string):  ${k(bare)} msg/s median (runs: ${runs(r.bare)}); client CPU ${bareCpu.toFixed(1)} µs/msg`,
    );
    console.log(
      `    node vs bare: ${((node / bare) * 100).toFixed(0)} % (medians; best run vs best run ${((Math.max(...r.node.map((d) => d.rate)) / Math.max(...r.bare.map((d) => d.rate))) * 100).toFixed(0)} %)   (target >= 85 %)`,
    );
    console.log(`    like with like: same broker and queue contents (${k(N)} events each), credit 1000 refilled a quarter window at a time,`);
    console.log(`    every delivery accepted and settled, body read to a UTF-8 string on both sides (the node then also parses the event);`);
    console.log(
      `    both timed from first to last message, in one process, drains alternating bare/node/trivial node/node with XQuery (${ROUNDS} rounds + a last bare)`,
    );
    console.log(
      `    Node-RED's own share: the bare receiver as a trivial node (node.send({payload}) per delivery): ${k(redBare)} msg/s median (runs: ${runs(r.redBare)}), ${((redBare / bare) * 100).toFixed(0)} % of bare; client CPU ${redBareCpu.toFixed(1)} µs/msg`,
    );
    console.log(`    amqp1-events vs that trivial node: ${((node / redBare) * 100).toFixed(0)} %`);
    console.log(
      `  the same with the seed's XQuery filter (compiled):                        ${k(xqRate)} msg/s median (runs: ${runs(r.xquery)}); client CPU ${xqCpu.toFixed(1)} µs/msg`,
    );
    const perRound = r.xquery.map((d, i) => `${((d.rate / r.node[i].rate) * 100).toFixed(0)} %`).join(", ");
    console.log(`    with XQuery vs without: ${((xqRate / node) * 100).toFixed(0)} % (medians; per round: ${perRound})   (target >= 80 %)`);
    console.log(
      `  per event, in-process (medians of blocks taking turns): whole decode without XQuery ${xq.plainUs.toFixed(2)} µs; with the seed's XQuery compiled ${xq.compiledUs.toFixed(2)} µs (+${(xq.compiledUs - xq.plainUs).toFixed(2)} µs);`,
    );
    console.log(
      `    the fontoxpath path it replaces: DOM parse + envelope ${xq.parseUs.toFixed(1)} µs + seed XQuery on the DOM ${xq.fontoxpathUs.toFixed(1)} µs = ${(xq.parseUs + xq.fontoxpathUs).toFixed(1)} µs`,
    );
    console.log(`  send (broker-confirmed, /exchange/amq.topic), pipelined: ${k(send.plain)} msg/s; prefill to a queue: ${k(fill)} msg/s`);
    printSend(send);
  } finally {
    const list = qs.map((q) => `<<"${q}">>`).join(",");
    execFileSync("rabbitmqctl", [
      "-q",
      "eval",
      `[case rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, N)) of {ok, Q} -> rabbit_amqqueue:delete(Q, false, false, <<"bench">>); _ -> missing end || N <- [${list}]].`,
    ]);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
