import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import type { Node, NodeAPI, NodeDef } from "node-red";
import { startServer, stopServer } from "../support/test-server";
import { nodeRedPath } from "../support/node-red-path";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import sendNode from "../../src/nodes/amqp1-send";
import ackNode from "../../src/nodes/amqp1-ack";
import { cleanupNewQueues, queueNames, RABBIT, RABBIT_URL, uniq } from "../unit/amqp/support/rabbit";
import { waitFor } from "../support/wait";
import { cardOf, countByTopic, healthProbe } from "../support/health-cards";

/**
 * The health card of a real amqp1-broker against the machine's RabbitMQ (docs/health.md, "A
 * card"): its links, the receiver with its credit and its backlog of deliveries not settled yet
 * (they move as amqp1-ack settles them), the sender with what waits to go out, and the events by
 * name as the flow received them. One queue of its own per run.
 */
helper.init(nodeRedPath);

type Msg = { topic: string; payload: unknown; ack: unknown };
type Link = { kind: string; address: string; state: string; credit?: number; backlog: number | null; received?: number; maxQueue?: number };
/**
 * A flow step that holds every message unfinished until the test calls its done(). The helper's
 * mock runtime has no messaging hooks, without which no window sees a message finish (see
 * completion-tracker.ts): this lends it the runtime's own, which the routing runs.
 */
const held: Array<{ msg: Msg; done: () => void }> = [];
function holderNode(RED: NodeAPI): void {
  (RED as unknown as { hooks?: unknown }).hooks ??= (helper as unknown as { _RED: { hooks: unknown } })._RED.hooks;
  RED.nodes.registerType("holder", function (this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.on("input", (msg: object, _send: unknown, done: () => void) => held.push({ msg: msg as Msg, done }));
  });
}
const NODES = [brokerNode, eventsNode, sendNode, ackNode, healthProbe, holderNode];
const creds = { br: { username: RABBIT.username, password: RABBIT.password } };
const CREDIT = 4;
const SENT = 6;

describe("health view: an amqp1-broker's card against RabbitMQ", function () {
  this.timeout(30000);
  let queuesBefore: Set<string>;
  const queues: string[] = [];
  before(async () => {
    queuesBefore = await queueNames();
    await startServer();
  });
  after(async () => {
    await stopServer();
    await cleanupNewQueues(queuesBefore, queues.splice(0));
  });
  afterEach(async () => {
    await helper.unload();
    held.length = 0;
  });
  const links = (): Link[] => cardOf("br").details.subscriptions as Link[];
  const receiver = (): Link => links().find((l) => l.kind === "receiver")!;
  const sender = (): Link => links().find((l) => l.kind === "sender")!;

  it("shows the receiver's credit and backlog, the sender, and the events by name; the backlog moves as amqp1-ack settles", async () => {
    const q = uniq("ietest.health.");
    queues.push(q);
    await helper.load(
      NODES,
      [
        { id: "br", type: "amqp1-broker", name: "rabbit", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 },
        { id: "ev", type: "amqp1-events", broker: "br", address: `/queue/${q}`, ack: "manual", credit: CREDIT, outputs: 1, wires: [["out"]] },
        { id: "snd", type: "amqp1-send", broker: "br", address: `/amq/queue/${q}`, domain: "org.ietest", wires: [] },
        { id: "ack", type: "amqp1-ack", outcome: "accept", wires: [] },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const got: Msg[] = [];
    helper.getNode("out").on("input", (m: unknown) => got.push(m as Msg));
    for (let i = 0; i < SENT; i++) {
      helper.getNode("snd").receive({ payload: i % 3 === 2 ? { NodeLeave: { Id: `n${i}` } } : { NodeStatus: { Id: `n${i}` } } });
    }
    // The receiver holds at most CREDIT unsettled deliveries: the rest wait in the queue.
    await waitFor("a full window", () => got.length === CREDIT, 10000);
    // Everything sent has left the sender once the broker confirmed it.
    await waitFor("the sender's queue empty", () => sender().backlog === 0, 10000);

    let c = cardOf("br");
    assert.equal(c.channel, "amqp");
    assert.equal(c.name, "rabbit");
    assert.equal(c.state, "connected");
    assert.equal(c.peer, RABBIT_URL);
    assert.match(String(c.details.broker), /RabbitMQ/);
    assert.equal(links().length, 2);
    assert.deepEqual(receiver(), {
      kind: "receiver",
      address: `/queue/${q}`,
      state: "attached",
      credit: CREDIT,
      backlog: CREDIT,
      received: CREDIT,
      filtered: 0,
      overruns: 0,
    });
    assert.deepEqual(sender(), { kind: "sender", address: `/amq/queue/${q}`, state: "attached", backlog: 0, maxQueue: 1000 });
    assert.deepEqual(countByTopic(got), { NodeStatus: 3, NodeLeave: 1 });
    assert.deepEqual(c.events, { total: CREDIT, byType: countByTopic(got) });
    // The node's window is the credit. The flow (a sink) has finished the messages: they are
    // not in flight, only unsettled, waiting for amqp1-ack (the receiver's backlog above).
    assert.deepEqual(
      c.flow.map((f) => [f.id, f.window, f.inFlight]),
      [
        ["ev", CREDIT, 0],
        ["snd", undefined, undefined],
      ],
    );
    assert.equal(c.inFlight, 0);

    // Settling two frees two credits: the last two deliveries come, and the backlog is full again.
    for (const m of got.slice(0, 2)) helper.getNode("ack").receive({ ack: m.ack });
    await waitFor("the last two events", () => got.length === SENT, 10000);
    assert.equal(receiver().received, SENT);
    assert.equal(receiver().backlog, CREDIT);
    c = cardOf("br");
    assert.deepEqual(countByTopic(got), { NodeStatus: 4, NodeLeave: 2 });
    assert.deepEqual(c.events, { total: SENT, byType: countByTopic(got) });

    // Settling the rest empties it.
    for (const m of got.slice(2)) helper.getNode("ack").receive({ ack: m.ack });
    await waitFor("every delivery settled", () => receiver().backlog === 0, 10000);
    assert.equal(receiver().received, SENT);
    assert.equal(receiver().credit, CREDIT);
    assert.equal(cardOf("br").events.total, SENT);
  });

  it("auto-ack: messages the flow has not finished are in flight on the card and in the receiver's backlog until it finishes them", async () => {
    const q = uniq("ietest.health.");
    queues.push(q);
    await helper.load(
      NODES,
      [
        { id: "br", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 },
        { id: "ev", type: "amqp1-events", broker: "br", address: `/queue/${q}`, ack: "auto", credit: CREDIT, outputs: 1, wires: [["hold"]] },
        { id: "snd", type: "amqp1-send", broker: "br", address: `/amq/queue/${q}`, domain: "org.ietest", wires: [] },
        { id: "hold", type: "holder" },
      ] as never,
      creds,
    );
    for (let i = 0; i < SENT; i++) helper.getNode("snd").receive({ payload: { NodeStatus: { Id: `n${i}` } } });
    await waitFor("a full window", () => held.length === CREDIT, 10000);
    let c = cardOf("br");
    assert.equal(receiver().backlog, CREDIT);
    // In flight: sent, not finished by the flow. Nothing waits at the node: AMQP holds back
    // through credit, the rest waits in the queue.
    assert.deepEqual(
      c.flow.filter((f) => f.id === "ev").map((f) => [f.window, f.inFlight, f.queued]),
      [[CREDIT, CREDIT, 0]],
    );
    assert.equal(c.inFlight, CREDIT);
    assert.deepEqual(c.events, { total: CREDIT, byType: { NodeStatus: CREDIT } });

    // The flow finishes three: they are accepted, their credit brings the last two.
    for (const h of held.slice(0, 3)) h.done();
    await waitFor("the last two events", () => held.length === SENT, 10000);
    await waitFor("three settled", () => receiver().backlog === 3, 10000);
    c = cardOf("br");
    assert.equal(c.inFlight, 3);
    assert.equal(receiver().received, SENT);
    assert.deepEqual(c.events, { total: SENT, byType: { NodeStatus: SENT } });

    for (const h of held.slice(3)) h.done();
    await waitFor("every delivery settled", () => receiver().backlog === 0, 10000);
    assert.equal(cardOf("br").inFlight, 0);
  });
});
