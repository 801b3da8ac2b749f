import type { Message } from "rhea";
import type { AckToken } from "../core/ack-registry";
import { asText } from "../core/describe";
import type { DecodedBusEvent } from "./bus-event";

export interface AmqpInfo {
  address: string;
  subject: string | undefined;
  messageId: string | number | undefined;
  properties: Record<string, unknown>;
  contentType: string | undefined;
  /** The broker delivered this before (RabbitMQ: first_acquirer false). */
  redelivered: boolean;
}

/**
 * One delivery as a flow message: a fresh object per delivery, handed over to the listener
 * (amqp1-events sends it on as the msg itself).
 */
export interface ReceivedEvent {
  /** Event name (xml-event), or from `clacks_event`/subject (raw), else the address. */
  topic: string;
  payload: unknown;
  xml?: string;
  amqp: AmqpInfo;
  /** Manual mode: the plain token amqp1-ack settles. */
  ack?: AckToken;
  /** Stable id (event-id.ts): a bus event's own, else from the message-id or the body. */
  eventId: string;
  /** A bus event (bus-event.ts): the bus delivery's own AMQP details; `amqp` is then the original's. */
  bus?: AmqpInfo;
  nso?: unknown;
  apic?: unknown;
  sysadm?: unknown;
}

/**
 * How the listener settles an event it keeps: emitted with each event in auto mode with
 * `deferAccept`, and in manual mode (where amqp1-ack settles it; the listener only uses `fail`).
 * Each delivery is settled once: later calls, and calls after the link is gone (the broker has
 * taken the message back then), do nothing.
 */
export interface EventSettler {
  /** The flow finished the event: accept it, its credit comes back. */
  accept(): void;
  /** The flow did not finish it: give it back to the broker, which delivers it again. */
  release(): void;
  /** Handing it to the flow failed: as a failing listener (released, rejected after maxFailures). */
  fail(e: unknown): void;
}

export function amqpInfo(address: string, m: Message): AmqpInfo {
  const props: Record<string, unknown> = {};
  const ap = m.application_properties;
  if (ap) for (const k of Object.keys(ap)) props[k] = jsonSafe(ap[k]);
  const id = m.message_id;
  return {
    address,
    subject: typeof m.subject === "string" ? m.subject : undefined,
    messageId: typeof id === "string" || typeof id === "number" ? id : id === undefined || id === null ? undefined : String(id),
    properties: props,
    contentType: typeof m.content_type === "string" ? m.content_type : undefined,
    redelivered: m.first_acquirer === false || (typeof m.delivery_count === "number" && m.delivery_count > 0),
  };
}

// msg is deep-cloned and may be serialised to the editor: keep only JSON-friendly values.
function jsonSafe(v: unknown): unknown {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString("base64");
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === "object") return asText(v);
  return undefined;
}

/** A bus event as its input node sent it: the channel's metadata back under its key. */
export function restoreBus(ev: ReceivedEvent, d: DecodedBusEvent): void {
  ev.bus = ev.amqp;
  if (d.xml !== undefined) ev.xml = d.xml;
  if (!d.meta) return;
  if (d.channel === "amqp") ev.amqp = d.meta as unknown as AmqpInfo;
  else if (d.channel !== "flow") ev[d.channel] = d.meta;
}
