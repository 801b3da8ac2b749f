import type { Node, NodeAPI } from "./red";

/**
 * Whether a message leaving some wires can reach a node of a given type, by following the wires
 * of the running nodes (RED.nodes.getNode) through the flow. Used at deploy to warn about a
 * blocking NSO notification that waits for an nso-ack no wire leads to. What a walk of wires
 * cannot see through (link nodes, subflow instances) is "unknown", never "no": a warning must
 * not be wrong. Bounded, so a huge or looping flow costs little.
 */
export type Reach = "yes" | "no" | "unknown";

function opaque(type: string): boolean {
  return type === "link out" || type === "link call" || type.startsWith("subflow:");
}

export function reaches(RED: NodeAPI, from: readonly string[], isTarget: (type: string) => boolean, limit = 1000): Reach {
  const seen = new Set<string>();
  const queue = [...from];
  let unknown = false;
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (seen.size > limit) return "unknown";
    const n = RED.nodes.getNode(id) as (Node & { type: string; wires?: string[][] }) | null;
    // Not running (its constructor failed, or it is gone): nothing passes through it.
    if (!n) continue;
    if (isTarget(n.type)) return "yes";
    if (opaque(n.type)) {
      unknown = true;
      continue;
    }
    for (const out of n.wires ?? []) for (const next of out ?? []) queue.push(next);
  }
  return unknown ? "unknown" : "no";
}
