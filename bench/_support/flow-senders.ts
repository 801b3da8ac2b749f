import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setImmediate as tick, setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { Channel, CellSpec } from "./flow-protocol";
import { startNsoSimulator } from "../../src/sim/nso";
import { startApicSimulator } from "../../src/sim/apic";
import { startSysadmSimulator } from "../../src/sim/sysadm";
import { AmqpConnection, EventSender, makeEvent, parseBrokerUrls } from "../../src/amqp";
import { Backoff } from "../../src/core/backoff";

/**
 * The sending side of a flow-control cell, in the bench's own process: a simulator flooding at
 * wire speed (as fast as the socket takes it: each waits while its client does not read) or a
 * RabbitMQ queue filled beforehand. Every event carries a sequence number (0, 1, …) the cell's
 * sink checks. The backlog is fixed: the sender has `backlog` events to deliver, and what it
 * still has when the cell ends is what it was held back by.
 */
export interface Sender {
  peer: CellSpec["peer"];
  /** Resolves once the cell's input node is subscribed (bounded). */
  subscribed(): Promise<void>;
  /** Begin the flood (sims); the queue is already full (AMQP). */
  start(): void;
  /** Events the sender handed to its socket (sims) or that the broker no longer has ready (AMQP). */
  produced(): Promise<number>;
  /** Events the sender still had to send: its unsent backlog (sims), the queue's ready count (AMQP). */
  heldBack(): Promise<number>;
  close(): Promise<void>;
}

const run = promisify(execFile);

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A sim flood: `one(seq)` writes one event, `congested()` says the socket is backed up. */
class SimFlood {
  produced = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  constructor(
    private readonly backlog: number,
    private readonly chunk: (from: number, n: number) => Promise<void>,
  ) {}
  start(): void {
    this.running = (async () => {
      // Chunks of 500, a turn of the event loop between them: the bench itself stays responsive.
      while (!this.stopped && this.produced < this.backlog) {
        const n = Math.min(500, this.backlog - this.produced);
        await this.chunk(this.produced, n);
        this.produced += n;
        await tick();
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    // A flood waiting for a socket that never drains again ends with the socket.
    await Promise.race([this.running, sleep(2000)]);
  }
}

const PAD = "x".repeat(200);

async function nsoSender(backlog: number): Promise<Sender> {
  const sim = await startNsoSimulator({ port: 0 });
  const audit = (i: number) => ({ type: "NOTIF_AUDIT", logno: 1, usid: 59, user: "admin", msg: `${i} audit ${PAD}` });
  const flood = new SimFlood(backlog, async (from, n) => void (await sim.server.flood((i) => audit(from + i), n)));
  return {
    peer: { port: sim.port },
    subscribed: () => sim.server.waitForSubscribers(1).then(() => undefined),
    start: () => flood.start(),
    produced: () => Promise.resolve(flood.produced),
    heldBack: () => Promise.resolve(backlog - flood.produced),
    close: async () => {
      await flood.stop();
      await sim.close();
    },
  };
}

async function apicSender(backlog: number): Promise<Sender> {
  const s = await startApicSimulator({});
  s.sim.create("fvTenant", "uni/tn-flood", { name: "flood" });
  // The simulator's own flood, with our sequence numbers: pauses while a socket has 4 MB queued.
  const flood = new SimFlood(backlog, async (from, n) => {
    for (let i = 0; i < n; i++) s.sim.modify("uni/tn-flood", { descr: `change ${from + i}` });
    while (s.sim.backlogBytes() > 4 * 1024 * 1024) await sleep(2);
  });
  return {
    peer: { url: s.url },
    subscribed: () => until("the APIC subscription", () => s.sim.liveStats().liveSubscriptions >= 1),
    start: () => flood.start(),
    produced: () => Promise.resolve(flood.produced),
    heldBack: () => Promise.resolve(backlog - flood.produced),
    close: async () => {
      await flood.stop();
      await s.close();
    },
  };
}

async function sysadmSender(backlog: number): Promise<Sender> {
  const sim = await startSysadmSimulator({ reorder: "none" });
  const flood = new SimFlood(backlog, (from, n) => sim.server.flood(n, "dispatcher", (i: number) => ({ process_id: `p${from + i}`, state: "running" })));
  return {
    peer: { url: sim.server.wsUrl },
    subscribed: () => until("the sysadm subscription", () => sim.server.subscribers("dispatcher") >= 1),
    start: () => flood.start(),
    produced: () => Promise.resolve(flood.produced),
    heldBack: () => Promise.resolve(backlog - flood.produced),
    close: async () => {
      await flood.stop();
      await sim.close();
    },
  };
}

async function rabbitctl(...args: string[]): Promise<string> {
  const { stdout } = await run("rabbitmqctl", ["-q", ...args], { timeout: 60_000 });
  return stdout;
}

/** Ready and unacknowledged messages of queue `q` on the machine's RabbitMQ. */
export async function queueCounts(q: string): Promise<{ ready: number; unacked: number }> {
  const out = await rabbitctl("list_queues", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged");
  const row = out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((p) => p[0] === q);
  if (!row) throw new Error(`queue ${q} not listed`);
  return { ready: Number(row[1]), unacked: Number(row[2]) };
}

/** Queues this process made and has not deleted yet (an interrupted bench deletes them). */
const liveQueues = new Set<string>();

export async function deleteLeftQueues(): Promise<void> {
  for (const q of liveQueues) await rabbitctl("delete_queue", q).catch(() => undefined);
  liveQueues.clear();
}

/** A fresh durable queue holding `backlog` PhoneStatus events, CallerId 0 … backlog-1 (broker-confirmed). */
async function amqpSender(backlog: number, log: (s: string) => void): Promise<Sender> {
  const q = `fcbench.${randomBytes(5).toString("hex")}`;
  const c = new AmqpConnection({
    id: q,
    urls: parseBrokerUrls("amqp://127.0.0.1:5672"),
    username: "guest",
    password: "guest",
    vhost: "/",
    backoff: new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 }),
  });
  const t0 = Date.now();
  liveQueues.add(q);
  try {
    const snd = new EventSender(c, { address: `/queue/${q}`, maxQueue: 10_000 });
    snd.open();
    c.start();
    for (let from = 0; from < backlog; from += 5000) {
      const n = Math.min(5000, backlog - from);
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          snd.send({ ...makeEvent({ PhoneStatus: { CallerId: String(from + i), ReceiverId: "1", Status: "busy" } }), domain: "org.fcbench" }),
        ),
      );
    }
    snd.close();
  } finally {
    await c.stop();
  }
  log(`    (queue ${q}: ${backlog} events filled in ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return {
    peer: { queue: q },
    subscribed: () => Promise.resolve(),
    start: () => undefined,
    produced: async () => {
      const c = await queueCounts(q);
      return backlog - c.ready;
    },
    heldBack: async () => (await queueCounts(q)).ready,
    close: async () => {
      await rabbitctl("delete_queue", q);
      liveQueues.delete(q);
    },
  };
}

export function startSender(channel: Channel, backlog: number, log: (s: string) => void): Promise<Sender> {
  switch (channel) {
    case "nso":
      return nsoSender(backlog);
    case "apic":
      return apicSender(backlog);
    case "sysadm":
      return sysadmSender(backlog);
    case "amqp":
      return amqpSender(backlog, log);
  }
}
