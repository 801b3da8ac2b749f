import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, SendFn, DoneFn } from "./lib/red";
import { gapMessage } from "./lib/gap";
import { FlowWindow, FlowWindowStats } from "./lib/flow-window";
import { NodeResources } from "../core/resources";
import { SharedUse } from "./lib/shared-use";
import { OutputRouter, parseKeyList } from "../core/routing";
import { connectedStatus, errorStatus, NodeStatus, shortCount, StatusThrottle } from "../core/status";
import { asError } from "../core/errors";
import { AckMode, EventFormat, EventSettler, EventSubscription, ReceivedEvent, BrokerHandle, ReattachInfo } from "../amqp";
import { depthSetting } from "../amqp/xml-limits";

/**
 * amqp1-events: one message per delivery from a source address, optionally filtered by an
 * XQuery, routed to one output per event name (plus "other") like the Switch node.
 */
interface EventsDef extends NodeDef {
  broker: string;
  address: string;
  xquery?: string;
  format?: EventFormat;
  routing?: "single" | "event";
  events?: string;
  ack?: AckMode;
  credit?: string | number;
  maxKB?: string | number;
  /** Deepest XML nesting accepted (Event = level 1); flows without it get 64. */
  maxDepth?: string | number;
  /** How a queue address is declared; flows from before 0.2.0 have none: durable. */
  durability?: "durable" | "transient" | "";
  /** De-duplication window by msg.eventId (docs/scale-out.md): ids remembered, 0 = off. */
  dedupSize?: string | number;
  /** …and for how long, seconds. */
  dedupAge?: string | number;
}

/** The de-duplication settings: off unless a size from 1 is given; age 1 s to 1 day (default 300 s). */
function dedupSetting(config: EventsDef): { size: number; maxAgeMs: number } | undefined {
  const size = config.dedupSize === undefined || config.dedupSize === "" ? 0 : Number(config.dedupSize);
  if (!Number.isInteger(size) || size < 0 || size > 1_000_000)
    throw new RangeError(`de-duplication window must be 0–1000000 events, got ${String(config.dedupSize)}`);
  if (size === 0) return undefined;
  const age = config.dedupAge === undefined || config.dedupAge === "" ? 300 : Number(config.dedupAge);
  if (!(age >= 1 && age <= 86400)) throw new RangeError(`de-duplication age must be 1–86400 s, got ${String(config.dedupAge)}`);
  return { size, maxAgeMs: age * 1000 };
}

export = function (RED: NodeAPI) {
  function Amqp1Events(this: Node, config: EventsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const res = new NodeResources();
    const shared = new SharedUse(node, res);
    const throttle = new StatusThrottle((s) => node.status(s), 1000);
    res.add(() => throttle.dispose());
    let connStatus: NodeStatus | undefined;
    let linkError: string | undefined;
    let count = 0;
    let dropped = 0;
    let duplicates = 0;
    const render = () => {
      if (connStatus?.fill === "green") {
        if (linkError) return throttle.set(errorStatus(linkError));
        const parts = [`${shortCount(count)} events`];
        if (duplicates) parts.push(`${shortCount(duplicates)} duplicates`);
        if (dropped) parts.push(`${shortCount(dropped)} dropped`);
        throttle.set(connectedStatus(parts.join(", ")));
      } else if (connStatus) throttle.set(connStatus);
    };
    // Counts change per delivery, but the status shows at most one update a second: rendering
    // once per burst (rhea hands over a whole socket read synchronously) keeps string and object
    // building out of the per-message path.
    let renderQueued = false;
    let closed = false;
    res.add(() => (closed = true));
    const renderSoon = () => {
      if (renderQueued) return;
      renderQueued = true;
      queueMicrotask(() => {
        renderQueued = false;
        if (!closed) render();
      });
    };
    const user = { id: node.id, status: (s: NodeStatus) => ((connStatus = s), render()) };

    const broker = RED.nodes.getNode(config.broker) as unknown as (BrokerHandle & { type?: string }) | null;
    const router = config.routing === "event" ? new OutputRouter(parseKeyList(config.events)) : undefined;
    let sub: EventSubscription | undefined;
    try {
      if (!broker) throw new Error("no amqp1-broker configured");
      if (!broker.amqp) throw broker.configError ?? new Error("broker not usable");
      const maxKB = config.maxKB === undefined || config.maxKB === "" ? 256 : Number(config.maxKB);
      if (!(maxKB > 0 && maxKB <= 65536)) throw new RangeError(`maximum size must be 1–65536 KiB, got ${String(config.maxKB)}`);
      const durability = config.durability || "durable";
      if (durability !== "durable" && durability !== "transient")
        throw new RangeError(`queue durability must be durable or transient, got ${String(config.durability)}`);
      sub = new EventSubscription(broker.amqp, {
        address: config.address,
        xquery: config.xquery,
        format: config.format === "raw" ? "raw" : "xml-event",
        ack: config.ack === "manual" ? "manual" : "auto",
        credit: config.credit === undefined || config.credit === "" ? 100 : Number(config.credit),
        maxBytes: maxKB * 1024,
        maxDepth: depthSetting(config.maxDepth),
        durable: durability === "durable",
        dedup: dedupSetting(config),
        // Auto mode accepts a delivery when the flow finished its message (see below).
        deferAccept: true,
      });
    } catch (e) {
      const err = asError(e);
      node.error(`amqp1-events: ${err.message}`);
      node.status(errorStatus(err.message));
    }

    if (sub && broker) {
      const s = sub;
      // Flow control (issue 11). The credit is the window: the subscription holds at most
      // `credit` unsettled deliveries, and in both modes a delivery stays unsettled until the
      // flow is done with its message (auto: the window says the flow finished it, then it is
      // accepted; manual: amqp1-ack settles it). So the broker is the buffer, `credit` is the
      // most messages in memory, and what the flow has not finished when the node stops goes
      // back to the broker (the subscription releases it on close). There is no drop-oldest:
      // AMQP always holds back through credit.
      const settlers = new WeakMap<object, EventSettler>();
      // The window sends through this: a send that throws (Node-RED cannot clone a message for
      // a second wire) fails that delivery as a throwing listener did before there was a window.
      const sender = Object.create(node, {
        send: {
          value: (out: object) => {
            try {
              node.send(out as never);
            } catch (e) {
              const st = settlers.get(out);
              // A gap message has no delivery to fail; thrown here it would end Node-RED.
              if (st) st.fail(e);
              else node.error(`amqp1-events: could not send a message on: ${asError(e).message}`);
            }
          },
        },
      }) as Node;
      const win = new FlowWindow(RED, sender, { window: s.credit, mode: "hold" }, undefined, {
        writtenOff: (n) =>
          node.warn(
            `amqp1-events ${s.address}: ${n} message(s) not finished by the flow within 5 minutes; ${s.ackMode === "auto" ? "released: the broker delivers them again" : "they stay unsettled until amqp1-ack settles them"}`,
          ),
      });
      (node as Node & { flowStats?: () => FlowWindowStats }).flowStats = () => win.stats;
      res.add(() => win.close());
      // While Node-RED stops flows (a deploy, a shutdown), closing nodes complete what they still
      // hold without passing it on: the core delay node calls done() on its whole queue. Such a
      // message was not processed: it goes back to the broker instead of being accepted.
      let stopping = false;
      res.on(RED.events, "flows:stopping", () => {
        stopping = true;
        // What the flow finished before the stop is accepted while the connection is surely up.
        s.acceptNow();
      });
      res.on(RED.events, "flows:started", () => (stopping = false));
      const finished = (st: EventSettler, timedOut: boolean) => {
        // Written off (the flow never finished it): release, so the broker delivers it again
        // rather than it being accepted unprocessed.
        if (timedOut || stopping) st.release();
        else st.accept();
      };
      res.on(s, "event", (ev: ReceivedEvent, settler?: EventSettler) => {
        count++;
        // A ReceivedEvent is a fresh object per delivery with exactly the message's shape
        // ({topic, payload, xml?, amqp, ack?}): it goes out as the msg itself, no copy.
        const out = router ? router.route(ev.topic, ev) : ev;
        const accepts = s.ackMode === "auto" ? settler : undefined;
        if (!out) accepts?.accept();
        else {
          if (settler) settlers.set(out, settler);
          win.send(out as never, ev as never, accepts && { onFinished: (timedOut) => finished(accepts, timedOut) });
        }
        renderSoon();
      });
      // An XQuery that fails on an event counts as "no match" (Qpid's semantics), but a query that
      // errors must not leave an empty flow without a hint: warn once per XQuery error code
      // (the message itself quotes event values, so it differs per event).
      const filterErrors = new Set<string>();
      res.on(s, "filtered", (_name: string, err?: Error) => {
        if (!err) return;
        const code = /^[A-Z]{4}\d{4}/.exec(err.message)?.[0] ?? err.message;
        if (filterErrors.has(code) || filterErrors.size >= 20) return;
        filterErrors.add(code);
        node.warn(`XQuery failed on an event (counted as no match; further ${code} errors are not reported): ${err.message}`);
      });
      // A copy of an event the flow already finished (another ingest's, or a redelivery): settled
      // without reaching the flow, counted in the status.
      res.on(s, "duplicate", () => {
        duplicates++;
        renderSoon();
      });
      res.on(s, "drop", (err: Error, info: { first: boolean; amqp: unknown }) => {
        dropped++;
        // Reported once per reason (Catch nodes see it), counted always: a peer sending
        // garbage at line rate must not flood the log.
        if (info.first) node.error(err, { topic: "drop", payload: err.message, amqp: info.amqp });
        renderSoon();
      });
      // Nothing is lost (the delivery went out as usual), but the broker broke flow control:
      // said once in a while with this node's name, instead of rhea's bare console line.
      res.on(s, "overrun", (info: { count: number; report: boolean }) => {
        if (info.report)
          node.warn(
            `amqp1-events ${s.address}: the broker sent a delivery beyond the credit it was given (${info.count} so far; processed as usual, nothing lost)`,
          );
      });
      res.on(s, "state", (state: string, err?: Error) => {
        const failed = state === "detached" && err && broker.amqp?.connection ? `link: ${err.message}` : undefined;
        if (failed) node.warn(`amqp1-events ${s.address}: ${err!.message}`);
        // The error stays up while the link retries (a refused attach, e.g. a queue durability
        // mismatch, must not flash back to green at every attempt); attached clears it.
        if (failed || state !== "attaching") linkError = failed;
        render();
      });
      res.on(s, "reattached", (info: ReattachInfo) => {
        // Say the gap out loud. An /exchange/ or /topic/ source got a fresh temporary queue, so
        // what was published while detached is gone; a queue source kept what arrived meanwhile
        // and the broker redelivers what was unsettled, so its gap is filled by redelivery.
        if (info.cause === "transient-queue")
          node.warn(`amqp1-events ${info.address}: re-attached; if the broker restarted, the transient queue lost its events (Queue durability: transient)`);
        else if (info.missed) node.warn(`amqp1-events ${info.address}: re-attached; events published while detached were missed (temporary queue)`);
        else node.warn(`amqp1-events ${info.address}: re-attached; unsettled messages are redelivered (msg.amqp.redelivered)`);
        const gap = gapMessage(
          "amqp",
          { reason: info.reason, since: info.since, until: info.reattachedAt, filled: info.missed ? false : "redelivery" },
          { address: info.address },
          broker,
        );
        // On the only output, or the last ("other") one when routing by event name; behind the
        // events received before it.
        win.send(router ? router.at(router.lastIndex, gap) : gap, gap, { keep: true });
      });
      // Closing the link on close hands every unsettled delivery back to the broker: nothing is lost.
      shared.join(broker, user, s);
    }

    // Dynamic subscription: msg.address switches the source at run time (like mqtt-in dynamic).
    node.on("input", (msg: NodeMessageInFlow, _send: SendFn, done: DoneFn) => {
      const address = (msg as { address?: unknown }).address;
      if (!sub) return done(new Error("amqp1-events is not configured"));
      if (typeof address !== "string" || !address.trim()) return done(new Error("msg.address must be a non-empty source address"));
      try {
        sub.setAddress(address);
        done();
      } catch (e) {
        done(asError(e));
      }
    });
  }

  RED.nodes.registerType("amqp1-events", Amqp1Events as never);
};
