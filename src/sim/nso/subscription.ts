import { decodeTerm } from "../../nso/term";
import { atom, isAtom, isTuple, Term, tuple } from "../../nso/term/types";
import { NOTIF_BITS } from "../../nso/constants";
import { datetimeMicros, readDatetime } from "../../nso/datetime";
import type { ParsedHeader } from "../../nso/handshake";
import type { StreamStore } from "./streams";
import type { SubscriberInfo } from "./types";

/** What NSO 6.2.5 does with a subscription request (docs/nso.md §4). */
export type SubscriptionVerdict =
  /** Accepted: NSO replies `ok`. */
  | { kind: "accepted"; info: SubscriberInfo }
  /** Refused with this reply term, then the socket is closed. */
  | { kind: "refused"; reply: Term }
  /** No reply: the socket is just closed (the real server's writer crashes). */
  | { kind: "closed"; reason: string };

export interface SubscriptionRules {
  /** Heartbeat/health-check intervals are raised to this. */
  minIntervalMs: number;
  streams: StreamStore;
  /** Usids the server knows (a stream subscription with another non-zero usid is refused). */
  knownUsids: Set<number>;
}

const BAD_SUB = (): Term => tuple(atom("error"), 18, Buffer.from("Bad subscription data"));

/** Read subscriber `id`'s first frame: a legacy raw mask, or the `{Mask, Hb, Hc, Stream, Verbosity}` term. */
export function readSubscription(f: Buffer, id: number, h: ParsedHeader, rules: SubscriptionRules): SubscriptionVerdict {
  const refuse = (reply: Term): SubscriptionVerdict => ({ kind: "refused", reply });
  const base = { id, libVsn: h.libVsn, protoVsn: h.protoVsn, verbosity: 0, legacy: true };
  const clamp = (ms: number, bit: number, mask: number): number => ((mask & bit) !== 0 ? Math.max(ms, rules.minIntervalMs) : 0);
  if (f.length === 4 || f.length === 8 || f.length === 12) {
    // Legacy raw subscriptions, still accepted by 6.2.5 (§4.1).
    const mask = f.readUInt32BE(0);
    const hb = f.length >= 8 ? f.readUInt32BE(4) : 0;
    const hc = f.length === 12 ? f.readUInt32BE(8) : hb;
    return {
      kind: "accepted",
      info: { ...base, mask, heartbeatMs: clamp(hb, NOTIF_BITS.NOTIF_HEARTBEAT, mask), healthCheckMs: clamp(hc, NOTIF_BITS.NOTIF_HEALTH_CHECK, mask) },
    };
  }
  let t: Term;
  try {
    t = decodeTerm(f);
  } catch {
    return refuse(BAD_SUB());
  }
  if (!isTuple(t, 5)) return refuse(BAD_SUB());
  const [mask, hb, hc, streamInfo, verb] = t.elements;
  if (typeof mask !== "number" && typeof mask !== "bigint") return refuse(BAD_SUB());
  if (typeof hb !== "number" || typeof hc !== "number" || typeof verb !== "number") return refuse(BAD_SUB());
  const m = Number(mask);
  const info: SubscriberInfo = {
    ...base,
    legacy: false,
    mask: m,
    heartbeatMs: clamp(hb, NOTIF_BITS.NOTIF_HEARTBEAT, m),
    healthCheckMs: clamp(hc, NOTIF_BITS.NOTIF_HEALTH_CHECK, m),
    verbosity: verb,
  };
  if (m & NOTIF_BITS.NOTIF_STREAM_EVENT) {
    // Without a 6-tuple the real server's writer crashes; the client sees a close.
    if (!isTuple(streamInfo, 6)) return { kind: "closed", reason: "stream info is not a 6-tuple" };
    const [name, start, stop, xpath, usid] = streamInfo.elements;
    if (!isAtom(name) || !rules.streams.has(name.name)) return refuse(tuple(atom("error"), 1, Buffer.from("Unknown stream name")));
    let startMicros: number | undefined;
    let stopMicros: number | undefined;
    try {
      if (!isAtom(start, "undefined")) startMicros = datetimeMicros(readDatetime(start));
      if (!isAtom(stop, "undefined")) stopMicros = datetimeMicros(readDatetime(stop));
    } catch {
      return refuse(BAD_SUB());
    }
    if (startMicros !== undefined && !rules.streams.hasReplay(name.name)) return refuse(tuple(atom("error"), 18, Buffer.alloc(0)));
    if (typeof usid !== "number") return refuse(BAD_SUB());
    if (usid !== 0 && !rules.knownUsids.has(usid)) return refuse(tuple(atom("error"), 22, Buffer.from("User session does not exist")));
    let xp: string | undefined;
    if (Buffer.isBuffer(xpath)) {
      xp = xpath.toString("utf8");
      const err = xpathSyntaxError(xp);
      if (err) return refuse(tuple(atom("error"), 50, Buffer.from(`XPath compile failed: ${err}`)));
    }
    info.stream = { name: name.name, start: startMicros, stop: stopMicros, xpath: xp, usid };
  }
  return { kind: "accepted", info };
}

/** A cheap stand-in for NSO's XPath compiler: balanced brackets/quotes and no empty filter. */
function xpathSyntaxError(xp: string): string | undefined {
  if (!xp.trim()) return "empty expression";
  let depth = 0;
  let quote: string | undefined;
  for (const ch of xp) {
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "[" || ch === "(") depth++;
    else if (ch === "]" || ch === ")") depth--;
    if (depth < 0) return "unbalanced brackets";
  }
  if (quote) return "unterminated string";
  if (depth !== 0) return "unbalanced brackets";
  return undefined;
}
