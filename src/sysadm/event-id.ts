import { sha256Hex, stableId, canonicalJson } from "../core/stable-id";
import type { SysadmEvent } from "./types";

/** Where sysadm's events say when they happened (dispatcher, updates, life-preserver lines). */
const TIME_FIELDS = ["time_finished", "time_started", "timestamp", "time", "date", "last_check"];

/** The event's own time: the first time field of its args (top level), or null. */
export function sysadmEventTime(args: unknown): string | null {
  if (!args || typeof args !== "object" || Array.isArray(args)) return null;
  const a = args as Record<string, unknown>;
  for (const k of TIME_FIELDS) {
    const v = a[k];
    if (typeof v === "string" || typeof v === "number") return String(v);
  }
  return null;
}

/**
 * msg.eventId of a sysadm event (docs/scale-out.md): sha-256 over the channel, the server as the
 * sysadm-server node names it, the event name, its time (sysadmEventTime) and a sha-256 of its
 * args (canonical JSON). A subscribe snapshot is the server's copy of the last event: it gets the
 * id of that event.
 */
export function sysadmEventId(server: string, ev: Pick<SysadmEvent, "name" | "args">): string {
  return stableId(["sysadm", server, ev.name, sysadmEventTime(ev.args), sha256Hex(canonicalJson(ev.args))]);
}
