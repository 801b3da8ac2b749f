import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { promisify } from "node:util";
import helper from "node-red-node-test-helper";
import { startServer, stopServer } from "../support/test-server";
import { Connection, create_container, EventContext, message as rheaMessage, Sender } from "rhea";
import { nodeRedPath } from "../support/node-red-path";
import { waitFor, waitOn } from "../support/wait";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import sendNode from "../../src/nodes/amqp1-send";
import ackNode from "../../src/nodes/amqp1-ack";
import { makeEvent } from "../../src/amqp/event-maker";
import { probeAmqp } from "../../src/amqp/protocol-probe";
import { cleanupNewQueues, listQueues, queueNames, RABBIT, RABBIT_URL, restartBroker, uniq } from "../unit/amqp/support/rabbit";

/**
 * Queue sources survive a broker restart (issue 10, item 4), on the real RabbitMQ 3.10: events
 * published while the flow is down, then `rabbitmqctl stop_app; start_app`, then the flow is
 * deployed — every event arrives, once. One broker restart for the whole file: other tests on
 * this machine share the broker.
 */
helper.init(nodeRedPath);

const run = promisify(execFile);
const NODES = [brokerNode, eventsNode, sendNode, ackNode];
type Msg = { topic: string; payload: any; amqp: any; ack?: unknown };
type Call = { args: any[]; thisValue: unknown };
type Status = { fill?: string; text?: string };

const creds = { br: { username: RABBIT.username, password: RABBIT.password } };
const broker = () => ({ id: "br", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 });
const events = (id: string, address: string, extra: Record<string, unknown>, wires: string[]) => ({
  id,
  type: "amqp1-events",
  broker: "br",
  address,
  format: "xml-event",
  routing: "single",
  events: "",
  ack: "auto",
  credit: 100,
  outputs: 1,
  wires: [wires],
  ...extra,
});

function calls(id: string, fn: "status" | "warn"): Call[] {
  const n = helper.getNode(id);
  return (n as unknown as Record<string, { getCalls(): Call[] }>)[fn].getCalls().filter((c) => c.thisValue === n);
}
const statuses = (id: string): Status[] => calls(id, "status").map((c) => c.args[0] ?? {});
const warnings = (id: string): string[] => calls(id, "warn").map((c) => String(c.args[0]));
const untilGreen = (id: string) =>
  waitOn(helper.getNode(id), "call:status", () => statuses(id).some((s) => s.fill === "green"), `${id} connected; saw ${JSON.stringify(statuses(id))}`, 15000);

class Sink extends EventEmitter {
  readonly got = new Map<string, Msg[]>();
  attach(...ids: string[]): this {
    for (const id of ids) {
      this.got.set(id, []);
      helper.getNode(id).on("input", (m: unknown) => {
        this.got.get(id)!.push(m as Msg);
        this.emit("msg");
      });
    }
    return this;
  }
  /** Message ids of the events (not gap messages) that reached `id`, in arrival order. */
  ids(id: string): string[] {
    return (this.got.get(id) ?? []).filter((m) => m.topic !== "gap").map((m) => String(m.amqp.messageId));
  }
  until(check: () => boolean, what: string): Promise<void> {
    return waitOn(this, "msg", check, what, 30000);
  }
}

/** Queues with their durability, straight from the broker. */
async function queueDurability(): Promise<Map<string, boolean>> {
  const { stdout } = await run("rabbitmqctl", ["-q", "list_queues", "--no-table-headers", "name", "durable"], { timeout: 30000 });
  return new Map(
    stdout
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((p) => p.length === 2)
      .map(([n, d]) => [n, d === "true"]),
  );
}

/** After start_app: until the port answers an AMQP 1.0 header again (the listener is back). */
async function brokerAnswers(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await probeAmqp(RABBIT.host, RABBIT.port, 1000)) === "amqp1") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("RabbitMQ does not answer an AMQP 1.0 header after the restart");
}

/** Until the broker counts `pred`-many messages (ready + unacknowledged) in `queue`. */
async function untilQueue(queue: string, pred: (n: number) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const n = (await listQueues()).find((x) => x.name === queue)?.messages;
    if (n !== undefined && pred(n)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A second, plain rhea client: what another application on the bus would be. */
class PlainClient {
  private constructor(readonly conn: Connection) {}
  static async open(): Promise<PlainClient> {
    const conn = create_container({ id: uniq("plain") }).connect({
      host: RABBIT.host,
      port: RABBIT.port,
      username: RABBIT.username,
      password: RABBIT.password,
      reconnect: false,
    });
    await once(conn, "connection_open");
    return new PlainClient(conn);
  }
  /** Attach a receiver with this source terminus and detach again: declares a `/queue/` queue as asked. */
  async declare(source: { address: string; durable: number }): Promise<void> {
    const r = this.conn.open_receiver({ source, credit_window: 0, autoaccept: false });
    await once(r, "receiver_open");
    r.close();
    await once(r, "receiver_close");
  }
  /** Publish durable events with the given message ids to an existing queue; resolves once all are accepted. */
  async publish(queue: string, ids: string[]): Promise<void> {
    const s: Sender = this.conn.open_sender({ target: { address: `/amq/queue/${queue}` } });
    await once(s, "sendable");
    let accepted = 0;
    s.on("accepted", () => accepted++);
    s.on("rejected", (ctx: EventContext) => assert.fail(`publish to ${queue} rejected: ${JSON.stringify(ctx.delivery?.remote_state)}`));
    for (const id of ids) {
      const ev = makeEvent({ NodeStatus: { Id: id } });
      s.send({
        message_id: id,
        durable: true,
        subject: `org.ietest.event.${ev.name}`,
        application_properties: { clacks_event: ev.name },
        body: rheaMessage.data_section(Buffer.from(ev.xml)),
      });
    }
    await waitFor(`${ids.length} accepted on ${queue}`, () => accepted === ids.length, 15000);
    s.close();
  }
  close(): void {
    this.conn.close();
  }
}

const range = (tag: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${tag}-${from + i}`);
const sorted = (ids: string[]) => [...ids].sort();

describe("amqp1 queue sources survive a RabbitMQ restart (127.0.0.1:5672)", function () {
  this.timeout(120000);
  let queuesBefore: Set<string>;
  const queues: string[] = [];
  let plain: PlainClient;
  before(async () => {
    queuesBefore = await queueNames();
    await startServer();
    plain = await PlainClient.open();
  });
  after(async () => {
    plain?.close();
    await stopServer();
    // Whatever happened above, leave a broker that answers for the next test.
    await brokerAnswers();
    await cleanupNewQueues(queuesBefore, queues.splice(0));
  });
  afterEach(() => helper.unload());

  function queue(tag: string): string {
    const q = uniq(`ietest.dur.${tag}.`);
    queues.push(q);
    return q;
  }

  it("events published while the flow is down arrive exactly once after a broker restart (manual and auto; amqp1-send's messages too)", async () => {
    const qm = queue("manual");
    const qa = queue("auto");
    const qs = queue("send");
    // First deploy: the nodes declare their queues, as a user's first deploy would. The manual
    // node takes 5 events and holds them (nothing acks them) when the flow goes down.
    await helper.load(
      NODES,
      [
        broker(),
        events("m", `/queue/${qm}`, { ack: "manual", credit: 5 }, ["outm"]),
        events("a", `/queue/${qa}`, {}, ["outa"]),
        // amqp1-send as the editor leaves it (Durable unticked), to a queue nobody reads yet.
        { id: "snd", type: "amqp1-send", broker: "br", address: `/queue/${qs}`, domain: "org.ietest", namespace: "", schemas: "", durable: false, wires: [] },
        { id: "outm", type: "helper" },
        { id: "outa", type: "helper" },
      ] as never,
      creds,
    );
    let sink = new Sink().attach("outm", "outa");
    await Promise.all(["m", "a", "snd"].map(untilGreen));
    await plain.publish(qm, range("m", 1, 5));
    await plain.publish(qa, range("a", 1, 5));
    for (let i = 1; i <= 3; i++) helper.getNode("snd").receive({ payload: { NodeStatus: { Id: `s-${i}` } } });
    await sink.until(() => sink.ids("outm").length === 5 && sink.ids("outa").length === 5, "5 held (manual) and 5 accepted (auto)");
    await untilQueue(qs, (n) => n === 3, "amqp1-send's 3 events in their queue");
    const firstAuto = sink.ids("outa");

    // The flow goes down (the 5 held deliveries go back to their queue); 15 more events each
    // are published meanwhile; then the broker restarts.
    await helper.unload();
    await plain.publish(qm, range("m", 6, 20));
    await plain.publish(qa, range("a", 6, 20));
    const durable = await queueDurability();
    plain.close();
    await restartBroker();
    await brokerAnswers();
    plain = await PlainClient.open();

    // The flow comes back: manual mode acks through amqp1-ack.
    await helper.load(
      NODES,
      [
        broker(),
        events("m", `/queue/${qm}`, { ack: "manual", credit: 5 }, ["outm", "ack"]),
        { id: "ack", type: "amqp1-ack", outcome: "accept", wires: [] },
        events("a", `/queue/${qa}`, {}, ["outa"]),
        events("s", `/queue/${qs}`, {}, ["outs"]),
        { id: "outm", type: "helper" },
        { id: "outa", type: "helper" },
        { id: "outs", type: "helper" },
      ] as never,
      creds,
    );
    sink = new Sink().attach("outm", "outa", "outs");
    const what = () =>
      `all events; got manual ${sink.ids("outm").length}/20, auto ${sink.ids("outa").length}/15, sent ${sink.ids("outs").length}/3 (queues durable: ${[qm, qa, qs].map((q) => durable.get(q)).join(", ")})`;
    await sink.until(() => sink.ids("outm").length >= 20 && sink.ids("outa").length >= 15 && sink.ids("outs").length >= 3, what());
    // Once every queue is empty (ready and unacknowledged) nothing more can come: the counts are final.
    for (const q of [qm, qa, qs]) await untilQueue(q, (n) => n === 0, `${q} drained and settled`);
    assert.deepEqual(sorted(sink.ids("outm")), sorted(range("m", 1, 20)), "manual: each of the 20 events once after the restart (the 5 held ones included)");
    assert.deepEqual(sorted([...firstAuto, ...sink.ids("outa")]), sorted(range("a", 1, 20)), "auto: the 5 before and the 15 after, each once");
    assert.equal(sink.ids("outs").length, 3, "amqp1-send's 3 events survived the restart");
    assert.equal(new Set(sink.ids("outs")).size, 3);
    assert.deepEqual(
      sink.got
        .get("outs")!
        .map((m) => m.payload.Id)
        .sort(),
      ["s-1", "s-2", "s-3"],
    );
    for (const q of [qm, qa, qs]) assert.equal(durable.get(q), true, `queue ${q} was declared durable`);
  });

  it("a pre-declared durable queue attaches under /queue/", async () => {
    const q = queue("pre");
    await plain.declare({ address: `/queue/${q}`, durable: 2 });
    assert.equal((await queueDurability()).get(q), true);
    await helper.load(NODES, [broker(), events("ev", `/queue/${q}`, {}, ["out"]), { id: "out", type: "helper" }] as never, creds);
    const sink = new Sink().attach("out");
    await untilGreen("ev");
    await plain.publish(q, ["pre-1"]);
    await sink.until(() => sink.ids("out").length === 1, "the event from the pre-declared queue");
    assert.deepEqual(warnings("ev"), []);
  });

  it("an old transient queue of the same name: the error says what to do; 'transient' keeps the old behaviour", async () => {
    const q = queue("old");
    await plain.declare({ address: `/queue/${q}`, durable: 0 });
    assert.equal((await queueDurability()).get(q), false);
    await helper.load(NODES, [broker(), events("ev", `/queue/${q}`, {}, ["out"]), { id: "out", type: "helper" }] as never, creds);
    await waitOn(helper.getNode("ev"), "call:warn", () => warnings("ev").length > 0, "a warning about the transient queue", 15000);
    const w = warnings("ev")[0];
    assert.match(w, new RegExp(`queue '${q.replace(/\./g, "\\.")}' is transient`));
    assert.ok(w.includes(`rabbitmqctl delete_queue ${q}`), w);
    assert.ok(w.includes(`/amq/queue/${q}`), w);
    assert.match(w, /Queue durability.*transient/, w);
    // The status (throttled to one update a second) says it too, in short.
    await waitOn(
      helper.getNode("ev"),
      "call:status",
      () => statuses("ev").some((s) => s.fill === "red" && /^link: queue '.*' is tran/.test(s.text ?? "")),
      "a red status naming the transient queue",
      15000,
    );
    await helper.unload();

    // amqp1-send to the same /queue/ address takes the old queue as it is (no option needed there).
    await helper.load(
      NODES,
      [
        broker(),
        events("ev", `/queue/${q}`, { durability: "transient" }, ["out"]),
        { id: "snd", type: "amqp1-send", broker: "br", address: `/queue/${q}`, domain: "org.ietest", namespace: "", schemas: "", durable: false, wires: [] },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("out");
    await untilGreen("ev");
    await plain.publish(q, ["old-1"]);
    helper.getNode("snd").receive({ payload: { NodeStatus: { Id: "old-2" } } });
    await sink.until(() => sink.ids("out").length === 2, "the events from the transient queue");
    assert.deepEqual(
      sink.got
        .get("out")!
        .map((m) => m.payload.Id)
        .sort(),
      ["old-1", "old-2"],
    );
    assert.equal((await queueDurability()).get(q), false, "left as it was");
  });
});
