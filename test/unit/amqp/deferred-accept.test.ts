import * as assert from "node:assert/strict";
import type { EventContext, Sender } from "rhea";
import { Backoff } from "../../../src/core/backoff";
import type { ProtocolError } from "../../../src/core/errors";
import { AmqpConnection } from "../../../src/amqp/connection";
import { parseBrokerUrls } from "../../../src/amqp/broker-url";
import { makeEvent } from "../../../src/amqp/event-maker";
import { EventSettler, EventSubscription, ReceivedEvent } from "../../../src/amqp/subscription";
import { RheaPeer, until } from "./support/rhea-peer";

const phoneXml = (s: string) => makeEvent({ PhoneStatus: { CallerId: s, ReceiverId: "2", Status: "busy" } }).xml;
const idOf = (e: ReceivedEvent) => (e.payload as { CallerId: string }).CallerId;

/**
 * Flow control at the subscription (issue 11): with deferAccept, an auto-mode delivery is settled
 * when the listener says the flow finished it, so the credit bounds what is unsettled; what the
 * listener still keeps when the subscription closes goes back to the broker as `released`, ahead
 * of the detach (RabbitMQ 3.10 would requeue it anyway; a broker applying another default outcome
 * must not get to accept it). Against an in-process rhea peer that records each outcome.
 */
describe("amqp subscription: deliveries the listener keeps (deferAccept, manual) against an in-process rhea peer", () => {
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

  /**
   * Subscribed to `address` on the peer; `log` gets the outcome of each delivery in order, and
   * `openAtDetach` the deliveries that had no outcome yet when the detach arrived (rhea tells
   * the peer's application of outcomes a turn later than of the detach, so the log alone cannot
   * say which came first on the wire).
   */
  async function subscribed(address: string, opts: { credit: number; ack: "auto" | "manual"; deferAccept?: boolean }) {
    conn = new AmqpConnection({ id: "cfg1", urls: parseBrokerUrls(peer.url), backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }) });
    const sub = new EventSubscription(conn, { address, ...opts });
    const events: Array<{ ev: ReceivedEvent; settler: EventSettler | undefined }> = [];
    const drops: ProtocolError[] = [];
    sub.on("event", (ev, settler) => events.push({ ev, settler }));
    sub.on("drop", (e) => drops.push(e));
    sub.open();
    conn.start();
    await until(() => peer.sendersFor(address).length === 1, 5000, "attach");
    const sender = peer.sendersFor(address)[0];
    const log: string[] = [];
    type PeerDelivery = { tag: Buffer; remote_state?: unknown };
    const tagOf = (ctx: EventContext) => String((ctx.delivery as unknown as PeerDelivery).tag);
    const ids = new Map<string, string>();
    const sent: Array<[string, PeerDelivery]> = [];
    for (const outcome of ["accepted", "released", "rejected"] as const)
      sender.on(outcome, (ctx: EventContext) => log.push(`${outcome} ${ids.get(tagOf(ctx))}`));
    let openAtDetach: string[] | undefined;
    sender.on("sender_close", () => (openAtDetach = sent.filter(([, d]) => d.remote_state === undefined).map(([id]) => id)));
    /** An event with CallerId `s`, or `s` itself as the body when it starts with "<". */
    const send = (s: string) => {
      const d = sender.send({ body: s.startsWith("<") ? s : phoneXml(s) }) as unknown as PeerDelivery;
      ids.set(String(d.tag), s);
      sent.push([s, d]);
    };
    return { c: conn, sub, events, drops, sender, log, send, detached: () => openAtDetach };
  }

  const credit = (s: Sender) => (s as unknown as { credit: number }).credit;

  it("auto with deferAccept: nothing is accepted until the listener says so, and no more than the credit is unsettled", async () => {
    const { sub, events, sender, log, send } = await subscribed("d", { credit: 3, ack: "auto", deferAccept: true });
    for (let i = 0; i < 8; i++) send(`e${i}`);
    await until(() => events.length === 3, 5000, "the first three");
    // rhea's sender keeps the rest until the receiver grants more.
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 3);
    assert.equal(credit(sender), 0);
    assert.equal(sub.inFlight, 3);
    assert.deepEqual(log, []);
    assert.ok(events.every((e) => e.settler !== undefined && e.ev.ack === undefined));
    events[0].settler!.accept();
    events[1].settler!.release();
    await until(() => events.length === 5, 5000, "two more for the two settled");
    // Accepts go out after the turn they were asked in (batched), so in any order with the rest.
    assert.deepEqual([...log].sort(), ["accepted e0", "released e1"]);
    assert.ok(sub.inFlight <= 3, `${sub.inFlight} unsettled`);
    // Settled once: a second call does nothing.
    events[0].settler!.release();
    for (const e of events.slice(2)) e.settler!.accept();
    await until(() => events.length === 8, 5000, "the rest");
    for (const e of events.slice(5)) e.settler!.accept();
    await until(() => log.length === 8, 5000, "every outcome");
    assert.deepEqual([...log].sort(), ["accepted e0", "accepted e2", "accepted e3", "accepted e4", "accepted e5", "accepted e6", "accepted e7", "released e1"]);
    assert.equal(sub.inFlight, 0);
  });

  it("auto with deferAccept: closing releases every delivery the listener still keeps, before the detach; later calls do nothing", async () => {
    const { sub, events, log, send, detached } = await subscribed("c", { credit: 5, ack: "auto", deferAccept: true });
    for (let i = 0; i < 4; i++) send(`e${i}`);
    await until(() => events.length === 4, 5000, "four kept");
    events[1].settler!.accept();
    sub.close();
    await until(() => detached() !== undefined && log.length === 4, 5000, "the detach and four outcomes");
    assert.deepEqual(detached(), [], "deliveries without an outcome when the detach came");
    assert.deepEqual(log, ["accepted e1", "released e0", "released e2", "released e3"]);
    events[2].settler!.accept();
    events[3].settler!.fail(new Error("too late"));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(log.length, 4);
  });

  it("auto without deferAccept: accepted as soon as emitted, no settler (other users of the subscription)", async () => {
    const { events, log, send } = await subscribed("p", { credit: 5, ack: "auto" });
    send("e0");
    await until(() => log.length === 1, 5000, "the outcome");
    assert.deepEqual(log, ["accepted e0"]);
    assert.equal(events[0].settler, undefined);
  });

  it("manual: closing releases every delivery amqp1-ack has not settled, before the detach; a late ack says the link is gone", async () => {
    const { c, sub, events, log, send, detached } = await subscribed("m", { credit: 5, ack: "manual" });
    for (let i = 0; i < 3; i++) send(`m${i}`);
    await until(() => events.length === 3, 5000, "three held");
    c.settle(events[0].ev.ack, { outcome: "accept" });
    sub.close();
    await until(() => detached() !== undefined && log.length === 3, 5000, "the detach and three outcomes");
    assert.deepEqual(detached(), [], "deliveries without an outcome when the detach came");
    assert.deepEqual(log, ["accepted m0", "released m1", "released m2"]);
    assert.throws(() => c.settle(events[1].ev.ack, { outcome: "accept" }), /link this message arrived on is gone/);
  });

  it("outcomes settled in one tick keep their own: a rejected bad message does not take the good one after it along (rhea merges them)", async () => {
    const { events, log, send } = await subscribed("r", { credit: 10, ack: "auto" });
    // Not XML: rejected, then the next event accepted, all within one read.
    send("<b1");
    send("g1");
    send("<b2");
    send("g2");
    send("g3");
    await until(() => log.length === 5, 5000, "five outcomes");
    assert.deepEqual(log, ["rejected <b1", "accepted g1", "rejected <b2", "accepted g2", "accepted g3"]);
    assert.deepEqual(
      events.map((e) => idOf(e.ev)),
      ["g1", "g2", "g3"],
    );
  });

  it("a settler's fail() releases the delivery as a failing listener would, and reports it", async () => {
    const { events, drops, log, send } = await subscribed("f", { credit: 2, ack: "auto", deferAccept: true });
    send("x");
    await until(() => events.length === 1, 5000, "the event");
    events[0].settler!.fail(new RangeError("Maximum call stack size exceeded"));
    await until(() => log.length === 1, 5000, "the outcome");
    assert.deepEqual(log, ["released x"]);
    assert.deepEqual(
      drops.map((d) => d.code),
      ["handler-failed"],
    );
    // Already settled: the window's later "finished" changes nothing.
    events[0].settler!.accept();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(log, ["released x"]);
    assert.equal(idOf(events[0].ev), "x");
  });
});
