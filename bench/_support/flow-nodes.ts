import type { Node, NodeAPI, NodeDef, NodeMessage } from "../../src/nodes/lib/red";
import { NodeResources } from "../../src/nodes/lib/resources";
import { SharedUse } from "../../src/nodes/lib/shared-use";
import { EventSubscription, ReceivedEvent } from "../../src/amqp";
import type { BrokerHandle } from "../../src/nodes/lib/handles";
import type { SinkProbe } from "./flow-protocol";

/**
 * Bench-only node types for bench/flow-control.ts, loaded into the cell's embedded Node-RED:
 *  - `fc-sink`: the end of the flow. Counts events by their sequence number (skips and repeats)
 *    and the gap messages that reach it, into the cell's probe.
 *  - `fc-amqp-old`: amqp1-events as it was before flow control (commit eef654f^): every delivery
 *    accepted as it arrives and sent on at once. amqp1-events has no window 0 (its credit is the
 *    window and is at least 1), so this is the AMQP "off" cell.
 */
function probe(): SinkProbe {
  const g = globalThis as { __fcProbe?: SinkProbe };
  if (!g.__fcProbe) throw new Error("the cell has no probe");
  return g.__fcProbe;
}

export = function (RED: NodeAPI) {
  function FcSink(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const p = probe();
    this.on("input", (msg: NodeMessage, _send: unknown, done: () => void) => {
      if (msg.topic === "gap") {
        const dropped = (msg.payload as { dropped?: unknown }).dropped;
        if (typeof dropped === "number") p.gapDropped += dropped;
        else p.gapOther++;
      } else {
        const seq = p.seqOf(msg);
        if (seq !== undefined) {
          p.delivered++;
          if (seq >= p.next) {
            p.missing += seq - p.next;
            p.next = seq + 1;
          } else p.duplicates++;
        }
      }
      done();
    });
  }
  RED.nodes.registerType("fc-sink", FcSink);

  function FcAmqpOld(this: Node, config: NodeDef & { broker: string; address: string; credit: number }) {
    RED.nodes.createNode(this, config);
    const node = this;
    const res = new NodeResources();
    const shared = new SharedUse(node, res);
    const broker = RED.nodes.getNode(config.broker) as unknown as BrokerHandle | null;
    if (!broker?.amqp) throw new Error("fc-amqp-old: no usable amqp1-broker");
    const sub = new EventSubscription(broker.amqp, { address: config.address, format: "xml-event", ack: "auto", credit: config.credit });
    res.on(sub, "event", (ev: ReceivedEvent) => node.send(ev as never));
    shared.join(broker, { id: node.id, status: () => undefined }, sub);
  }
  RED.nodes.registerType("fc-amqp-old", FcAmqpOld as never);
};
