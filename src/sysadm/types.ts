/**
 * Shapes of the sysadm WebSocket API, as a real server sends them (docs/sysadm.md). Field names are
 * the server's own, so a user who knows the sysadm API recognises every key.
 */

/** The event types the server accepts in events/subscribe (exact, case-sensitive). */
export const EVENT_TYPES = ["dispatcher", "life-preserver", "system-state"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Only these two are cached server-side and re-sent as a snapshot on subscribe (§4.1). */
export const CACHED_EVENT_TYPES: ReadonlySet<string> = new Set(["life-preserver", "system-state"]);

export function isEventType(s: unknown): s is EventType {
  return typeof s === "string" && (EVENT_TYPES as readonly string[]).includes(s);
}

/** A request as sent: the server wants string ids; replies are matched by id only. */
export interface SysadmRequest {
  namespace: string;
  name: string;
  id: string;
  args: unknown;
}

/** The "<n> - <Category>" priority of life-preserver and system-state events, parsed. */
export interface Priority {
  level: number;
  category: string;
}

export interface SysadmEvent {
  /** The event type (`dispatcher`, `life-preserver`, `system-state`, or anything newer). */
  name: string;
  args: unknown;
  priority: Priority | null;
  /** The server's cached copy pushed on subscribe, not a new occurrence. */
  snapshot: boolean;
  /** First line of a bridge-relayed frame, when the frame had one. */
  bridge?: string;
}

/** What the client reports after a reconnect: events in [from, to] were lost (no replay). */
export interface GapInfo {
  from: number;
  to: number;
  reason: string;
}
