import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import { create_container, Sender } from "rhea";
import { Backoff } from "../../src/core/backoff";
import type { ProtocolError } from "../../src/core/errors";
import { AmqpConnection } from "../../src/amqp/connection";
import { parseBrokerUrls } from "../../src/amqp/broker-url";
import { makeEvent } from "../../src/amqp/event-maker";
import { CLACKS_NS } from "../../src/amqp/xml-event";
import { EventSubscription, ReceivedEvent } from "../../src/amqp/subscription";
import { until } from "../unit/amqp/support/rhea-peer";
import { deleteQueues, listQueues, RABBIT, RABBIT_URL, uniq } from "../unit/amqp/support/rabbit";

const run = promisify(execFile);
const ctl = (...args: string[]) => run("rabbitmqctl", ["-q", ...args], { timeout: 30000 });

/** The event that crashed Node-RED's clone and looped: 21 KB, nested 3,000 deep. */
const deepEvent = (): string => `<Event xmlns="${CLACKS_NS}"><Deep>${"<a>".repeat(3000)}x${"</a>".repeat(3000)}</Deep></Event>`;

async function messagesIn(queue: string): Promise<number> {
  return (await listQueues()).find((q) => q.name === queue)?.messages ?? -1;
}

async function waitForMessages(queue: string, n: number): Promise<void> {
  const end = Date.now() + 15000;
  while (Date.now() < end) {
    if ((await messagesIn(queue)) === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${n} messages in ${queue} (has ${await messagesIn(queue)})`);
}

describe("amqp: hostile events are rejected once, never redelivered in a loop (real RabbitMQ 3.10)", function () {
  this.timeout(60000);
  const conns: AmqpConnection[] = [];
  const created: string[] = [];
  let queue: string;
  let dlq: string;
  let policy: string;
  let publisher: Sender;
  let pubConn: ReturnType<ReturnType<typeof create_container>["connect"]>;

  function connect(): AmqpConnection {
    const c = new AmqpConnection({
      id: uniq("cfg"),
      urls: parseBrokerUrls(RABBIT_URL),
      username: RABBIT.username,
      password: RABBIT.password,
      vhost: "/",
      backoff: new Backoff({ initialMs: 50, maxMs: 500, jitter: 0 }),
    });
    conns.push(c);
    return c;
  }

  async function subscribe(opts: Partial<ConstructorParameters<typeof EventSubscription>[1]> = {}) {
    const c = connect();
    const sub = new EventSubscription(c, { address: `/queue/${queue}`, ...opts });
    const drops: ProtocolError[] = [];
    const events: ReceivedEvent[] = [];
    sub.on("drop", (e) => drops.push(e));
    sub.on("event", (e) => events.push(e));
    sub.open();
    c.start();
    await until(() => sub.state === "attached", 10000, "subscription attached");
    // The subscription declared the queue (durable, as amqp1-events does): publish into it.
    publisher = pubConn.open_sender({ target: { address: `/amq/queue/${queue}` } });
    await once(publisher, "sendable");
    return { sub, drops, events };
  }

  function publish(body: string, id: string): void {
    publisher.send({ message_id: id, subject: "org.ietest.event.X", body });
  }

  beforeEach(async () => {
    queue = uniq("ietest-hostile");
    dlq = `${queue}-dlq`;
    policy = `${queue}-dlx`;
    created.push(queue, dlq);
    // Dead-lettering as an operator sets it up: a policy on the queue, a queue behind it.
    await ctl("set_policy", "--apply-to", "queues", policy, `^${queue}$`, JSON.stringify({ "dead-letter-exchange": "", "dead-letter-routing-key": dlq }));
    pubConn = create_container({ id: uniq("pub") }).connect({
      host: RABBIT.host,
      port: RABBIT.port,
      username: RABBIT.username,
      password: RABBIT.password,
      reconnect: false,
    });
    await once(pubConn.open_sender({ target: { address: `/queue/${dlq}` } }), "sendable");
  });

  afterEach(async () => {
    await Promise.all(conns.splice(0).map((c) => c.stop()));
    pubConn.close();
    await ctl("clear_policy", policy);
    await deleteQueues(created.splice(0));
  });

  it("the 3,000-deep event is rejected once as too deep (dead-lettered), the link stays up", async () => {
    const { sub, drops, events } = await subscribe();
    publish(deepEvent(), "deep-1");
    publish(makeEvent({ PhoneStatus: { Status: "busy" } }).xml, "ok-1");
    await until(() => events.length === 1, 10000, "the event after the deep one");
    await waitForMessages(dlq, 1);
    assert.deepEqual(
      drops.map((d) => d.code),
      ["xml-too-deep"],
    );
    assert.equal(sub.received, 2, "the deep event was delivered once, not redelivered");
    assert.equal(events[0].topic, "PhoneStatus");
    assert.equal(await messagesIn(queue), 0);
    assert.equal(sub.state, "attached");
  });

  for (const ack of ["auto", "manual"] as const) {
    it(`${ack} mode: a message the flow always fails on is released twice, then rejected (dead-lettered) and reported`, async () => {
      const { sub, drops, events } = await subscribe({ ack });
      let poisonSeen = 0;
      sub.on("event", (e: ReceivedEvent) => {
        if (e.topic !== "Poison") return;
        poisonSeen++;
        throw new RangeError("Maximum call stack size exceeded");
      });
      publish(makeEvent({ Poison: { N: "1" } }).xml, "poison-1");
      await waitForMessages(dlq, 1);
      assert.equal(poisonSeen, 3);
      assert.deepEqual(
        drops.map((d) => d.code),
        ["handler-failed", "handler-failed", "handler-failed-repeatedly"],
      );
      assert.match(drops[2].message, /failed 3 times, message rejected: Maximum call stack/);
      // Still attached and delivering.
      publish(makeEvent({ PhoneStatus: { Status: "idle" } }).xml, "ok-2");
      await until(() => events.some((e) => e.topic === "PhoneStatus"), 10000, "the next event");
      assert.equal(sub.state, "attached");
      assert.equal(sub.received, 4);
      assert.equal(await messagesIn(queue), ack === "manual" ? 1 : 0); // manual: the good one waits for its ack
    });
  }
});
