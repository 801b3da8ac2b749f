import { stableId } from "../core/stable-id";

/**
 * msg.eventId of an APIC change (docs/scale-out.md): sha-256 over the channel, the object's dn,
 * the change status and the object's modification stamp (modTs, milliseconds). Not the
 * controller: two ingest processes may be logged in to different controllers of one fabric. A
 * change without modTs (APIC's minimal `deleted` notification) is identified by its attributes
 * instead.
 */
export function apicEventId(ev: { dn: string; status: string; attributes?: Record<string, string> }): string {
  const modTs = ev.attributes?.modTs;
  return modTs ? stableId(["apic", ev.dn, ev.status, modTs]) : stableId(["apic", ev.dn, ev.status, null, ev.attributes ?? {}]);
}
