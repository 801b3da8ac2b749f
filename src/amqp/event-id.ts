import type { Message } from "rhea";
import { sha256Hex, stableId } from "../core/stable-id";
import { bodyToText } from "./xml-event";

/**
 * msg.eventId of a message amqp1-events received (docs/scale-out.md). A bus event (bus-event.ts)
 * carries its id as the AMQP message-id and keeps it as it is. Any other message: sha-256 over
 * the channel and its message-id when the publisher set one (amqp1-send sets a uuid), else over a
 * sha-256 of its body (the XML as sent).
 */
export function amqpEventId(message: Pick<Message, "message_id" | "body">): string {
  const id = message.message_id;
  if (typeof id === "string" || typeof id === "number" || typeof id === "bigint") return stableId(["amqp", "message-id", String(id)]);
  if (Buffer.isBuffer(id)) return stableId(["amqp", "message-id", id]);
  let text: string | Buffer;
  try {
    text = bodyToText(message.body);
  } catch {
    // Not text (an AMQP value or sequence): its JSON rendering is what identifies it.
    text = JSON.stringify(message.body ?? null);
  }
  return stableId(["amqp", "body", sha256Hex(text)]);
}
