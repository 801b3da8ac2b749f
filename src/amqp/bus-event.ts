import { ProtocolError } from "../core/errors";
import { stableId } from "../core/stable-id";

/**
 * The bus format (issue 16, docs/scale-out.md): any input node's message as a JSON event, so
 * several Node-RED processes can share the work behind one RabbitMQ. Body `{topic, payload,
 * <channel>: metadata[, xml]}`; AMQP message-id = msg.eventId; application properties name the
 * channel, type and source, so bindings can route on them; content type application/json and the
 * `infra_bus` property mark it, so amqp1-events restores the message rather than parse XML.
 */
export const BUS_CONTENT_TYPE = "application/json";
/** The mark and the version of the format. */
export const BUS_MARK = "infra_bus";
export const BUS_VERSION = 1;
export const BUS_CHANNELS = ["nso", "apic", "sysadm", "amqp"] as const;
export type BusChannel = (typeof BUS_CHANNELS)[number] | "flow";

export interface BusEnvelope {
  eventId: string;
  channel: BusChannel;
  /** The event type: the message's topic (NSO notification type, APIC class, sysadm event, Clacks event name). */
  type: string;
  /** Where it came from: the server, controller or source address the input node names. */
  source: string;
  subject: string;
  properties: Record<string, string | number>;
  body: Buffer;
}

type Msg = Record<string, unknown>;

/** The channel of a message by its metadata key; a message from any other node is "flow". */
export function busChannelOf(msg: Msg): BusChannel {
  for (const c of BUS_CHANNELS) if (msg[c] && typeof msg[c] === "object") return c;
  return "flow";
}

function sourceOf(channel: BusChannel, meta: Msg | undefined): string {
  if (!meta) return "";
  const v =
    channel === "nso" ? meta.server : channel === "apic" ? meta.controller : channel === "sysadm" ? meta.server : channel === "amqp" ? meta.address : undefined;
  return typeof v === "string" ? v : "";
}

/** A routing-key word: dots and the topic wildcards would split or widen a binding. */
function word(s: string): string {
  return s.replace(/[.*#\s]/g, "_") || "_";
}

/** Build the bus message for a flow message (never the ack token, nor anything else of msg). */
export function toBusEvent(msg: Msg): BusEnvelope {
  const channel = busChannelOf(msg);
  const meta = channel === "flow" ? undefined : (msg[channel] as Msg);
  const type = typeof msg.topic === "string" && msg.topic ? msg.topic : channel;
  const body: Msg = { topic: msg.topic ?? null, payload: msg.payload ?? null };
  if (meta) body[channel] = meta;
  if (typeof msg.xml === "string") body.xml = msg.xml;
  const text = JSON.stringify(body);
  if (text === undefined) throw new ProtocolError("bus-not-json", "the message cannot be written as JSON");
  const eventId = typeof msg.eventId === "string" && msg.eventId ? msg.eventId : stableId([channel, "body", text]);
  const source = sourceOf(channel, meta);
  return {
    eventId,
    channel,
    type,
    source,
    subject: `infra.${channel}.${word(type)}`,
    properties: { [BUS_MARK]: BUS_VERSION, infra_channel: channel, infra_type: type, infra_source: source },
    body: Buffer.from(text, "utf8"),
  };
}

/** The message is a bus event: its mark, and the JSON content type. */
export function isBusMessage(m: { content_type?: unknown; application_properties?: Record<string, unknown> }): boolean {
  return m.application_properties?.[BUS_MARK] !== undefined && (m.content_type === undefined || m.content_type === BUS_CONTENT_TYPE);
}

export interface DecodedBusEvent {
  kind: "bus";
  name: string;
  payload: unknown;
  eventId: string;
  channel: BusChannel;
  /** The channel's metadata, restored as msg[channel]. */
  meta?: Record<string, unknown>;
  xml?: string;
}

/** Read a bus event's body (already size-checked) back into what the input node had sent. */
export function fromBusEvent(text: string, messageId: unknown, props: Record<string, unknown> | undefined): DecodedBusEvent {
  const version = props?.[BUS_MARK];
  if (version !== BUS_VERSION) throw new ProtocolError("bus-version", `bus event of version ${String(version)}; this node reads version ${BUS_VERSION}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError("bus-not-json", `bus event body is not JSON: ${(e as Error).message}`);
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new ProtocolError("bus-bad-body", "bus event body is not an object");
  const b = body as Msg;
  const channel = props?.infra_channel;
  const ch: BusChannel = channel === "flow" || (BUS_CHANNELS as readonly unknown[]).includes(channel) ? (channel as BusChannel) : "flow";
  const meta = ch !== "flow" && b[ch] && typeof b[ch] === "object" && !Array.isArray(b[ch]) ? (b[ch] as Record<string, unknown>) : undefined;
  const eventId = typeof messageId === "string" && messageId ? messageId : stableId([ch, "body", text]);
  const out: DecodedBusEvent = { kind: "bus", name: typeof b.topic === "string" ? b.topic : ch, payload: b.payload, eventId, channel: ch };
  if (meta) out.meta = meta;
  if (typeof b.xml === "string") out.xml = b.xml;
  return out;
}
