import assert from "node:assert/strict";
import type { NodeAPI } from "node-red";
import { HealthCard, HealthRegistry } from "../../src/nodes/lib/health";

/**
 * The health view's cards as the runtime under node-red-node-test-helper builds them. The
 * registry belongs to the runtime's event bus, which a test reaches through a node module:
 * `healthProbe` registers no node type, it only keeps the API it is loaded with (list it in
 * helper.load's modules).
 */
let red: NodeAPI | undefined;

export function healthProbe(RED: NodeAPI): void {
  red = RED;
}

/** The runtime's health registry (the one the editor plugin publishes from). */
export function healthRegistry(): HealthRegistry {
  assert.ok(red, "healthProbe was not loaded");
  return HealthRegistry.of(red);
}

/** The card of config node `id`, built now. */
export function cardOf(id: string): HealthCard {
  const card = healthRegistry()
    .report()
    .connections.find((c) => c.id === id);
  assert.ok(card, `no health card for ${id}`);
  return card;
}

/** Messages by topic, as a flow's sink counted them. */
export function countByTopic(msgs: ReadonlyArray<{ topic?: unknown }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of msgs) out[String(m.topic)] = (out[String(m.topic)] ?? 0) + 1;
  return out;
}
