/**
 * AMQP figures (printed, never asserted), all against the RabbitMQ on 127.0.0.1:5672:
 *  - messages/s drained from a pre-filled queue through amqp1-broker/amqp1-events to a sink node
 *    in a real embedded Node-RED 4.1 runtime, next to a bare rhea receiver (autoaccept, body to
 *    string, count) draining the same queue in the same run. Target: node >= 85 % of bare.
 *  - the same with the seed's XQuery filter on;
 *  - XQuery cost per event (parse vs parse + filter, in-process);
 *  - send rate through EventSender (broker-confirmed) with and without XSD validation.
 * Run: node --import tsx bench/amqp-throughput.ts [--messages 20000]
 */
import { execFileSync } from "node:child_process";
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
  return new AmqpConnection({ id: `bench-${randomBytes(3).toString("hex")}`, urls: parseBrokerUrls(`amqp://${RABBIT.host}:${RABBIT.port}`), username: RABBIT.username, password: RABBIT.password });
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

/** Baseline: a bare rhea receiver, credit window 1000, autoaccept, body to string. */
async function bareDrain(q: string, n: number): Promise<number> {
  const c = create_container({ id: `bench-bare-${randomBytes(3).toString("hex")}` });
  const conn = c.connect({ ...RABBIT, reconnect: false });
  let count = 0;
  let t0 = 0n;
  const r = conn.open_receiver({ source: { address: `/amq/queue/${q}` }, credit_window: 1000 });
  r.on("message", (ctx: EventContext) => {
    if (count === 0) t0 = process.hrtime.bigint();
    const b = ctx.message!.body as { content?: Buffer } | Buffer | string;
    const s = typeof b === "string" ? b : Buffer.isBuffer(b) ? b.toString("utf8") : b.content!.toString("utf8");
    if (s.length > 0) count++;
  });
  await until(() => count, n);
  const rate = (n - 1) / secsSince(t0);
  conn.close();
  return rate;
}

const BENCH_NODES = {
  name: "amqp-bench-sink",
  js: `module.exports = function (RED) {
      function Sink(c) { RED.nodes.createNode(this, c); this.on("input", () => { if (globalThis.__amqpBench[c.name]++ === 0) globalThis.__amqpBenchT0[c.name] = process.hrtime.bigint(); }); }
      RED.nodes.registerType("amqp-bench-sink", Sink);
    };\n`,
  html: `<script type="text/javascript">RED.nodes.registerType('amqp-bench-sink',{category:'function',defaults:{name:{value:''}},inputs:1,outputs:0});</script>`,
};

/** Drain queues through amqp1-events nodes (one plain, one with the seed XQuery) in one runtime. */
async function nodeDrain(qPlain: string, qXq: string, qPlain2: string, n: number): Promise<{ plain: number; plain2: number; xquery: number }> {
  const g = globalThis as unknown as { __amqpBench: Record<string, number>; __amqpBenchT0: Record<string, bigint> };
  g.__amqpBench = { plain: 0, xquery: 0 };
  g.__amqpBenchT0 = {};
  const flows = [
    { id: "t1", type: "tab", label: "bench" },
    { id: "br", type: "amqp1-broker", urls: `amqp://${RABBIT.host}:${RABBIT.port}`, sasl: "plain", vhost: "", idleTimeout: 60 },
    { id: "evp", z: "t1", type: "amqp1-events", broker: "br", address: `/amq/queue/${qPlain}`, format: "xml-event", routing: "single", ack: "auto", credit: 1000, outputs: 1, wires: [["sp"]] },
    { id: "sp", z: "t1", type: "amqp-bench-sink", name: "plain", wires: [] },
  ];
  const red = await startEmbeddedRed({
    prefix: "amqp-bench",
    types: ["amqp1-broker", "amqp1-events"],
    bench: BENCH_NODES,
    flows,
    credentials: { br: { username: RABBIT.username, password: RABBIT.password } },
  });
  const RED = red.RED;
  await until(() => g.__amqpBench.plain, n);
  // Both sides are timed from their first message to their last: steady-state draining.
  const plain = (n - 1) / secsSince(g.__amqpBenchT0.plain);
  // Second run with the XQuery: deploy a flow that reads the other queue.
  await RED.runtime.flows.setFlows({
    flows: {
      flows: [
        ...flows.slice(0, 2),
        { id: "evx", z: "t1", type: "amqp1-events", broker: "br", address: `/amq/queue/${qXq}`, xquery: SEED_QUERY, format: "xml-event", routing: "single", ack: "auto", credit: 1000, outputs: 1, wires: [["sx"]] },
        { id: "sx", z: "t1", type: "amqp-bench-sink", name: "xquery", wires: [] },
      ],
    },
    deploymentType: "full",
    user: null,
  });
  await until(() => g.__amqpBench.xquery, n);
  const xquery = (n - 1) / secsSince(g.__amqpBenchT0.xquery);
  // The plain node once more, for run-to-run spread (the broker's pace varies by ±20 %).
  g.__amqpBench.plain = 0;
  await RED.runtime.flows.setFlows({
    flows: { flows: [...flows.slice(0, 2), { ...flows[2], id: "evp2", address: `/amq/queue/${qPlain2}` }, flows[3]] },
    deploymentType: "full",
    user: null,
  });
  await until(() => g.__amqpBench.plain, n);
  const plain2 = (n - 1) / secsSince(g.__amqpBenchT0.plain);
  await red.stop();
  return { plain, plain2, xquery };
}

function xqueryCost(): { fastUs: number; parseUs: number; filterUs: number } {
  const f = new XQueryFilter(SEED_QUERY);
  const reps = 20_000;
  const dec = new EventDecoder({});
  const msg = { body: rheaMessage.data_section(Buffer.from(EVENT.xml)) } as Message;
  for (let i = 0; i < 2000; i++) dec.decode(msg);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) dec.decode(msg);
  const fastUs = Number(process.hrtime.bigint() - t0) / 1e3 / reps;
  for (let i = 0; i < 2000; i++) f.evaluate(parseEvent(EVENT.xml).doc);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) parseEvent(EVENT.xml);
  const parseUs = (Number(process.hrtime.bigint() - t0) / 1e3) / reps;
  t0 = process.hrtime.bigint();
  let hits = 0;
  for (let i = 0; i < reps; i++) if (f.evaluate(parseEvent(EVENT.xml).doc).match) hits++;
  const bothUs = (Number(process.hrtime.bigint() - t0) / 1e3) / reps;
  if (hits !== reps) throw new Error("the seed query must match every PhoneStatus");
  return { fastUs, parseUs, filterUs: bothUs - parseUs };
}

async function sendRates(): Promise<{ plain: number; validated: number; validateMs: number; burstRate: number }> {
  const { conn, sender } = await openSender("/exchange/amq.topic");
  const n = Math.min(N, 20_000);
  let t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => sender.send({ ...EVENT, domain: DOMAIN })));
  const plain = n / secsSince(t0);
  const schemas = resolve(root, "../shared/clacks-events");
  const v = new SchemaValidator(schemas);
  await v.validate(EVENT.xml); // load the folder and the WASM module once
  const m = 30;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < m; i++) {
    const r = await v.validate(EVENT.xml);
    if (!r.valid) throw new Error(r.errors.join("; "));
    await sender.send({ ...EVENT, domain: DOMAIN });
  }
  const secs = secsSince(t0);
  // A burst: concurrent sends share xmllint runs (SchemaValidator coalesces them).
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
  sender.close();
  await conn.stop();
  return { plain, validated: m / secs, validateMs: (secs * 1000) / m, burstRate };
}

async function main(): Promise<void> {
  const qs = ["bare1", "node", "xq", "bare2", "node2"].map((s) => `ietest.bench.${s}.${randomBytes(3).toString("hex")}`);
  try {
    const fill = await prefill(qs[0], N);
    await prefill(qs[1], N);
    await prefill(qs[2], N);
    await prefill(qs[3], N);
    await prefill(qs[4], N);
    const bare1 = await bareDrain(qs[0], N);
    const nodeRuns = await nodeDrain(qs[1], qs[2], qs[4], N);
    const node = { ...nodeRuns, plain: Math.max(nodeRuns.plain, nodeRuns.plain2) };
    const bare2 = await bareDrain(qs[3], N);
    const bare = Math.max(bare1, bare2);
    const xq = xqueryCost();
    const send = await sendRates();
    console.log(`amqp: ${k(N)} PhoneStatus events of ${Buffer.byteLength(EVENT.xml)} bytes per queue, RabbitMQ 3.10 on loopback (Node ${process.version})`);
    console.log(`  queue -> amqp1-events (auto accept, credit 1000) -> sink, embedded Node-RED: ${k(node.plain)} msg/s (runs: ${k(nodeRuns.plain)}, ${k(nodeRuns.plain2)})`);
    console.log(`    baseline: bare rhea receiver (credit 1000, autoaccept, body to string): ${k(bare)} msg/s (runs: ${k(bare1)}, ${k(bare2)})`);
    console.log(`    node vs bare: ${((node.plain / bare) * 100).toFixed(0)} %   (target >= 85 %)`);
    console.log(`  the same with the seed's XQuery filter:                                   ${k(node.xquery)} msg/s (${((node.xquery / bare) * 100).toFixed(0)} % of bare)`);
    console.log(`    (best run of each side; both timed from first to last message of the same queue contents)`);
    console.log(`  per event, in-process: whole decode without XQuery (DOM-free path) ${xq.fastUs.toFixed(1)} µs; with an XQuery: DOM parse + envelope ${xq.parseUs.toFixed(1)} µs + seed XQuery ${xq.filterUs.toFixed(1)} µs`);
    console.log(`  send (broker-confirmed, /exchange/amq.topic): ${k(send.plain)} msg/s; prefill to a queue: ${k(fill)} msg/s`);
    console.log(`  send with XSD validation (18 Clacks schemas), one event at a time: ${send.validated.toFixed(1)} msg/s (${send.validateMs.toFixed(0)} ms per event)`);
    console.log(`  send with XSD validation, 1000 concurrent sends (validations coalesced): ${k(send.burstRate)} msg/s`);
  } finally {
    const list = qs.map((q) => `<<"${q}">>`).join(",");
    execFileSync("rabbitmqctl", ["-q", "eval", `[case rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, N)) of {ok, Q} -> rabbit_amqqueue:delete(Q, false, false, <<"bench">>); _ -> missing end || N <- [${list}]].`]);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
