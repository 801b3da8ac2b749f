import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "./lib/red";
import type { DoneFn, SendFn } from "./lib/red";
import { AckError, checkToken } from "../core/ack-registry";
import { asError, InfraError } from "../core/errors";
import { ACK_KINDS } from "../nso";
import { StatusThrottle } from "./lib/status";
import { isGapNotice } from "./lib/gap";
import type { NsoServerHandle } from "./lib/handles";

/**
 * nso-ack: answers a blocking NSO notification from msg.ack (diff-done, audit sync,
 * audit-network sync, HA sync), then passes the message on once the ack is written (or, when
 * other nso-events nodes received the same notification, once this node's share is counted:
 * NSO is answered when the last of them answers). A token
 * whose connection is gone (a reconnect, a redeploy), that was already used or auto-acked, that
 * was never issued, or whose kind is not an NSO ack, is a clear error (done(err), which is
 * Node-RED's node.error(err, msg): a Catch node gets the message), never a success.
 */
const KIND_TEXT: Record<string, string> = { diff: "diff done", audit: "audit synced", audit_network: "audit-network synced", ha: "HA synced" };

function nsoAck(RED: NodeAPI): void {
  function NsoAck(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new StatusThrottle((s) => node.status(s), 1000);
    let acked = 0;
    node.on("input", (msg: NodeMessageInFlow & { ack?: unknown }, send: SendFn, done: DoneFn) => {
      if (isGapNotice(msg)) {
        send(msg);
        done();
        return;
      }
      let server: NsoServerHandle | null;
      let kind: string;
      try {
        const token = checkToken(msg.ack);
        kind = token.kind;
        if (!(ACK_KINDS as readonly string[]).includes(kind)) {
          const hint = kind === "amqp1-delivery" ? ": it comes from amqp1-events, settle it with amqp1-ack" : "";
          throw new AckError("ack-wrong-kind", `msg.ack is a ${kind} token${hint}; nso-ack answers NSO notifications (${ACK_KINDS.join(", ")})`);
        }
        server = RED.nodes.getNode(token.server) as (NsoServerHandle & { type?: string }) | null;
        if (!server) {
          throw new AckError(
            "ack-connection-gone",
            `msg.ack belongs to nso-server ${token.server}, which no longer exists (deleted); NSO has released or will time out the wait`,
          );
        }
        if ((server as { type?: string }).type !== "nso-server" || typeof server.ack !== "function") {
          throw new AckError("ack-wrong-server", `msg.ack names node ${token.server}, which is not an nso-server`);
        }
      } catch (e) {
        status.set({ fill: "red", shape: "ring", text: (e as InfraError).code ?? "error" });
        done(asError(e));
        return;
      }
      server.ack(msg.ack).then(
        (a) => {
          acked++;
          // With several nso-events nodes on the server NSO waits for all of them: say so.
          const more = a.released ? "" : `, ${a.waiting} more node${a.waiting === 1 ? "" : "s"} to answer`;
          status.set({ fill: "green", shape: "dot", text: `${KIND_TEXT[kind] ?? kind} (${acked})${more}` });
          send(msg);
          done();
        },
        (e: unknown) => {
          status.set({ fill: "red", shape: "ring", text: (e as InfraError).code ?? "error" });
          done(asError(e));
        },
      );
    });
    node.on("close", () => status.dispose());
  }
  RED.nodes.registerType("nso-ack", NsoAck);
}

export = nsoAck;
