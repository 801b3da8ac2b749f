import * as assert from "node:assert/strict";
import { once } from "node:events";
import { create_container, message as rheaMessage, Sender } from "rhea";
import { Backoff } from "../../src/core/backoff";
import { AmqpConnection, AmqpConnectionOptions } from "../../src/amqp/connection";
import { parseBrokerUrls } from "../../src/amqp/broker-url";
import { makeEvent } from "../../src/amqp/event-maker";
import { EventSender } from "../../src/amqp/sender";
import { EventSubscription, ReceivedEvent } from "../../src/amqp/subscription";
import { until } from "../unit/amqp/support/rhea-peer";
import { cleanupNewQueues, CuttableRelay, listQueues, queueNames, RABBIT, RABBIT_URL, restartBroker, uniq } from "../unit/amqp/support/rabbit";

const SEED_QUERY = `declare namespace f='http://www.gonicus.de/Events';
let $e := ./f:Event
return $e/f:PhoneStatus`;
const phone = (status: string) => makeEvent({ PhoneStatus: { CallerId: "012345", ReceiverId: "12343424", Status: status } });

async function waitFor(pred: () => Promise<boolean>, what: string, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("amqp on a real RabbitMQ 3.10 (127.0.0.1:5672)", function () {
  this.timeout(30000);
  let queuesBefore: Set<string>;
  const conns: AmqpConnection[] = [];
  const extraQueues: string[] = [];
  let domain: string;

  function connect(url = RABBIT_URL, extra: Partial<AmqpConnectionOptions> = {}): AmqpConnection {
    const c = new AmqpConnection({
      id: uniq("cfg"),
      urls: parseBrokerUrls(url),
      username: RABBIT.username,
      password: RABBIT.password,
      vhost: "/",
      backoff: new Backoff({ initialMs: 50, maxMs: 500, jitter: 0 }),
      ...extra,
    });
    conns.push(c);
    return c;
  }
  async function up(c: AmqpConnection, ...links: Array<EventSubscription | EventSender>): Promise<void> {
    for (const l of links) l.open();
    c.start();
    await Promise.all(links.filter((l) => l.state !== "attached").map((l) => until(() => l.state === "attached", 10000, "link attached")));
  }

  before(async () => {
    queuesBefore = await queueNames();
  });
  after(() => cleanupNewQueues(queuesBefore, extraQueues.splice(0)));
  beforeEach(() => {
    domain = uniq("org.ietest");
  });
  afterEach(() => Promise.all(conns.splice(0).map((c) => c.stop())));

  it("fans one event out to two receivers, each with its own copy", async () => {
    const c1 = connect();
    const c2 = connect();
    const a = new EventSubscription(c1, { address: `/exchange/amq.topic/${domain}.event.*` });
    const b = new EventSubscription(c2, { address: `/exchange/amq.topic/${domain}.event.PhoneStatus` });
    const snd = new EventSender(c1, { address: "/exchange/amq.topic" });
    await up(c1, a, snd);
    await up(c2, b);
    const ga = once(a, "event");
    const gb = once(b, "event");
    await snd.send({ ...phone("busy"), domain });
    const [[ea], [eb]] = (await Promise.all([ga, gb])) as [[ReceivedEvent], [ReceivedEvent]];
    for (const e of [ea, eb]) {
      assert.equal(e.topic, "PhoneStatus");
      assert.deepEqual(e.payload, { CallerId: "012345", ReceiverId: "12343424", Status: "busy" });
      assert.equal(e.amqp.subject, `${domain}.event.PhoneStatus`);
      assert.equal(e.amqp.properties.clacks_event, "PhoneStatus");
    }
    assert.equal(ea.amqp.messageId, eb.amqp.messageId);
  });

  it("filters with the seed's XQuery on the client, routing key on the broker", async () => {
    const c = connect();
    const seed = new EventSubscription(c, { address: `/exchange/amq.topic/${domain}.event.#`, xquery: SEED_QUERY });
    const busy = new EventSubscription(c, {
      address: `/exchange/amq.topic/${domain}.event.#`,
      xquery: `declare namespace f='http://www.gonicus.de/Events'; ./f:Event/f:PhoneStatus[f:Status='busy']`,
    });
    const snd = new EventSender(c, { address: "/exchange/amq.topic" });
    await up(c, seed, busy, snd);
    const seen: Record<string, string[]> = { seed: [], busy: [] };
    seed.on("event", (e) => seen.seed.push(`${e.topic}:${(e.payload as { Status?: string }).Status}`));
    busy.on("event", (e) => seen.busy.push(`${e.topic}:${(e.payload as { Status?: string }).Status}`));
    await snd.send({ ...phone("busy"), domain });
    await snd.send({ ...makeEvent({ NodeLeave: { Id: "agent1" } }), domain });
    await snd.send({ ...phone("idle"), domain });
    await until(() => seed.received === 3 && busy.received === 3, 10000, "all three at both");
    assert.deepEqual(seen.seed, ["PhoneStatus:busy", "PhoneStatus:idle"]);
    assert.deepEqual(seen.busy, ["PhoneStatus:busy"]);
    assert.equal(seed.filtered, 1);
    assert.equal(busy.filtered, 2);
  });

  it("drops bad XML, oversize bodies and DOCTYPE attacks, and keeps the link", async () => {
    const c = connect();
    const sub = new EventSubscription(c, { address: `/exchange/amq.topic/${domain}.event.#`, maxBytes: 4096 });
    await up(c, sub);
    const drops: string[] = [];
    const events: ReceivedEvent[] = [];
    sub.on("drop", (e) => drops.push(e.code));
    sub.on("event", (e) => events.push(e));
    const raw = await rawSender();
    const bad = [
      "<Event xmlns='http://www.gonicus.de/Events'><PhoneStatus>",
      "x".repeat(100_000),
      `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Event xmlns="http://www.gonicus.de/Events"><X>&c;</X></Event>`,
      `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Event xmlns="http://www.gonicus.de/Events"><X>&e;</X></Event>`,
      "<NotAnEvent/>",
    ];
    for (const body of bad) raw.send({ subject: `${domain}.event.Bad`, body: rheaMessage.data_section(Buffer.from(body)) });
    raw.send({ subject: `${domain}.event.PhoneStatus`, body: phone("after").xml });
    await until(() => events.length === 1, 10000, "the good event after the bad ones");
    assert.deepEqual(drops, ["xml-malformed", "xml-too-large", "xml-doctype", "xml-doctype", "not-an-event"]);
    assert.equal(sub.state, "attached");
    assert.equal(c.lifecycle.state, "connected");
    raw.connection.close();

    async function rawSender(): Promise<Sender> {
      const rc = create_container({ id: uniq("raw") }).connect({
        host: RABBIT.host,
        port: RABBIT.port,
        username: RABBIT.username,
        password: RABBIT.password,
        reconnect: false,
      });
      const s = rc.open_sender({ target: { address: "/exchange/amq.topic" } });
      await once(s, "sendable");
      return s;
    }
  });

  it("manual ack: unsettled deliveries come back after the connection is cut", async () => {
    const q = uniq("ietest.q.");
    extraQueues.push(q);
    const relay = await CuttableRelay.start();
    try {
      const c = connect(relay.url);
      // /queue/<q> declares the (non-exclusive) queue, so it outlives the connection.
      const sub = new EventSubscription(c, { address: `/queue/${q}`, ack: "manual", credit: 10 });
      await up(c, sub);
      const snd = new EventSender(connect(), { address: `/amq/queue/${q}` });
      await up(conns[conns.length - 1], snd);
      const got: ReceivedEvent[] = [];
      sub.on("event", (e) => got.push(e));
      for (const s of ["a", "b", "c"]) await snd.send({ ...phone(s), domain });
      await until(() => got.length === 3, 10000, "three held deliveries");
      assert.ok(got.every((e) => e.ack && !e.amqp.redelivered));
      c.settle(got[0].ack, { outcome: "accept" });
      // The accept is written asynchronously: wait until the broker has it, then cut.
      await waitFor(async () => (await listQueues()).find((x) => x.name === q)?.messages === 2, "the broker to take the accept");
      relay.cut();
      await until(() => got.length === 5, 15000, "two redeliveries after the cut");
      const again = got.slice(3);
      assert.deepEqual(again.map((e) => (e.payload as { Status: string }).Status).sort(), ["b", "c"]);
      assert.ok(again.every((e) => e.amqp.redelivered));
      assert.throws(() => c.settle(got[1].ack, { outcome: "accept" }), /no longer exists/);
      for (const e of again) c.settle(e.ack, { outcome: "accept" });
    } finally {
      await relay.close();
    }
  });

  it("manual ack: unsettled durable deliveries come back after a broker restart", async function () {
    this.timeout(60000);
    const q = uniq("ietest.dq.");
    extraQueues.push(q);
    const c = connect();
    const sub = new EventSubscription(c, { address: `/queue/${q}`, ack: "manual", credit: 10, durable: true });
    // The receiver declares the durable queue; the sender must not race it with a non-durable declare.
    await up(c, sub);
    const snd = new EventSender(c, { address: `/amq/queue/${q}` });
    await up(c, snd);
    const got: ReceivedEvent[] = [];
    sub.on("event", (e) => got.push(e));
    await snd.send({ ...phone("kept"), domain, durable: true });
    await until(() => got.length === 1, 10000, "held delivery");
    await restartBroker();
    await until(() => got.length === 2, 30000, "redelivery after the restart");
    assert.equal((got[1].payload as { Status: string }).Status, "kept");
    assert.equal(got[1].amqp.redelivered, true);
    assert.equal(c.settle(got[1].ack, { outcome: "accept" }), "accept");
  });

  it("release puts a message back; modified is mapped so RabbitMQ keeps the session", async () => {
    const q = uniq("ietest.r.");
    extraQueues.push(q);
    const c = connect();
    const sub = new EventSubscription(c, { address: `/queue/${q}`, ack: "manual" });
    await up(c, sub);
    const snd = new EventSender(c, { address: `/amq/queue/${q}` });
    await up(c, snd);
    const got: ReceivedEvent[] = [];
    sub.on("event", (e) => got.push(e));
    await snd.send({ ...phone("r"), domain });
    await until(() => got.length === 1, 10000, "first delivery");
    assert.equal(c.settle(got[0].ack, { outcome: "release" }), "release");
    await until(() => got.length === 2, 10000, "redelivery after release");
    assert.equal(c.settle(got[1].ack, { outcome: "modified", deliveryFailed: true }), "release");
    await until(() => got.length === 3, 10000, "redelivery after modified");
    assert.equal(sub.state, "attached", "session survived");
    assert.equal(c.settle(got[2].ack, { outcome: "reject" }), "reject");
  });

  it("sender back-pressure: thousands of sends never overflow rhea's session buffer", async () => {
    const c = connect();
    const snd = new EventSender(c, { address: "/exchange/amq.topic", maxQueue: 5000 });
    await up(c, snd);
    const ev = { ...phone("x"), domain };
    let maxQueued = 0;
    snd.on("queue", (n) => (maxQueued = Math.max(maxQueued, n)));
    const all = Array.from({ length: 5000 }, () => snd.send(ev));
    // The queue holds waiting plus unconfirmed messages: the 5001st is refused at once.
    await assert.rejects(snd.send(ev), /queue full/);
    const results = await Promise.allSettled(all);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 5000);
    assert.equal(maxQueued, 5000);
    assert.equal(snd.queued, 0);
  });
});
