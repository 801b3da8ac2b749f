import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import sendNode from "../../src/nodes/amqp1-send";
import { cleanupNewQueues, queueNames, RABBIT, RABBIT_URL, uniq } from "../unit/amqp/support/rabbit";

/**
 * The event bus on the real RabbitMQ (issue 16, items 2 and 3): amqp1-send in the bus format puts
 * input nodes' messages in a queue, amqp1-events restores them, and its de-duplication window
 * lets each event reach the flow once although every one was sent twice (two ingest processes).
 */
helper.init(nodeRedPath);

type Msg = Record<string, any>;
const creds = { br: { username: RABBIT.username, password: RABBIT.password } };
const broker = { id: "br", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 };

function nsoMsg(i: number): Msg {
  return {
    topic: "NOTIF_AUDIT",
    payload: { logno: i, user: "admin", usid: 59, msg: `audit ${i}` },
    nso: { type: 1, typeName: "NOTIF_AUDIT", server: "nso.example:4569" },
    eventId: `e${String(i).padStart(31, "0")}`,
    ack: { server: "x", connection: "x#1", kind: "nso-audit", id: i },
  };
}

/** Into the amqp1-send node, as a wire would hand it over. */
function send(msg: Msg): void {
  (helper.getNode("send") as unknown as { receive(m: Msg): void }).receive(msg);
}

describe("integration/bus-roundtrip (RabbitMQ)", function () {
  this.timeout(30000);
  let known: Set<string>;
  const queue = uniq("iebus");

  before(async () => {
    known = await queueNames();
    // The helper's typings say void; it returns a promise.
    await (helper.startServer() as unknown as Promise<void>);
  });
  afterEach(() => helper.unload());
  after(async () => {
    await (helper.stopServer() as unknown as Promise<void>);
    await cleanupNewQueues(known, [queue]);
  });

  it("restores every message as the input node sent it, once, though each was sent twice", async () => {
    const flow = [
      broker,
      { id: "send", type: "amqp1-send", broker: "br", address: `/queue/${queue}`, format: "bus", maxQueue: 1000, wires: [] },
      {
        id: "ev",
        type: "amqp1-events",
        broker: "br",
        address: `/queue/${queue}`,
        format: "xml-event",
        routing: "single",
        ack: "auto",
        credit: 10,
        dedupSize: 1000,
        dedupAge: 300,
        outputs: 1,
        wires: [["sink"]],
      },
      { id: "sink", type: "helper" },
    ];
    await helper.load([brokerNode, eventsNode, sendNode], flow, creds);
    const got: Msg[] = [];
    helper.getNode("sink").on("input", (m: Msg) => got.push(m));
    const N = 40;
    // Two ingest processes: every event twice, the copies interleaved as they would be on the bus.
    for (let i = 0; i < N; i++) {
      send(nsoMsg(i));
      send(nsoMsg(i));
    }
    await waitFor(`${N} events at the sink (got ${got.length})`, () => got.length >= N, 15000);
    // The status says 40 duplicates only once every copy was settled: a copy that slipped through
    // would have reached the sink by then.
    const ev = helper.getNode("ev") as unknown as { status: { getCalls(): Array<{ args: any[] }> } };
    await waitFor("the status counts the duplicates", () => ev.status.getCalls().some((c) => /40 duplicates/.test(String(c.args[0]?.text))), 15000);
    assert.equal(got.length, N, "each event once");
    const first = got.find((m) => m.payload.logno === 0)!;
    const want = nsoMsg(0);
    delete want.ack;
    assert.deepEqual({ topic: first.topic, payload: first.payload, nso: first.nso, eventId: first.eventId }, want);
    assert.equal(first.ack, undefined, "the ingest's NSO ack token never travels");
    assert.equal(first.bus.messageId, want.eventId);
    assert.equal(first.bus.properties.infra_channel, "nso");
    assert.deepEqual(new Set(got.map((m) => m.payload.logno)).size, N);
  });

  it("a copy given back is not seen: released in the flow, the event comes back to it (no loss)", async () => {
    const flow = [
      broker,
      { id: "send", type: "amqp1-send", broker: "br", address: `/queue/${queue}`, format: "bus", maxQueue: 1000, wires: [] },
      {
        id: "ev",
        type: "amqp1-events",
        broker: "br",
        address: `/queue/${queue}`,
        format: "xml-event",
        routing: "single",
        ack: "manual",
        credit: 10,
        dedupSize: 1000,
        dedupAge: 300,
        outputs: 1,
        wires: [["sink"]],
      },
      { id: "sink", type: "helper" },
    ];
    await helper.load([brokerNode, eventsNode, sendNode], flow, creds);
    const got: Msg[] = [];
    helper.getNode("sink").on("input", (m: Msg) => got.push(m));
    const settle = (m: Msg, outcome: string) =>
      (helper.getNode("br") as unknown as { amqp: { settle(t: unknown, r: { outcome: string }): string } }).amqp.settle(m.ack, { outcome });
    send(nsoMsg(7));
    send(nsoMsg(7));
    await waitFor("the first copy", () => got.length >= 1, 15000);
    // The second copy waits behind the first (same id, still in the flow): nothing more yet.
    assert.equal(got.length, 1);
    settle(got[0], "release");
    // Given back: the waiting copy goes to the flow; accepted, the released one (redelivered) is a duplicate.
    await waitFor("the waiting copy", () => got.length >= 2, 15000);
    assert.equal(got[1].eventId, got[0].eventId);
    settle(got[1], "accept");
    const ev = helper.getNode("ev") as unknown as { status: { getCalls(): Array<{ args: any[] }> } };
    await waitFor("the released copy came back as a duplicate", () => ev.status.getCalls().some((c) => /1 duplicates/.test(String(c.args[0]?.text))), 15000);
    assert.equal(got.length, 2);
  });
});
