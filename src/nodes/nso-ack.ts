import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "./lib/red";
import type { DoneFn, SendFn } from "./lib/red";
import { checkToken } from "../core/ack-registry";
import { asError, InfraError } from "../core/errors";
import { StatusThrottle } from "../core/status";
import type nsoServer = require("./nso-server");

/**
 * nso-ack: answers a blocking NSO notification from msg.ack (diff-done, audit sync,
 * audit-network sync, HA sync), then passes the message on once the ack is written. A token
 * whose connection is gone, or that was already used or auto-acked, is a clear error.
 */
const KIND_TEXT: Record<string, string> = { diff: "diff done", audit: "audit synced", audit_network: "audit-network synced", ha: "HA synced" };

function nsoAck(RED: NodeAPI): void {
  function NsoAck(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new StatusThrottle((s) => node.status(s), 1000);
    let acked = 0;
    node.on("input", (msg: NodeMessageInFlow & { ack?: unknown }, send: SendFn, done: DoneFn) => {
      let server: nsoServer.ServerNode | null;
      let kind: string;
      try {
        const token = checkToken(msg.ack);
        kind = token.kind;
        server = RED.nodes.getNode(token.server) as nsoServer.ServerNode | null;
        if (!server || typeof server.ack !== "function") {
          throw new InfraError("ack-connection-gone", `msg.ack belongs to nso-server ${token.server}, which no longer exists (redeployed or deleted); NSO has released or will time out the wait`);
        }
      } catch (e) {
        status.set({ fill: "red", shape: "ring", text: (e as InfraError).code ?? "error" });
        done(asError(e));
        return;
      }
      server.ack(msg.ack).then(
        () => {
          acked++;
          status.set({ fill: "green", shape: "dot", text: `${KIND_TEXT[kind] ?? kind} (${acked})` });
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
  RED.nodes.registerType("nso-ack", NsoAck as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
}

export = nsoAck;
