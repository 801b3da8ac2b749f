import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import helper from "node-red-node-test-helper";
import { startServer, stopServer } from "../support/test-server";
import { nodeRedPath } from "../support/node-red-path";
import { create_container, message as rheaMessage, Sender } from "rhea";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import sendNode from "../../src/nodes/amqp1-send";
import ackNode from "../../src/nodes/amqp1-ack";
import type { BrokerHandle } from "../../src/nodes/lib/handles";
import { makeEvent } from "../../src/amqp";
import { clacksSchemaDir } from "../unit/amqp/support/clacks-schemas";
import { cleanupNewQueues, CuttableRelay, listQueues, queueNames, RABBIT, RABBIT_URL, uniq } from "../unit/amqp/support/rabbit";
import { waitFor, waitOn as waitOnEvent } from "../support/wait";

helper.init(nodeRedPath);

type Call = { args: any[]; thisValue: unknown };
type Status = { fill?: string; shape?: string; text?: string };
type Msg = { topic: string; payload: any; xml?: string; amqp: any; ack?: any };
const NODES = [brokerNode, eventsNode, sendNode, ackNode];
const SEED_QUERY = `declare namespace f='http://www.gonicus.de/Events';
let $e := ./f:Event
return $e/f:PhoneStatus`;

function calls(id: string, fn: "status" | "error" | "warn"): Call[] {
  const n = helper.getNode(id);
  return (n as unknown as Record<string, { getCalls(): Call[] }>)[fn].getCalls().filter((c) => c.thisValue === n);
}
const statuses = (id: string): Status[] => calls(id, "status").map((c) => c.args[0] ?? {});
const errorsOf = (id: string): string[] => calls(id, "error").map((c) => String(c.args[0]?.message ?? c.args[0]));

// The broker round trips here are slower than the shared default allows.
const waitOn = (emitter: EventEmitter, event: string, check: () => boolean, what: string, ms = 8000): Promise<void> =>
  waitOnEvent(emitter, event, check, what, ms);
const untilStatus = (id: string, match: (s: Status) => boolean, what: string) =>
  waitOn(helper.getNode(id), "call:status", () => statuses(id).some(match), `status ${what}; saw ${JSON.stringify(statuses(id))}`);
const untilError = (id: string, n: number) => waitOn(helper.getNode(id), "call:error", () => errorsOf(id).length >= n, `${n} errors on ${id}`);

class Sink extends EventEmitter {
  got: Array<{ port: string; msg: Msg }> = [];
  attach(...ids: string[]): this {
    for (const id of ids) {
      helper.getNode(id).on("input", (m: unknown) => {
        const msg = m as Msg;
        this.got.push({ port: id, msg });
        this.emit("msg");
      });
    }
    return this;
  }
  at(port: string): Msg[] {
    return this.got.filter((g) => g.port === port).map((g) => g.msg);
  }
  until(n: number, what = `${n} messages`): Promise<void> {
    return waitOn(this, "msg", () => this.got.length >= n, what);
  }
}

const creds = { br: { username: RABBIT.username, password: RABBIT.password } };
const broker = (urls = RABBIT_URL) => ({ id: "br", type: "amqp1-broker", urls, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 });

/** A bare rhea publisher for hand-made (hostile) bodies. */
async function rawPublisher(): Promise<Sender> {
  const c = create_container({ id: uniq("raw") }).connect({
    host: RABBIT.host,
    port: RABBIT.port,
    username: RABBIT.username,
    password: RABBIT.password,
    reconnect: false,
  });
  const s = c.open_sender({ target: { address: "/exchange/amq.topic" } });
  await once(s, "sendable");
  return s;
}

describe("amqp1 nodes in a Node-RED runtime against RabbitMQ", function () {
  this.timeout(30000);
  let queuesBefore: Set<string>;
  let domain: string;
  const queues: string[] = [];
  before(async () => {
    queuesBefore = await queueNames();
    await startServer();
  });
  after(async () => {
    await stopServer();
    await cleanupNewQueues(queuesBefore, queues.splice(0));
  });
  beforeEach(() => {
    domain = uniq("org.ietest");
  });
  afterEach(() => helper.unload());

  it("sends the seed's PhoneStatus with amqp1-send and receives it through the seed's XQuery", async () => {
    await helper.load(
      NODES,
      [
        broker(),
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain, namespace: "", schemas: "", wires: [] },
        {
          id: "ev",
          type: "amqp1-events",
          broker: "br",
          address: `/exchange/amq.topic/${domain}.event.#`,
          xquery: SEED_QUERY,
          format: "xml-event",
          routing: "single",
          events: "",
          ack: "auto",
          credit: 100,
          outputs: 1,
          wires: [["out"]],
        },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("out");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    await untilStatus("snd", (s) => s.fill === "green", "connected");
    helper.getNode("snd").receive({ payload: { NodeLeave: { Id: "agent" } } });
    helper.getNode("snd").receive({ payload: { PhoneStatus: { CallerId: "012345", ReceiverId: "12343424", Status: "busy" } } });
    await sink.until(1);
    const m = sink.at("out")[0];
    assert.equal(m.topic, "PhoneStatus");
    assert.deepEqual(m.payload, { CallerId: "012345", ReceiverId: "12343424", Status: "busy" });
    assert.match(m.xml!, /^<Event xmlns="http:\/\/www.gonicus.de\/Events"><PhoneStatus>/);
    assert.equal(m.amqp.subject, `${domain}.event.PhoneStatus`);
    assert.equal(typeof m.amqp.messageId, "string");
    assert.equal(m.ack, undefined);
  });

  it("warns once when the XQuery fails on events (they count as no match), and emits nothing", async () => {
    await helper.load(
      NODES,
      [
        broker(),
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain, namespace: "", schemas: "", wires: [] },
        // Compiles, but fails at evaluation on every event.
        {
          id: "ev",
          type: "amqp1-events",
          broker: "br",
          address: `/exchange/amq.topic/${domain}.event.#`,
          xquery: "xs:integer(string(//*:CallerId)) > 0",
          format: "xml-event",
          routing: "single",
          events: "",
          ack: "auto",
          credit: 100,
          outputs: 1,
          wires: [["out"]],
        },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("out");
    await untilStatus("ev", (st) => st.fill === "green", "connected");
    await untilStatus("snd", (st) => st.fill === "green", "connected");
    for (const id of ["abc", "def", "ghi"]) {
      helper.getNode("snd").receive({ payload: { PhoneStatus: { CallerId: id, ReceiverId: "1", Status: "busy" } } });
    }
    const { warn } = helper.getNode("ev") as unknown as { warn: { args: unknown[][] } };
    const xqueryWarnings = () => warn.args.filter((a) => /XQuery failed on an event/.test(String(a[0])));
    await waitFor("an XQuery warning", () => xqueryWarnings().length > 0, 8000);
    // A fourth event that passes the filter proves the other three were evaluated before it.
    helper.getNode("snd").receive({ payload: { PhoneStatus: { CallerId: "42", ReceiverId: "1", Status: "busy" } } });
    await sink.until(1);
    assert.equal(xqueryWarnings().length, 1, JSON.stringify(xqueryWarnings()));
    assert.equal(sink.at("out").length, 1);
    assert.equal((sink.at("out")[0].payload as { CallerId: string }).CallerId, "42");
  });

  it("routes by event name with an 'other' output, like the Switch node", async () => {
    await helper.load(
      NODES,
      [
        broker(),
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain, wires: [] },
        {
          id: "ev",
          type: "amqp1-events",
          broker: "br",
          address: `/exchange/amq.topic/${domain}.event.#`,
          xquery: "",
          format: "xml-event",
          routing: "event",
          events: "PhoneStatus, NodeLeave",
          ack: "auto",
          credit: 10,
          outputs: 3,
          wires: [["o0"], ["o1"], ["o2"]],
        },
        { id: "o0", type: "helper" },
        { id: "o1", type: "helper" },
        { id: "o2", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("o0", "o1", "o2");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    const snd = helper.getNode("snd");
    for (const p of [{ NodeLeave: { Id: "a" } }, { ClientPoll: {} }, { PhoneStatus: { Status: "x" } }]) snd.receive({ payload: p });
    await sink.until(3);
    assert.deepEqual(
      sink.at("o0").map((m) => m.topic),
      ["PhoneStatus"],
    );
    assert.deepEqual(
      sink.at("o1").map((m) => m.topic),
      ["NodeLeave"],
    );
    assert.deepEqual(
      sink.at("o2").map((m) => m.topic),
      ["ClientPoll"],
    );
  });

  it("status: yellow while connecting, red with a reason when the broker is unreachable, green once connected", async () => {
    const relay = await CuttableRelay.start();
    try {
      await helper.load(
        NODES,
        [
          broker(relay.url),
          { id: "ev", type: "amqp1-events", broker: "br", address: `/exchange/amq.topic/${domain}.event.#`, outputs: 1, wires: [[]] },
        ] as never,
        creds,
      );
      await untilStatus("ev", (s) => s.fill === "green" && s.shape === "dot", "connected");
      assert.equal(statuses("ev")[0].fill, "yellow");
      // Down long enough to be seen: the status throttle shows the latest state once a second.
      relay.refusing = true;
      relay.cut();
      await untilStatus("ev", (s) => s.fill === "red" && s.shape === "ring" && /disconnected/.test(s.text ?? ""), "disconnected");
      relay.refusing = false;
      const n = statuses("ev").length;
      await waitOn(
        helper.getNode("ev"),
        "call:status",
        () =>
          statuses("ev")
            .slice(n)
            .some((s) => s.fill === "green"),
        "green again after the reconnect",
      );
      // The gap is said out loud once the link is back.
      const warns = () => calls("ev", "warn").map((c) => String(c.args[0]));
      await waitOn(
        helper.getNode("ev"),
        "call:warn",
        () => warns().some((w) => /re-attached; events published while detached were missed/.test(w)),
        "gap warning",
      );
    } finally {
      await relay.close();
    }
  });

  it("after a cut connection, an /exchange/ source sends exactly one gap message (not filled) on the other output; a queue source one filled by redelivery", async () => {
    const relay = await CuttableRelay.start();
    const q = uniq("ietest.gapq");
    queues.push(q);
    try {
      await helper.load(
        NODES,
        [
          broker(relay.url),
          { id: "direct", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 },
          { id: "snd", type: "amqp1-send", broker: "direct", address: "/exchange/amq.topic", domain, wires: [] },
          {
            id: "ev",
            type: "amqp1-events",
            broker: "br",
            address: `/exchange/amq.topic/${domain}.event.#`,
            routing: "event",
            events: "PhoneStatus",
            ack: "auto",
            credit: 10,
            outputs: 2,
            wires: [["o0"], ["o1"]],
          },
          { id: "evq", type: "amqp1-events", broker: "br", address: `/queue/${q}`, routing: "single", ack: "auto", credit: 10, outputs: 1, wires: [["oq"]] },
          { id: "o0", type: "helper" },
          { id: "o1", type: "helper" },
          { id: "oq", type: "helper" },
        ] as never,
        { ...creds, direct: creds.br },
      );
      const sink = new Sink().attach("o0", "o1", "oq");
      await untilStatus("ev", (s) => s.fill === "green", "connected");
      await untilStatus("evq", (s) => s.fill === "green", "connected");
      await untilStatus("snd", (s) => s.fill === "green", "connected");
      const cutAt = Date.now();
      relay.cut();
      // Both links come back: the queue one says its unsettled messages are redelivered.
      const warns = (id: string) => calls(id, "warn").map((c) => String(c.args[0]));
      await waitOn(
        helper.getNode("evq"),
        "call:warn",
        () => warns("evq").some((w) => /re-attached; unsettled messages are redelivered/.test(w)),
        "queue re-attach warning",
      );
      await sink.until(2, "a gap message from each source");
      const gap = sink.got.find((g) => g.port !== "oq")!;
      assert.equal(gap.port, "o1", "the gap goes to the other output");
      assert.equal(gap.msg.topic, "gap");
      assert.deepEqual(Object.keys(gap.msg.payload).sort(), ["address", "channel", "filled", "reason", "since", "until"]);
      assert.equal(gap.msg.payload.channel, "amqp");
      assert.equal(gap.msg.payload.filled, false, "a temporary queue's gap is not filled");
      assert.equal(gap.msg.payload.address, `/exchange/amq.topic/${domain}.event.#`);
      const since = Date.parse(gap.msg.payload.since);
      const back = Date.parse(gap.msg.payload.until);
      assert.ok(since >= cutAt - 1000 && since <= back, `since ${gap.msg.payload.since} is the cut, before ${gap.msg.payload.until}`);
      assert.equal(typeof gap.msg.payload.reason, "string");
      assert.ok(gap.msg.payload.reason.length > 0);
      // The queue source announces its break too, filled by the broker's redelivery.
      assert.equal(sink.at("oq").length, 1, "the queue source announces its break too");
      assert.equal(sink.at("oq")[0].topic, "gap");
      assert.equal(sink.at("oq")[0].payload.filled, "redelivery");
      // Events after the re-attach flow again, and nothing else came: one gap each, no event from the queue.
      helper.getNode("snd").receive({ payload: { PhoneStatus: { Status: "after" } } });
      await sink.until(3, "an event after the gap");
      assert.deepEqual(
        sink.got.filter((g) => g.port !== "oq").map((g) => `${g.port}:${g.msg.topic}`),
        ["o1:gap", "o0:PhoneStatus"],
      );
      assert.equal(sink.at("oq").length, 1);
    } finally {
      await relay.close();
    }
  });

  it("amqp1-broker takes SASL mechanism names in any case ('PLAIN' as the IANA registry spells it)", async () => {
    await helper.load(
      NODES,
      [
        { ...broker(), sasl: "PLAIN" },
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain, wires: [] },
        { id: "br2", type: "amqp1-broker", urls: RABBIT_URL, sasl: " Anonymous " },
        { id: "br3", type: "amqp1-broker", urls: RABBIT_URL, sasl: "SCRAM-SHA-1" },
      ] as never,
      creds,
    );
    await untilStatus("snd", (s) => s.fill === "green", "connected with PLAIN");
    assert.deepEqual(errorsOf("br"), []);
    assert.deepEqual(errorsOf("br2"), []);
    // A mechanism we do not speak is still refused, by its name.
    assert.match(errorsOf("br3").join(), /unknown SASL mechanism "SCRAM-SHA-1"/);
  });

  it("shows a clear error for a bad XQuery or broker URL, without crashing", async () => {
    await helper.load(
      NODES,
      [
        { ...broker(), urls: "amqp://u:p@127.0.0.1" },
        { id: "ev", type: "amqp1-events", broker: "br", address: "x", outputs: 1, wires: [[]] },
        { id: "br2", type: "amqp1-broker", urls: RABBIT_URL },
        { id: "ev2", type: "amqp1-events", broker: "br2", address: "x", xquery: "let $x := ", outputs: 1, wires: [[]] },
      ] as never,
      creds,
    );
    assert.match(errorsOf("br").join(), /credentials/);
    // The refused URL's user:password must not be written to the log with the refusal.
    assert.doesNotMatch(errorsOf("br").join(), /u:p@/);
    assert.match(errorsOf("ev2").join(), /XQuery does not compile/);
    assert.equal(statuses("ev2").at(-1)?.fill, "red");
  });

  it("drops hostile input (bad XML, oversize, entity attacks) with one error per kind, and keeps going", async () => {
    await helper.load(
      NODES,
      [
        broker(),
        { id: "ev", type: "amqp1-events", broker: "br", address: `/exchange/amq.topic/${domain}.event.#`, maxKB: 4, outputs: 1, wires: [["out"]] },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("out");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    const raw = await rawPublisher();
    try {
      const bodies = [
        "<Event",
        "<Event",
        "y".repeat(10_000),
        `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Event xmlns="http://www.gonicus.de/Events"><A>&x;</A></Event>`,
      ];
      for (const b of bodies) raw.send({ subject: `${domain}.event.X`, body: rheaMessage.data_section(Buffer.from(b)) });
      raw.send({ subject: `${domain}.event.PhoneStatus`, body: makeEvent({ PhoneStatus: { Status: "ok" } }).xml });
      await sink.until(1);
      await untilError("ev", 3);
      const errs = errorsOf("ev");
      assert.equal(errs.length, 3, errs.join("\n"));
      assert.match(errs.join("\n"), /malformed[\s\S]*larger|exceeds/);
      assert.match(errs.join("\n"), /DOCTYPE/);
      await untilStatus("ev", (s) => /4 dropped/.test(s.text ?? ""), "drop count");
    } finally {
      raw.connection.close();
    }
  });

  it("manual settlement: amqp1-ack accepts, and a stale or forged token is a clear error", async () => {
    const q = uniq("ietest.ack.");
    queues.push(q);
    await helper.load(
      NODES,
      [
        broker(),
        { id: "ev", type: "amqp1-events", broker: "br", address: `/queue/${q}`, ack: "manual", credit: 5, outputs: 1, wires: [["ack", "out"]] },
        { id: "ack", type: "amqp1-ack", outcome: "accept", wires: [] },
        { id: "snd", type: "amqp1-send", broker: "br", address: `/amq/queue/${q}`, domain, wires: [] },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("out");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    for (let i = 0; i < 3; i++) helper.getNode("snd").receive({ payload: { NodeStatus: { Id: String(i) } } });
    await sink.until(3);
    const token = sink.at("out")[0].ack;
    assert.deepEqual(Object.keys(token).sort(), ["connection", "id", "kind", "server"]);
    await waitOn(helper.getNode("ack"), "call:status", () => statuses("ack").some((s) => /accept \(3\)/.test(s.text ?? "")), "three accepts");
    let q0 = (await listQueues()).find((x) => x.name === q);
    for (let i = 0; i < 40 && q0 && q0.messages > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      q0 = (await listQueues()).find((x) => x.name === q);
    }
    assert.equal(q0?.messages, 0, "all settled at the broker");
    // the same token again, and a forged one
    helper.getNode("ack").receive({ ack: token });
    await untilError("ack", 1);
    assert.match(errorsOf("ack")[0], /unknown or was already used/);
    helper.getNode("ack").receive({ ack: { ...token, server: "nosuchbroker" } });
    await untilError("ack", 2);
    assert.match(errorsOf("ack")[1], /no longer exists/);
    helper.getNode("ack").receive({ payload: "no token" });
    await untilError("ack", 3);
    assert.match(errorsOf("ack")[2], /not an ack token/);
  });

  it("a redeploy with messages in flight loses nothing in manual mode", async () => {
    const q = uniq("ietest.redeploy.");
    queues.push(q);
    const flow = (wires: string[]) => [
      broker(),
      { id: "ev", type: "amqp1-events", broker: "br", address: `/queue/${q}`, ack: "manual", credit: 20, outputs: 1, wires: [wires] },
      { id: "snd", type: "amqp1-send", broker: "br", address: `/amq/queue/${q}`, domain, wires: [] },
      { id: "ack", type: "amqp1-ack", outcome: "accept", wires: [] },
      { id: "out", type: "helper" },
    ];
    await helper.load(NODES, flow(["out"]), creds);
    let sink = new Sink().attach("out");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    for (let i = 0; i < 10; i++) helper.getNode("snd").receive({ payload: { NodeStatus: { Id: String(i) } } });
    await sink.until(10, "ten held deliveries");
    // Redeploy: the held deliveries were never settled; the new flow acknowledges what it gets.
    await helper.unload();
    await helper.load(NODES, flow(["out", "ack"]), creds);
    sink = new Sink().attach("out");
    await sink.until(10, "ten redeliveries");
    const ids = sink
      .at("out")
      .map((m) => m.payload.Id)
      .sort((a: string, b: string) => Number(a) - Number(b));
    assert.deepEqual(ids, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert.ok(sink.at("out").every((m) => m.amqp.redelivered === true));
  });

  it("amqp1-send validates against the schema folder and reports invalid events", async () => {
    await helper.load(
      NODES,
      [
        broker(),
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain, schemas: clacksSchemaDir(), wires: [] },
        { id: "ev", type: "amqp1-events", broker: "br", address: `/exchange/amq.topic/${domain}.event.#`, outputs: 1, wires: [["out"]] },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("out");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    const snd = helper.getNode("snd");
    snd.receive({ payload: { PhoneStatus: { CallerId: "1", ReceiverId: "2" } } });
    snd.receive({ payload: { NodeStatus: { Load: "high", Latency: 1, Workers: 2, Id: "a" } } });
    snd.receive({ payload: "<Event xmlns='http://www.gonicus.de/Events'><A/><B/></Event>" });
    snd.receive({ payload: { PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } } });
    await untilError("snd", 3);
    await sink.until(1);
    const errs = errorsOf("snd");
    assert.match(errs[0] + errs[1], /does not match the schemas/);
    assert.ok(
      errs.some((e) => /exactly one event element/.test(e)),
      errs.join("\n"),
    );
    assert.equal(sink.at("out")[0].payload.Status, "busy");
  });

  it("amqp1-events follows msg.address at run time", async () => {
    await helper.load(
      NODES,
      [
        broker(),
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain, wires: [] },
        { id: "ev", type: "amqp1-events", broker: "br", address: `/exchange/amq.topic/${domain}.event.NodeLeave`, outputs: 1, wires: [["out"]] },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const sink = new Sink().attach("out");
    await untilStatus("ev", (s) => s.fill === "green", "connected");
    helper.getNode("ev").receive({ address: `/exchange/amq.topic/${domain}.event.PhoneStatus` });
    // The new link attaches asynchronously and the node does not say when: publish until the
    // broker routes one to it (bounded; the old binding would never deliver PhoneStatus).
    const snd = helper.getNode("snd");
    for (let i = 0; i < 50 && sink.got.length === 0; i++) {
      snd.receive({ payload: { PhoneStatus: { Status: String(i) } } });
      await new Promise((r) => setTimeout(r, 40));
    }
    await sink.until(1);
    assert.equal(sink.got[0].msg.topic, "PhoneStatus");
    assert.equal(sink.got[0].msg.amqp.address, `/exchange/amq.topic/${domain}.event.PhoneStatus`);
  });

  it("twenty redeploys leak no sockets, listeners or timers", async function () {
    this.timeout(120000);
    const relay = await CuttableRelay.start();
    const count = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;
    try {
      const flow = () => [
        broker(relay.url),
        { id: "ev", type: "amqp1-events", broker: "br", address: `/exchange/amq.topic/${domain}.event.#`, outputs: 1, wires: [[]] },
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain, wires: [] },
      ];
      // One warm-up cycle so lazily created runtime resources do not count as leaks.
      await helper.load(NODES, flow(), creds);
      await untilStatus("ev", (s) => s.fill === "green", "connected");
      await helper.unload();
      const sockets0 = count("TCPSocketWrap");
      const timers0 = count("Timeout");
      for (let i = 0; i < 20; i++) {
        await helper.load(NODES, flow(), creds);
        const amqp = (helper.getNode("br") as unknown as BrokerHandle).amqp!;
        if (!amqp.connection) await once(amqp, "up");
        assert.equal(amqp.listenerCount("up"), 2, "one link per user node");
        await helper.unload();
        assert.equal(amqp.listenerCount("up"), 0, "links unhooked on close");
        assert.equal(relay.open, 0, `relay sockets after cycle ${i}`);
      }
      assert.equal(relay.accepted, 21);
      assert.ok(count("TCPSocketWrap") <= sockets0, `sockets: ${sockets0} -> ${count("TCPSocketWrap")}`);
      assert.ok(count("Timeout") <= timers0 + 1, `timers: ${timers0} -> ${count("Timeout")}`);
    } finally {
      await relay.close();
    }
  });
});
