import { stableId } from "../core/stable-id";
import type { NsoNotification } from "./notifications/types";

/**
 * msg.eventId of an NSO notification (docs/scale-out.md): sha-256 over the channel, the server
 * as the nso-server node names it (host:port), the notification type and its decoded payload as
 * NSO sent it (before anything a node adds: the commit's changes, stream value names). The payload
 * holds each type's identifying fields (logno of audit and syslog lines, usid/tid of network
 * audits and progress, the transaction handle of a commit diff, event_time of stream events, the
 * commit-queue id and timestamp, …), and every other field narrows it further. Every subscriber
 * of one NSO receives the same term, so every process computes the same id.
 */
export function nsoEventId(server: string, n: Pick<NsoNotification, "type" | "payload">): string {
  return stableId(["nso", server, n.type, n.payload]);
}
