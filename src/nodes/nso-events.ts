import type { Node, NodeAPI, NodeDef, NodeMessage } from "./lib/red";
import { statusTarget } from "./lib/shared-connection";
import { OutputRouter, parseKeyList } from "../core/routing";
import { connectedStatus, errorStatus, shortCount } from "../core/status";
import { NodeResources } from "../core/resources";
import { FLAG_BITS, isNotifBitName, NotifBitName, VERBOSITY } from "../nso/constants";
import type { ConsumerWish } from "../nso/mux";
import { isTuple } from "../nso/term/types";
import type nsoServer = require("./nso-server");

/**
 * nso-events: one message per NSO notification. msg.topic = the Python constant name,
 * msg.payload = the decoded notification, msg.nso = {type, typeName, server}, and on
 * blocking notifications msg.ack = a plain token for nso-ack. Routing "type" gives one
 * labelled output per selected type plus "other" (the Switch-node pattern).
 */
interface NsoEventsDef extends NodeDef {
  server: string;
  notifications: string[] | string;
  heartbeat: string | number;
  healthCheck: string | number;
  stream: string;
  startTime: string;
  stopTime: string;
  xpathFilter: string;
  usid: string | number;
  verbosity: string;
  routing: "single" | "type";
  autoAck: string | number;
}

/** The keys the outputs are routed by: selected message types, flags left out, in the editor's order. */
function routingKeys(types: readonly string[]): string[] {
  return types.filter((t) => !FLAG_BITS.includes(t as NotifBitName));
}

function num(v: string | number | undefined, dflt: number): number {
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : dflt;
}

function nsoEvents(RED: NodeAPI): void {
  function NsoEvents(this: Node, config: NsoEventsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server) as nsoServer.ServerNode | null;
    const types = parseKeyList(config.notifications);
    if (!server) {
      node.status(errorStatus("no nso-server configured"));
      node.error("nso-events: no nso-server configuration node selected");
      return;
    }
    const unknown = types.filter((t) => !isNotifBitName(t));
    if (types.length === 0 || unknown.length > 0) {
      const why = types.length === 0 ? "no notification type selected" : `unknown notification types: ${unknown.join(", ")}`;
      node.status(errorStatus(why));
      node.error(`nso-events: ${why}`);
      return;
    }
    const router = new OutputRouter(config.routing === "type" ? routingKeys(types) : [], { other: true });
    const single = config.routing !== "type";
    const autoAckSec = num(config.autoAck, 10);
    const wish: ConsumerWish = {
      types,
      heartbeatMs: num(config.heartbeat, 10) * 1000,
      healthCheckMs: num(config.healthCheck, 10) * 1000,
      verbosity: VERBOSITY[config.verbosity as keyof typeof VERBOSITY] ?? num(config.verbosity, 0),
      autoAckMs: autoAckSec * 1000,
      stream: config.stream
        ? {
            name: config.stream,
            startTime: config.startTime || undefined,
            stopTime: config.stopTime || undefined,
            xpathFilter: config.xpathFilter || undefined,
            usid: num(config.usid, 0),
          }
        : undefined,
    };
    const status = statusTarget(node);
    const res = new NodeResources();
    let count = 0;
    let connected = false;

    const user: nsoServer.User = {
      id: node.id,
      wish,
      status(s) {
        connected = s.fill === "green";
        status.status(connected && count > 0 ? connectedStatus(shortCount(count)) : s);
      },
      deliver(ev) {
        const n = ev.notification;
        const tag = isTuple(ev.raw) && typeof ev.raw.get(0) === "number" ? (ev.raw.get(0) as number) : null;
        const msg: NodeMessage & Record<string, unknown> = {
          topic: n.type,
          payload: n.payload,
          nso: { type: tag, typeName: n.type, server: server.endpoint },
        };
        if (ev.ack) msg.ack = { ...ev.ack };
        count++;
        if (connected) status.status(connectedStatus(shortCount(count)));
        if (single) node.send(msg);
        else node.send(router.route(n.type, msg) as NodeMessage[]);
      },
      dropped(err) {
        // With a message, so a Catch node sees it; the frame itself is gone (dropped and counted).
        node.error(err, { topic: "nso-dropped", payload: { code: err.code, message: err.message, details: err.details ?? null }, nso: { server: server.endpoint } } as NodeMessage);
      },
      autoAcked(typeName, why) {
        node.warn(
          why === "timeout"
            ? `auto-acked ${typeName} after ${autoAckSec} s: no nso-ack answered in time (NSO was blocked until then)`
            : `auto-acked ${typeName}: too many unanswered acks were open`,
        );
      },
      warn(text) {
        node.warn(text);
      },
    };
    server.register(user);
    res.add(() => server.deregister(user));
    node.on("close", (_removed: boolean, done: () => void) => {
      try {
        res.release();
      } finally {
        done();
      }
    });
  }
  RED.nodes.registerType("nso-events", NsoEvents as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
}

export = nsoEvents;
