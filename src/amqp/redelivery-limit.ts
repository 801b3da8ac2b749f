import { createHash } from "node:crypto";
import type { Message } from "rhea";

/** Failed attempts after which a message is rejected instead of released. */
export const DEFAULT_MAX_FAILURES = 3;
/** Messages whose failures are remembered at once (oldest forgotten first). */
const MAX_TRACKED = 1000;

/**
 * Counts how often each message failed to be handled, so one that always fails (a flow that
 * throws on it, a message Node-RED cannot clone) is rejected after a few attempts instead of
 * being released and redelivered forever (seen: 22 times in 20 s, for as long as it ran).
 *
 * The broker's `delivery-count` is used when it sends one; RabbitMQ 3.x does not (a redelivery
 * only has `first-acquirer` false), so the count is also kept here, by message: its id, subject
 * and body. Only failures cost a hash; a success looks the message up only while some failure
 * is remembered and the broker says it is a redelivery.
 */
export class FailureCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly maxFailures: number = DEFAULT_MAX_FAILURES) {}

  /** Count one failed attempt; true when the message has now failed `maxFailures` times. */
  failed(m: Message): { attempts: number; giveUp: boolean } {
    const key = messageKey(m);
    const ours = (this.counts.get(key) ?? 0) + 1;
    const broker = typeof m.delivery_count === "number" ? m.delivery_count + 1 : 0;
    const attempts = Math.max(ours, broker);
    const giveUp = attempts >= this.maxFailures;
    this.counts.delete(key);
    if (!giveUp) {
      if (this.counts.size >= MAX_TRACKED) this.counts.delete(this.counts.keys().next().value as string);
      this.counts.set(key, attempts);
    }
    return { attempts, giveUp };
  }

  /** The message was handled: forget its earlier failures. */
  succeeded(m: Message): void {
    if (this.counts.size === 0 || !isRedelivery(m)) return;
    this.counts.delete(messageKey(m));
  }

  get tracked(): number {
    return this.counts.size;
  }
}

function isRedelivery(m: Message): boolean {
  return m.first_acquirer === false || (typeof m.delivery_count === "number" && m.delivery_count > 0);
}

function messageKey(m: Message): string {
  const h = createHash("sha256");
  const id = m.message_id;
  h.update(`${typeof id}:${Buffer.isBuffer(id) ? id.toString("hex") : String(id)}\0${String(m.subject)}\0`);
  const body = m.body as unknown;
  const content = body && typeof body === "object" && Buffer.isBuffer((body as { content?: unknown }).content) ? (body as { content: Buffer }).content : body;
  if (typeof content === "string" || Buffer.isBuffer(content) || content instanceof Uint8Array) h.update(content);
  else h.update(safeJson(content));
  return h.digest("base64");
}

// A decoded AMQP body is plain data (no cycles); bigints (ulong) are the only JSON snag.
function safeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? "";
}
