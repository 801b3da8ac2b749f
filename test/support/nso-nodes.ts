import helper from "node-red-node-test-helper";
import nsoServerNode = require("../../src/nodes/nso-server");
import nsoEventsNode = require("../../src/nodes/nso-events");
import nsoAckNode = require("../../src/nodes/nso-ack");

/**
 * What the nso node tests share: the node set, loading a flow of it, and awaiting what a
 * node receives or what its spied log/status methods are called with (no polling). The test
 * file calls helper.init itself.
 */

type Spy = { getCalls(): Array<{ args: any[] }>; calledWithMatch(...a: unknown[]): boolean };

/** A node as the test helper leaves it: the runtime node with sinon spies on its log/status methods. */
export type AnyNode = {
  on(ev: string, fn: (...a: any[]) => void): void;
  removeListener(ev: string, fn: (...a: any[]) => void): void;
  receive(msg: object): void;
  close(removed?: boolean): Promise<void>;
  warn: Spy;
  error: Spy;
  status: Spy;
  client?: { lifecycle: { state: string } };
};

export const NSO_NODES = [nsoServerNode, nsoEventsNode, nsoAckNode];

// The helper's flow typing knows only NodeDef; our nodes' settings are checked by the nodes themselves.
export const load = (f: object[]): Promise<void> => helper.load(NSO_NODES, f as never);

export const node = (id: string): AnyNode => helper.getNode(id) as unknown as AnyNode;

/** The next message `n` receives; with `topic`, the next one with that topic (e.g. past a redeploy's gap message). */
export function nextMsg(n: AnyNode, topic?: string): Promise<Record<string, any>> {
  // Not removed once resolved: removing an input listener while Node-RED is calling a node's
  // listeners makes it skip the next one.
  return new Promise((resolve) => n.on("input", (m: Record<string, any>) => (topic === undefined || m.topic === topic) && resolve(m)));
}

/**
 * Resolves with the arguments once `n[method]` has been (or is next) called with arguments
 * matching `match`: the helper emits "call:<method>" on the node for every spied call.
 */
export function called(n: AnyNode, method: "warn" | "error" | "status", match: (args: any[]) => boolean): Promise<any[]> {
  const hit = n[method].getCalls().find((c) => match(c.args));
  if (hit) return Promise.resolve(hit.args);
  return new Promise((resolve) => {
    const on = (call: { args: any[] }): void => {
      if (match(call.args)) {
        n.removeListener(`call:${method}`, on);
        resolve(call.args);
      }
    };
    n.on(`call:${method}`, on);
  });
}

/** The text of a logged error or message. */
export const text = (a: unknown): string => String((a as Error)?.message ?? a);
