import helper from "node-red-node-test-helper";
import type { Node, NodeAPI, NodeMessage } from "node-red";

/**
 * Helpers for flow-control tests of real input nodes (issue 11) in node-red-node-test-helper.
 *
 * The helper's mock runtime gives nodes no RED.hooks, so a FlowWindow would count every message
 * finished at once; the routing itself runs the real hooks, so the node under test gets the
 * runtime's own hooks object (as in test/nodes/flow-window.test.ts).
 */
export function withHooks(nodeModule: (RED: NodeAPI) => void): (RED: NodeAPI) => void {
  return (RED: NodeAPI) => {
    const red = RED as unknown as { hooks?: unknown };
    red.hooks ??= (helper as unknown as { _RED: { hooks: unknown } })._RED.hooks;
    nodeModule(RED);
  };
}

export interface FlowStats {
  inFlight: number;
  queued: number;
  paused: boolean;
  dropped: number;
  writtenOff: number;
  window: number;
  mode: string;
}

/** Peaks of a node's flow window, sampled every millisecond (the window's own stats). */
export class FlowWatch {
  maxInFlight = 0;
  maxQueued = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly nodeId: string) {
    this.timer = setInterval(() => this.sample(), 1);
  }
  get stats(): FlowStats {
    return (helper.getNode(this.nodeId) as unknown as { flowStats(): FlowStats }).flowStats();
  }
  sample(): void {
    const n = helper.getNode(this.nodeId) as unknown as { flowStats?: () => FlowStats } | null;
    if (!n?.flowStats) return;
    const s = n.flowStats();
    this.maxInFlight = Math.max(this.maxInFlight, s.inFlight);
    this.maxQueued = Math.max(this.maxQueued, s.queued);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * `fc-valve`: a node that takes messages and finishes none of them until the test opens it
 * (then passes on, and finishes, everything held and everything after): a flow that is blocked
 * exactly as long as a test wants.
 */
export const valves = new Map<string, { open(): void; held: number }>();

export function valveNode(RED: NodeAPI): void {
  function FcValve(this: Node, config: object) {
    RED.nodes.createNode(this, config as never);
    const held: Array<() => void> = [];
    let isOpen = false;
    valves.set(this.id, {
      open() {
        isOpen = true;
        for (const f of held.splice(0)) f();
      },
      get held() {
        return held.length;
      },
    });
    this.on("input", (msg: NodeMessage, send: (m: NodeMessage) => void, done: () => void) => {
      const pass = () => {
        send(msg);
        done();
      };
      if (isOpen) pass();
      else held.push(pass);
    });
    this.on("close", () => valves.delete(this.id));
  }
  RED.nodes.registerType("fc-valve", FcValve);
}
