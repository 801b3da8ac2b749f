import * as assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { message as rheaMessage, Sender } from "rhea";
import { Backoff } from "../../../src/core/backoff";
import { AckError } from "../../../src/core/ack-registry";
import { AmqpConnection } from "../../../src/amqp/connection";
import { parseBrokerUrls } from "../../../src/amqp/broker-url";
import { makeEvent } from "../../../src/amqp/event-maker";
import { EventSender } from "../../../src/amqp/sender";
import { EventSubscription, isTransientSource, ReattachInfo, ReceivedEvent } from "../../../src/amqp/subscription";
import { RheaPeer, until } from "./support/rhea-peer";

// rhea keeps link credit in an untyped runtime field.
const credit = (s: Sender) => (s as unknown as { credit: number }).credit;
const fast = () => new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 });
const phoneXml = (s: string) => makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: s } }).xml;

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("amqp connection, links and settlement (against an in-process rhea peer)", () => {
  let peer: RheaPeer;
  let conn: AmqpConnection | undefined;
  beforeEach(async () => {
    peer = await RheaPeer.start();
  });
  afterEach(async () => {
    await conn?.stop();
    conn = undefined;
    await peer.close();
  });

  function connect(urls: string, extra: Partial<ConstructorParameters<typeof AmqpConnection>[0]> = {}): AmqpConnection {
    conn = new AmqpConnection({ id: "cfg1", urls: parseBrokerUrls(urls), backoff: fast(), ...extra });
    return conn;
  }

  it("fails over along the URL list and reports the broker", async () => {
    const dead = await closedPort();
    const c = connect(`amqp://127.0.0.1:${dead}, ${peer.url}`);
    const states: string[] = [];
    c.lifecycle.on("state", (s) => states.push(s.state));
    c.start();
    await once(c, "up");
    assert.deepEqual(states, ["connecting", "waiting-to-retry", "connecting", "connected"]);
    assert.equal(c.broker?.url, peer.url + "");
  });

  it("keeps the other links up when one attach is refused, and retries the refused one", async () => {
    peer.endSessionOn.add("bad");
    const c = connect(peer.url);
    const good = new EventSubscription(c, { address: "good" });
    const bad = new EventSubscription(c, { address: "bad" });
    good.open();
    bad.open();
    const badErrors: string[] = [];
    bad.on("state", (s, e) => e && badErrors.push(e.message));
    c.start();
    await until(() => badErrors.length >= 2, 5000, "two failed attaches of the bad link");
    assert.match(badErrors[0], /not-found/);
    assert.equal(good.state, "attached");
    assert.equal(peer.sendersFor("good").length, 1);
    // the good link still delivers
    const got = once(good, "event");
    peer.sendersFor("good")[0].send({ body: rheaMessage.data_section(Buffer.from(phoneXml("busy"))) });
    const [ev] = (await got) as [ReceivedEvent];
    assert.equal(ev.topic, "PhoneStatus");
  });

  it("re-attaches every link after the connection is cut, with its credit restored", async () => {
    const c = connect(peer.url);
    const sub = new EventSubscription(c, { address: "q", credit: 7 });
    sub.open();
    c.start();
    await until(() => peer.sendersFor("q").length === 1 && credit(peer.sendersFor("q")[0]) === 7, 5000, "credit 7");
    peer.cut();
    await once(c, "down");
    await once(c, "up");
    await until(() => peer.sendersFor("q").length === 1 && credit(peer.sendersFor("q")[0]) === 7, 5000, "credit restored");
    assert.equal(peer.connections, 2);
  });

  it("reports each re-attach after a loss once, as missed for /exchange/ and /topic/ sources only", async () => {
    const c = connect(peer.url);
    const subs = ["/exchange/amq.topic/x.event.#", "/topic/x", "/amq/queue/q1"].map((address) => new EventSubscription(c, { address, backoff: fast() }));
    const seen: ReattachInfo[] = [];
    for (const s of subs) {
      s.on("reattached", (info) => seen.push(info));
      s.open();
    }
    c.start();
    await until(() => subs.every((s) => s.state === "attached"), 5000, "attached");
    assert.equal(seen.length, 0, "the first attach is no re-attach");
    const cutAt = Date.now();
    peer.cut();
    await until(() => seen.length === 3, 5000, "three re-attaches");
    const byAddress = new Map(seen.map((i) => [i.address, i]));
    assert.equal(byAddress.get("/exchange/amq.topic/x.event.#")?.missed, true);
    assert.equal(byAddress.get("/topic/x")?.missed, true);
    assert.equal(byAddress.get("/amq/queue/q1")?.missed, false);
    for (const i of seen) {
      assert.ok(i.since >= cutAt && i.since <= i.reattachedAt, `since ${i.since} within the cut, before ${i.reattachedAt}`);
      assert.ok(i.reason.length > 0);
    }
    // A deliberate address switch is no loss: no re-attach report.
    subs[0].setAddress("/exchange/amq.topic/y.event.#");
    await until(() => peer.sendersFor("/exchange/amq.topic/y.event.#").length === 1 && subs[0].state === "attached", 5000, "switched");
    assert.equal(seen.length, 3);
    assert.equal(isTransientSource("/queue/q"), false);
  });

  it("holds manual deliveries within the credit window and returns credit on settlement", async () => {
    const c = connect(peer.url);
    const sub = new EventSubscription(c, { address: "m", credit: 2, ack: "manual" });
    const events: ReceivedEvent[] = [];
    sub.on("event", (e) => events.push(e));
    sub.open();
    c.start();
    await until(() => peer.sendersFor("m")[0] !== undefined && credit(peer.sendersFor("m")[0]) === 2, 5000, "credit");
    const s = peer.sendersFor("m")[0];
    // rhea only counts credit down when a transfer is written, so all three are queued at the peer.
    for (let i = 0; i < 3; i++) s.send({ body: phoneXml(`s${i}`) });
    await until(() => events.length === 2 && credit(s) === 0, 5000, "two events, no credit left");
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 2, "no third message while two are held");
    assert.equal(c.settle(events[0].ack, { outcome: "accept" }), "accept");
    await until(() => events.length === 3, 5000, "third event after one settlement");
    assert.equal(c.acks.size, 2);
    assert.throws(
      () => c.settle(events[0].ack, { outcome: "accept" }),
      (e: unknown) => e instanceof AckError && e.code === "ack-unknown",
    );
    assert.throws(
      () => c.settle({ nope: 1 }, { outcome: "accept" }),
      (e: unknown) => e instanceof AckError && e.code === "ack-bad-token",
    );
  });

  it("gives a clear error for a token whose connection is gone", async () => {
    const c = connect(peer.url);
    const sub = new EventSubscription(c, { address: "m", ack: "manual" });
    sub.open();
    c.start();
    await until(() => peer.sendersFor("m").length === 1, 5000, "attach");
    const got = once(sub, "event");
    peer.sendersFor("m")[0].send({ body: phoneXml("x") });
    const [ev] = (await got) as [ReceivedEvent];
    peer.cut();
    await once(c, "up");
    assert.throws(
      () => c.settle(ev.ack, { outcome: "accept" }),
      (e: unknown) => e instanceof AckError && e.code === "ack-connection-gone",
    );
  });

  it("gives a clear error for a token whose link is gone while the connection stayed", async () => {
    const c = connect(peer.url);
    const sub = new EventSubscription(c, { address: "m", ack: "manual" });
    sub.open();
    c.start();
    await until(() => peer.sendersFor("m").length === 1, 5000, "attach");
    const got = once(sub, "event");
    peer.sendersFor("m")[0].send({ body: phoneXml("x") });
    const [ev] = (await got) as [ReceivedEvent];
    sub.setAddress("other");
    assert.throws(
      () => c.settle(ev.ack, { outcome: "accept" }),
      (e: unknown) => e instanceof AckError && e.code === "ack-link-gone",
    );
  });

  it("drops, counts and rejects bad messages while the link stays up", async () => {
    const c = connect(peer.url);
    const sub = new EventSubscription(c, { address: "h", maxBytes: 1024 });
    const drops: string[] = [];
    const events: ReceivedEvent[] = [];
    sub.on("drop", (e) => drops.push(e.code));
    sub.on("event", (e) => events.push(e));
    sub.open();
    c.start();
    await until(() => peer.sendersFor("h").length === 1, 5000, "attach");
    const s = peer.sendersFor("h")[0];
    const outcomes: string[] = [];
    s.on("rejected", () => outcomes.push("rejected"));
    s.on("accepted", () => outcomes.push("accepted"));
    s.send({ body: "<Event" });
    s.send({ body: rheaMessage.data_section(Buffer.alloc(5000, 0x41)) });
    s.send({ body: `<!DOCTYPE x [<!ENTITY a "b">]><Event xmlns="http://www.gonicus.de/Events"><A>&a;</A></Event>` });
    s.send({ body: 12345 });
    s.send({ body: phoneXml("ok") });
    await until(() => outcomes.length === 5, 5000, "five outcomes");
    assert.deepEqual(drops, ["xml-malformed", "xml-too-large", "xml-doctype", "body-not-text"]);
    assert.deepEqual(outcomes, ["rejected", "rejected", "rejected", "rejected", "accepted"]);
    assert.equal(events.length, 1);
    assert.equal(sub.drops.total, 4);
    assert.equal(sub.state, "attached");
  });

  it("queues sends while disconnected, bounded, and resolves once the peer accepts", async () => {
    const c = connect(peer.url);
    const snd = new EventSender(c, { address: "/exchange/amq.topic", maxQueue: 2 });
    snd.open();
    const ev = { ...makeEvent({ NodeLeave: { Id: "a" } }), domain: "org.clacks" };
    const p1 = snd.send(ev);
    const p2 = snd.send(ev);
    await assert.rejects(snd.send(ev), /queue full/);
    assert.equal(snd.queued, 2);
    c.start();
    const [r1, r2] = await Promise.all([p1, p2]);
    assert.equal(r1.outcome, "accepted");
    assert.notEqual(r1.messageId, r2.messageId);
    assert.equal(peer.received.length, 2);
    assert.equal(peer.received[0].subject, "org.clacks.event.NodeLeave");
  });

  it("sends again what was in flight when the connection dropped (at-least-once)", async () => {
    const c = connect(peer.url);
    const snd = new EventSender(c, { address: "/exchange/amq.topic" });
    snd.open();
    c.start();
    peer.hold = true;
    const ev = { ...makeEvent({ NodeLeave: { Id: "a" } }), domain: "org.clacks" };
    const sends = [snd.send(ev), snd.send(ev)];
    await until(() => peer.received.length === 2, 5000, "two unsettled deliveries at the peer");
    assert.equal(snd.queued, 2);
    peer.hold = false;
    peer.cut();
    const results = await Promise.all(sends);
    assert.equal(peer.received.length, 4, "both sent again after the reconnect");
    assert.deepEqual(
      results.map((r) => r.outcome),
      ["accepted", "accepted"],
    );
    assert.equal(snd.queued, 0);
  });

  it("reports a refused target as a send error", async () => {
    peer.refuse.add("nowhere");
    const c = connect(peer.url);
    const snd = new EventSender(c, { address: "nowhere" });
    const errs: string[] = [];
    snd.on("state", (_s, e) => e && errs.push(e.message));
    snd.open();
    c.start();
    await until(() => errs.length > 0, 5000, "attach refusal");
    assert.match(errs[0], /not-found/);
    snd.close();
  });

  it("closes its socket on stop", async () => {
    const c = connect(peer.url);
    c.start();
    await once(c, "up");
    assert.equal(peer.sockets.size, 1);
    await c.stop();
    await until(() => peer.sockets.size === 0, 3000, "socket closed");
  });

  it("fails the attempt on SASL rejection and says why", async () => {
    await peer.close();
    peer = await RheaPeer.start({ users: { guest: "guest" } });
    const c = connect(peer.url, { username: "guest", password: "wrong" });
    c.start();
    const [change] = await once(c.lifecycle, "state").then(async function next(v): Promise<unknown[]> {
      const s = v[0] as { state: string };
      return s.state === "waiting-to-retry" ? v : next(await once(c.lifecycle, "state"));
    });
    assert.match((change as { reason: Error }).reason.message, /unauthorized|auth/i);
  });
});
