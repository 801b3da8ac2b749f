import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { waitFor, waitOn } from "../support/wait";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import sendNode from "../../src/nodes/amqp1-send";
import { QueuePeer } from "../unit/amqp/support/queue-peer";

/**
 * Queue durability as the nodes ask for it (issue 10, item 4), against an in-process peer that
 * declares `/queue/<q>` like RabbitMQ 3.10 (the real broker: test/integration/amqp-durable-queues.test.ts).
 */
helper.init(nodeRedPath);

type Call = { args: any[]; thisValue: unknown };
type Status = { fill?: string; text?: string };
const NODES = [brokerNode, eventsNode, sendNode];

function calls(id: string, fn: "status" | "warn"): Call[] {
  const n = helper.getNode(id);
  return (n as unknown as Record<string, { getCalls(): Call[] }>)[fn].getCalls().filter((c) => c.thisValue === n);
}
const statuses = (id: string): Status[] => calls(id, "status").map((c) => c.args[0] ?? {});
const warnings = (id: string): string[] => calls(id, "warn").map((c) => String(c.args[0]));

const broker = (url: string) => ({ id: "br", type: "amqp1-broker", urls: url, vhost: "", sasl: "none", tls: "", containerId: "", idleTimeout: 60 });
const events = (id: string, address: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "amqp1-events",
  broker: "br",
  address,
  format: "xml-event",
  routing: "single",
  events: "",
  ack: "auto",
  credit: 10,
  outputs: 1,
  wires: [["out"]],
  ...extra,
});
const send = (id: string, address: string, durable: boolean) => ({
  id,
  type: "amqp1-send",
  broker: "br",
  address,
  domain: "org.ietest",
  namespace: "",
  schemas: "",
  durable,
  wires: [],
});

class Sink extends EventEmitter {
  readonly got: any[] = [];
  attach(id: string): this {
    helper.getNode(id).on("input", (m: unknown) => {
      this.got.push(m);
      this.emit("msg");
    });
    return this;
  }
}

describe("amqp1 queue durability (in-process peer)", function () {
  this.timeout(20000);
  let peer: QueuePeer;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    peer = await QueuePeer.start();
  });
  afterEach(async () => {
    await helper.unload();
    await peer.close();
  });

  it("asks for a durable source for queue addresses unless set to transient, never for /exchange/ and /topic/; a transient queue's gap is not filled", async () => {
    const sources: Record<string, [string, Record<string, unknown>?]> = {
      q: ["/queue/q"],
      t: ["/queue/t", { durability: "transient" }],
      amq: ["/amq/queue/amq"],
      bare: ["bare"],
      ex: ["/exchange/amq.topic/org.ietest.event.#"],
      topic: ["/topic/org.ietest.event.#"],
      other: ["topic://org.ietest"],
    };
    await helper.load(NODES, [
      broker(peer.url),
      ...Object.entries(sources).map(([id, [a, x]]) => events(`ev-${id}`, a, x)),
      { id: "out", type: "helper" },
    ] as never);
    const sink = new Sink().attach("out");
    await waitFor("seven attaches", () => peer.seen.length === 7, 8000);
    const asked = Object.fromEntries(peer.seen.map((s) => [s.address, `${s.durable}/${s.expiry_policy ?? "-"}`]));
    assert.deepEqual(asked, {
      "/queue/q": "2/never",
      "/queue/t": "0/-",
      "/amq/queue/amq": "2/never",
      bare: "2/never",
      "/exchange/amq.topic/org.ietest.event.#": "0/-",
      "/topic/org.ietest.event.#": "0/-",
      "topic://org.ietest": "0/-",
    });
    assert.deepEqual(
      [...peer.queues],
      [
        ["q", true],
        ["t", false],
      ],
    );
    // After a cut, only what the broker keeps across a restart counts as filled by redelivery.
    peer.cut();
    await waitOn(sink, "msg", () => sink.got.length === 7, "seven gap messages", 10000);
    const filled = Object.fromEntries(sink.got.map((m) => [m.payload.address, m.payload.filled]));
    assert.deepEqual(filled, {
      "/queue/q": "redelivery",
      "/queue/t": false,
      "/amq/queue/amq": "redelivery",
      bare: "redelivery",
      "/exchange/amq.topic/org.ietest.event.#": false,
      "/topic/org.ietest.event.#": false,
      // Another broker's form: what its node keeps is not known here (left as it was, not asserted).
      "topic://org.ietest": filled["topic://org.ietest"],
    });
    assert.ok(
      warnings("ev-t").some((w) => /transient queue lost its events/.test(w)),
      warnings("ev-t").join("\n"),
    );
  });

  it("an old transient queue: the warning says what to do, and the status stays red while the attach is retried", async () => {
    peer.queues.set("old", false);
    // The broker takes a while to refuse: longer than the status throttle's second.
    peer.refuseDelayMs = 1500;
    await helper.load(NODES, [broker(peer.url), events("ev", "/queue/old"), { id: "out", type: "helper" }] as never);
    await waitOn(helper.getNode("ev"), "call:warn", () => warnings("ev").length >= 2, "two refused attaches", 15000);
    const w = warnings("ev")[0];
    assert.match(w, /queue 'old' is transient .* declared durable here \(Queue durability: durable, the default\)/);
    assert.ok(w.includes("rabbitmqctl delete_queue old"), w);
    assert.ok(w.includes("/amq/queue/old"), w);
    assert.ok(w.includes("set Queue durability to transient"), w);
    const st = statuses("ev");
    const firstRed = st.findIndex((s) => s.fill === "red");
    assert.ok(firstRed >= 0, JSON.stringify(st));
    assert.match(st[firstRed].text ?? "", /^link: queue 'old' is transient/);
    assert.deepEqual(
      st.slice(firstRed).filter((s) => s.fill !== "red"),
      [],
      `red from the first refusal on: ${JSON.stringify(st)}`,
    );
  });

  it("amqp1-send declares a queue target durable and sends durable messages to it even with Durable unticked; to an exchange it follows the setting", async () => {
    await helper.load(NODES, [
      broker(peer.url),
      send("sq", "/queue/s", false),
      send("sx", "/exchange/amq.topic", false),
      send("sd", "/exchange/amq.topic", true),
    ] as never);
    await waitFor("three sender attaches", () => peer.seen.length === 3, 8000);
    for (const id of ["sq", "sx", "sd"]) helper.getNode(id).receive({ payload: { NodeStatus: { Id: id } } });
    await waitFor("three messages", () => peer.messages.length === 3, 8000);
    assert.deepEqual(Object.fromEntries(peer.seen.map((s) => [`${s.role} ${s.address}`, s.durable])), {
      "target /queue/s": 2,
      "target /exchange/amq.topic": 0,
    });
    const durable = peer.messages.map((m) => `${m.address}:${m.durable}:${/Id>(\w+)</.exec(String((m.body as { content: Buffer }).content))?.[1]}`).sort();
    assert.deepEqual(durable, ["/exchange/amq.topic:false:sx", "/exchange/amq.topic:true:sd", "/queue/s:true:sq"]);
  });

  it("amqp1-send to an old transient queue sends to it as it is", async () => {
    peer.queues.set("oldq", false);
    await helper.load(NODES, [broker(peer.url), send("snd", "/queue/oldq", false)] as never);
    helper.getNode("snd").receive({ payload: { NodeStatus: { Id: "x" } } });
    await waitFor("the message in the old queue", () => peer.messages.length === 1, 10000);
    assert.deepEqual(
      peer.seen.map((s) => s.durable),
      [2, 0],
      "durable first, then as the queue is",
    );
    assert.equal(peer.queues.get("oldq"), false);
  });
});
