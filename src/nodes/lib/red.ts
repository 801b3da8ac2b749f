import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";

export type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow };

/** The `tls-config` node's runtime API (core node 05-tls.js). */
/** A node's handle as its constructor fills it in: fields its users only read are set there. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

export interface TlsConfigNode extends Node {
  addTLSOptions(opts: Record<string, unknown>): void;
  verifyservercert?: boolean;
}

/** Node-RED's per-message send/done (Node-RED >= 1.0). */
export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

/** TLS options for node `tls`/`ws`/rhea from an optional tls-config node id. */
export function tlsOptions(RED: NodeAPI, tlsId: string | undefined): Record<string, unknown> {
  const opts: Record<string, unknown> = {};
  if (!tlsId) return opts;
  const tlsNode = RED.nodes.getNode(tlsId) as TlsConfigNode | null;
  if (!tlsNode) throw new Error(`tls-config node ${tlsId} not found`);
  tlsNode.addTLSOptions(opts);
  return opts;
}
