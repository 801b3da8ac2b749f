import type { BrokerHandle } from "./lib/handles";
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, SendFn, DoneFn } from "./lib/red";
import { isGapNotice } from "./lib/gap";
import { AckError, checkToken } from "../core/ack-registry";
import { asError } from "../core/errors";
import { StatusThrottle } from "./lib/status";
import { DELIVERY_KIND, Outcome, parseOutcome } from "../amqp";

/**
 * amqp1-ack: settles the delivery behind msg.ack (a plain token from an amqp1-events node in
 * manual mode) with accept, reject, release or modified. The token names its broker config
 * node, which holds the live delivery; a token whose connection or link is gone (a reconnect, a
 * redeploy), that was never issued, or that is not an AMQP delivery token is an error (done(err),
 * which is Node-RED's node.error(err, msg): a Catch node gets the message), never a success.
 */
interface AckDef extends NodeDef {
  outcome?: Outcome | "msg";
  deliveryFailed?: boolean;
  undeliverableHere?: boolean;
}

export = function (RED: NodeAPI) {
  function Amqp1Ack(this: Node, config: AckDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settled = 0;
    // One status update a second at most: in manual mode this node settles every delivery,
    // and a status per message would be pushed to every open editor (as nso-ack does).
    const status = new StatusThrottle((s) => node.status(s), 1000);
    node.on("close", () => status.dispose());
    const configured = config.outcome && config.outcome !== "msg" ? config.outcome : undefined;
    node.on("input", (msg: NodeMessageInFlow, _send: SendFn, done: DoneFn) => {
      if (isGapNotice(msg)) return done();
      try {
        const m = msg as Record<string, unknown>;
        const token = checkToken(m.ack);
        if (token.kind !== DELIVERY_KIND) {
          const hint =
            token.kind === "diff" || token.kind === "audit" || token.kind === "audit_network" || token.kind === "ha"
              ? ": it comes from nso-events, answer it with nso-ack"
              : "";
          throw new AckError("ack-wrong-kind", `msg.ack is a ${token.kind} token${hint}; amqp1-ack settles AMQP deliveries (${DELIVERY_KIND})`);
        }
        const outcome = m.outcome !== undefined && (config.outcome === "msg" || !configured) ? parseOutcome(m.outcome) : (configured ?? "accept");
        const broker = RED.nodes.getNode(token.server) as unknown as (BrokerHandle & { type?: string }) | null;
        if (!broker)
          throw new AckError(
            "ack-connection-gone",
            `the amqp1-broker ${token.server} of this token no longer exists (deleted); the broker will redeliver the message`,
          );
        if (broker.type !== "amqp1-broker" || !broker.amqp)
          throw new AckError("ack-wrong-server", `msg.ack names node ${token.server}, which is not an amqp1-broker`);
        const applied = broker.amqp.settle(token, {
          outcome,
          deliveryFailed: config.deliveryFailed !== false,
          undeliverableHere: config.undeliverableHere === true,
          error: outcome === "reject" && typeof m.error === "string" ? { description: m.error } : undefined,
        });
        settled++;
        status.set({ fill: "green", shape: "dot", text: `${applied} (${settled})` });
        if (applied !== outcome) node.debug(`${outcome} sent as ${applied} (broker quirk)`);
        done();
      } catch (e) {
        const err = asError(e);
        status.set({ fill: "red", shape: "ring", text: (err as { code?: string }).code ?? "error" });
        done(err);
      }
    });
  }

  RED.nodes.registerType("amqp1-ack", Amqp1Ack);
};
