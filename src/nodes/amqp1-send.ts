import type { BrokerHandle } from "./lib/handles";
import { numberSetting } from "./lib/settings";
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, SendFn, DoneFn } from "./lib/red";
import { NodeResources } from "./lib/resources";
import { SharedUse } from "./lib/shared-use";
import { connectedStatus, errorStatus, NodeStatus, shortCount, StatusThrottle } from "./lib/status";
import { asError, InfraError } from "../core/errors";
import { CLACKS_NS, EventSender, makeEvent, SchemaValidator, toBusEvent } from "../amqp";

/**
 * amqp1-send (the EventMaker): builds a Clacks event from msg.payload (an object like
 * {PhoneStatus: {...}} or an XML string), optionally validates it against a folder of XSDs,
 * sends it with subject `<domain>.event.<Name>` and calls done() once the broker accepted it.
 */
interface SendDef extends NodeDef {
  broker: string;
  address?: string;
  namespace?: string;
  domain?: string;
  schemas?: string;
  durable?: boolean;
  maxQueue?: string | number;
  /** "clacks" (default): the EventMaker's XML; "bus": any input node's message as a JSON bus event (docs/scale-out.md). */
  format?: "clacks" | "bus";
}

export = function (RED: NodeAPI) {
  function Amqp1Send(this: Node, config: SendDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const res = new NodeResources();
    const shared = new SharedUse(node, res);
    const throttle = new StatusThrottle((s) => node.status(s), 1000);
    res.add(() => throttle.dispose());
    const namespace = config.namespace?.trim() || CLACKS_NS;
    const domain = config.domain?.trim() || "org.clacks";
    const validator = config.schemas?.trim() ? new SchemaValidator(config.schemas.trim(), namespace) : undefined;
    // Its compiled schemas live in WASM memory, which no GC frees: released with the node.
    if (validator) res.add(() => validator.close());
    let connStatus: NodeStatus | undefined;
    let sent = 0;
    let queued = 0;
    const render = () => {
      if (connStatus?.fill === "green") {
        throttle.set(queued > 0 ? { fill: "yellow", shape: "dot", text: `${shortCount(queued)} queued` } : connectedStatus(`${shortCount(sent)} sent`));
      } else if (connStatus) {
        throttle.set(queued > 0 ? { ...connStatus, text: `${connStatus.text ?? ""} (${shortCount(queued)} queued)` } : connStatus);
      }
    };
    const user = { id: node.id, status: (s: NodeStatus) => ((connStatus = s), render()) };

    const broker = RED.nodes.getNode(config.broker) as unknown as (BrokerHandle & { type?: string }) | null;
    let sender: EventSender | undefined;
    let configError: Error | undefined;
    try {
      if (!broker) throw new Error("no amqp1-broker configured");
      if (!broker.amqp) throw broker.configError ?? new Error("broker not usable");
      const maxQueue = numberSetting(config.maxQueue, { name: "queue limit", default: 1000, min: 1, max: 1_000_000, integer: true, unit: "events" });
      sender = new EventSender(broker.amqp, { address: config.address?.trim() || "/exchange/amq.topic", maxQueue });
    } catch (e) {
      configError = asError(e);
      node.error(`amqp1-send: ${configError.message}`);
      node.status(errorStatus(configError.message));
    }
    if (sender && broker) {
      const s = sender;
      res.on(s, "queue", (n: number) => {
        queued = n;
        render();
      });
      // Closing the sender on close fails messages still waiting (done(err)), not silently dropped.
      shared.join(broker, user, s);
    }

    node.on("input", (msg: NodeMessageInFlow, _send: SendFn, done: DoneFn) => {
      if (!sender) return done(configError ?? new Error("amqp1-send is not configured"));
      const s = sender;
      if (config.format === "bus") {
        // Any input node's message, as it is: no XML, no schemas; message-id = msg.eventId.
        let bus;
        try {
          bus = toBusEvent(msg);
        } catch (e) {
          return done(asError(e));
        }
        s.send({ xml: "", name: bus.type, domain, durable: true, bus }).then(
          (r) => {
            sent++;
            render();
            (msg as Record<string, unknown>).bus = { messageId: r.messageId, subject: bus.subject, address: s.address, outcome: r.outcome };
            done();
          },
          (e: unknown) => done(asError(e)),
        );
        return;
      }
      void (async () => {
        const ev = makeEvent(msg.payload, { namespace });
        if (validator) {
          const v = await validator.validate(ev.xml);
          if (!v.valid)
            throw new InfraError("event-invalid", `event ${ev.name} does not match the schemas: ${v.errors.slice(0, 3).join("; ")}`, { errors: v.errors });
        }
        const r = await s.send({ xml: ev.xml, name: ev.name, domain, durable: config.durable === true });
        sent++;
        render();
        (msg as Record<string, unknown>).amqp = { messageId: r.messageId, subject: `${domain}.event.${ev.name}`, address: s.address, outcome: r.outcome };
      })().then(
        () => done(),
        (e: unknown) => done(asError(e)),
      );
    });
  }

  RED.nodes.registerType("amqp1-send", Amqp1Send as never);
};
