import type { NodeMessage } from "./red";
import { withoutUserInfo } from "./redact";
import { noteGap } from "./health";

/**
 * The one gap message of all four channels (docs/gaps.md): `topic: "gap"`, and a payload that
 * says which channel, why, the window in which events may be missing (ISO 8601) and whether
 * something closed it. Its shape is a promise to users' flows: add fields, never rename.
 */
export type GapChannel = "nso" | "apic" | "amqp" | "sysadm";

/** How the gap was closed: replayed by the peer, re-read by us, redelivered by the broker, or not at all. */
export type GapFill = "replay" | "re-read" | "redelivery" | false;

export interface GapPayload {
  channel: GapChannel;
  reason: string;
  since: string;
  until: string;
  filled: GapFill;
  [extra: string]: unknown;
}

export const GAP_TOPIC = "gap";

export interface GapWindow {
  reason: string;
  /** When events could first have been missed (ms since epoch, or a Date). */
  since: number | Date;
  /** When delivery resumed. */
  until: number | Date;
  filled: GapFill;
}

/**
 * `from`: the config node whose connection the gap belongs to; the gap is counted in its health
 * view (docs/health.md), here where every gap message of every channel is built.
 */
export function gapMessage(
  channel: GapChannel,
  w: GapWindow,
  extras: Record<string, unknown> = {},
  from?: object | null,
): NodeMessage & { payload: GapPayload } {
  const iso = (t: number | Date) => new Date(t).toISOString();
  // The fixed fields come last so an extra can never overwrite them.
  // A reason is an error message, which may quote an address typed with user:password@.
  const payload: GapPayload = { ...extras, channel, reason: withoutUserInfo(w.reason), since: iso(w.since), until: iso(w.until), filled: w.filled };
  noteGap(from, payload);
  return { topic: GAP_TOPIC, payload };
}

/**
 * A gap message on its way through an ack node: it carries nothing to settle. Wired on the same
 * output as the events (single-output routing), it must pass, not fail as a missing token.
 */
export function isGapNotice(msg: { topic?: unknown; ack?: unknown }): boolean {
  return msg.topic === GAP_TOPIC && msg.ack === undefined;
}
