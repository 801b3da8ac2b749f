import * as assert from "node:assert/strict";
import { format } from "node:util";
import type { Sender, Session } from "rhea";
import { Backoff } from "../../../src/core/backoff";
import { AmqpConnection } from "../../../src/amqp/connection";
import { parseBrokerUrls } from "../../../src/amqp/broker-url";
import { guardCredit } from "../../../src/amqp/credit-guard";
import { makeEvent } from "../../../src/amqp/event-maker";
import { EventSubscription, ReceivedEvent } from "../../../src/amqp/subscription";
import { RheaPeer, until } from "./support/rhea-peer";

// rhea keeps link credit in an untyped runtime field; a peer's sender recomputes it from each flow.
const rheaLink = (s: Sender) => s as unknown as { credit: number; delivery_count: number };
const phoneXml = (s: string) => makeEvent({ PhoneStatus: { CallerId: s, ReceiverId: "2", Status: "busy" } }).xml;

/** Lines printed with console.error while `fn` runs (passed through too, so nothing is hidden). */
async function consoleErrors<T>(fn: () => Promise<T>): Promise<{ lines: string[]; result: T }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    lines.push(format(...args));
    original(...args);
  };
  try {
    return { lines, result: await fn() };
  } finally {
    console.error = original;
  }
}

describe("amqp receiver credit (against an in-process rhea peer)", () => {
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

  /** A subscription attached to the peer, the peer's sender for it, and the flow frames the peer got since. */
  async function attached(address: string, opts: { credit: number; ack: "auto" | "manual" }) {
    conn = new AmqpConnection({ id: "cfg1", urls: parseBrokerUrls(peer.url), backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }) });
    const sub = new EventSubscription(conn, { address, ...opts });
    const events: ReceivedEvent[] = [];
    sub.on("event", (e) => events.push(e));
    sub.open();
    conn.start();
    await until(() => peer.sendersFor(address).length === 1 && rheaLink(peer.sendersFor(address)[0]).credit === opts.credit, 5000, "attach with credit");
    const sender = peer.sendersFor(address)[0];
    // [delivery_count, link_credit] of each flow frame as the receiver wrote it (what the sender
    // computes from it depends on what it sent meanwhile, and would hide when a flow was sent).
    const flows: Array<[number, number]> = [];
    type Flow = { performative: { delivery_count: number; link_credit: number } };
    const s = sender as unknown as { on_flow: (this: unknown, frame: Flow) => void };
    const onFlow = s.on_flow;
    s.on_flow = function (frame) {
      flows.push([frame.performative.delivery_count, frame.performative.link_credit]);
      onFlow.call(this, frame);
    };
    return { c: conn, sub, events, sender, flows };
  }

  /** Make the peer send `n` deliveries beyond the credit it has, as RabbitMQ 3.x's AMQP 1.0 plugin does. */
  function oversend(sender: Sender, n: number, tag: string): void {
    const extra = rheaLink(sender).credit;
    // rhea's sender writes only while it has credit: lend it what it needs for all of them.
    rheaLink(sender).credit += n;
    for (let i = 0; i < extra + n; i++) sender.send({ body: phoneXml(`${tag}${i}`) });
  }

  it("manual: deliveries beyond the credit are emitted and counted, rhea prints nothing, and the window does not grow", async () => {
    const { c, sub, events, sender, flows } = await attached("m", { credit: 2, ack: "manual" });
    const overruns: Array<{ count: number; report: boolean }> = [];
    sub.on("overrun", (o) => overruns.push(o));
    const { lines } = await consoleErrors(async () => {
      oversend(sender, 3, "o");
      await until(() => events.length === 5, 5000, "all five deliveries");
    });
    assert.deepEqual(lines, [], "rhea's 'Received transfer when credit was 0' went to the console");
    assert.deepEqual(
      events.map((e) => (e.payload as { CallerId: string }).CallerId),
      ["o0", "o1", "o2", "o3", "o4"],
    );
    assert.equal(sub.overruns, 3);
    assert.deepEqual(overruns, [
      { count: 1, report: true },
      { count: 2, report: false },
      { count: 3, report: false },
    ]);
    // Five held for a window of two: settling them all grants what is free, never one per settlement.
    for (const e of events) c.settle(e.ack, { outcome: "accept" });
    await until(() => flows.length === 1, 5000, "a flow after the settlements");
    assert.deepEqual(flows, [[5, 1]]);
  });

  it("manual: grants no credit while the link still has some (a flow then makes RabbitMQ 3.x oversend)", async () => {
    const { c, events, sender, flows } = await attached("w", { credit: 2, ack: "manual" });
    for (const s of ["a", "b"]) sender.send({ body: phoneXml(s) });
    await until(() => events.length === 2, 5000, "two held deliveries");
    c.settle(events[0].ack, { outcome: "accept" });
    await until(() => flows.length === 1, 5000, "the flow after the first settlement");
    // The second settlement a moment later, as two amqp1-acks behind one delay node do: the link
    // still has the credit just granted, so no flow ([2, 2] here is what makes RabbitMQ oversend).
    c.settle(events[1].ack, { outcome: "accept" });
    // The peer's delivery takes the link to 0, and only then is the rest granted.
    sender.send({ body: phoneXml("c") });
    await until(() => flows.length === 2, 5000, "the flow after the third delivery");
    assert.deepEqual(flows, [
      [2, 1],
      [3, 1],
    ]);
    assert.equal(events.length, 3);
  });

  it("auto: batches flows by a quarter window, and a peer sending beyond the credit never empties it", async () => {
    const { sub, events, sender, flows } = await attached("a", { credit: 8, ack: "auto" });
    const { lines } = await consoleErrors(async () => {
      for (let i = 0; i < 20; i++) sender.send({ body: phoneXml(`n${i}`) });
      await until(() => events.length === 20, 5000, "twenty deliveries within the credit");
      const left = rheaLink(sender).credit;
      oversend(sender, 3, "o");
      await until(() => events.length === 20 + left + 3, 5000, "the deliveries beyond the credit");
    });
    assert.deepEqual(lines, []);
    // Each delivery is settled, and the credit topped up, before rhea reads the next one.
    assert.equal(sub.overruns, 0);
    // Credit comes back in steps of at least a quarter window (2), and never beyond the window.
    assert.ok(flows.length > 2, JSON.stringify(flows));
    let limit = 8;
    for (const [dc, credit] of flows) {
      assert.ok(credit <= 8, `a flow grants ${credit} > 8: ${JSON.stringify(flows)}`);
      assert.ok(dc + credit - limit >= 2, `a flow adds less than a quarter window: ${JSON.stringify(flows)}`);
      limit = dc + credit;
    }
  });

  it("refuses to install on a session without the rhea internals it relies on", () => {
    const notRhea = { remote: { handles: {} } } as unknown as Session;
    const receiver = { credit: 0 } as never;
    assert.throws(() => guardCredit(notRhea, receiver, () => undefined), /rhea internals changed/);
  });
});
