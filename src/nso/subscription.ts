import { InfraError, ProtocolError } from "../core/errors";
import { atom, isAtom, isTuple, Term, Tuple, tuple } from "./term/types";
import { hasBit, MIN_INTERVAL_MS, NOTIF_BITS, SUB_ERROR_NAMES, SYNC_FLAG_BASE } from "./constants";
import { datetimeTerm } from "./datetime";

/**
 * The subscription request `{Mask, HeartbeatMs, HealthCheckMs, StreamInfo | undefined,
 * Verbosity}` and its reply (§4). Sent as the first framed message, right after the
 * version reply: a real NSO's whole event manager stalls while a handshaken client has not
 * subscribed (§15).
 */
export interface StreamSubscription {
  /** Stream name, e.g. "NETCONF" (sent as an atom). */
  name: string;
  /** Replay start: a Date, ISO text, or an already-encoded datetime term (resume). */
  startTime?: Date | string | Tuple;
  stopTime?: Date | string | Tuple;
  xpathFilter?: string;
  /** 0 = no AAA restriction. */
  usid?: number;
}

export interface SubscriptionRequest {
  mask: number;
  heartbeatMs?: number;
  healthCheckMs?: number;
  stream?: StreamSubscription;
  /** 0 normal .. 3 debug. */
  verbosity?: number;
}

const UNDEFINED = atom("undefined");

function timeTerm(t: Date | string | Tuple | undefined): Term {
  if (t === undefined || t === "") return UNDEFINED;
  return t instanceof Tuple ? t : datetimeTerm(t);
}

/** Validates the request the way the server would, so a bad setting fails here with a clear text. */
export function checkSubscription(req: SubscriptionRequest): void {
  if (!Number.isInteger(req.mask) || req.mask <= 0 || req.mask > 0x7fffffff)
    throw new InfraError("nso-bad-mask", `notification mask must select at least one type (got ${req.mask})`);
  for (const [flag, base] of Object.entries(SYNC_FLAG_BASE)) {
    const fv = NOTIF_BITS[flag as keyof typeof NOTIF_BITS];
    if ((req.mask & fv) !== 0 && !hasBit(req.mask, base)) throw new InfraError("nso-bad-mask", `${flag} needs ${base} in the same subscription`);
  }
  if (hasBit(req.mask, "NOTIF_STREAM_EVENT") && !req.stream?.name)
    throw new InfraError("nso-bad-stream", "NOTIF_STREAM_EVENT needs a stream name (e.g. NETCONF)");
  if (req.stream?.stopTime && !req.stream.startTime) throw new InfraError("nso-bad-stream", "a stream stop time needs a start time");
  const v = req.verbosity ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 3) throw new InfraError("nso-bad-verbosity", `verbosity must be 0..3, got ${v}`);
  for (const [k, ms] of [
    ["heartbeat", req.heartbeatMs],
    ["health check", req.healthCheckMs],
  ] as const) {
    if (ms !== undefined && (!Number.isInteger(ms) || ms < 0 || ms > 0xffffffff))
      throw new InfraError("nso-bad-interval", `${k} interval must be a whole number of ms, got ${ms}`);
  }
}

/**
 * The request term. Like libconfd, intervals are sent only with their bit (else 0; 1 s when
 * unset), the
 * stream only with STREAM_EVENT, and the verbosity only with a progress bit; UseIKP is 0
 * (hashed tags), as libconfd and Java send it.
 */
export function subscriptionTerm(req: SubscriptionRequest): Tuple {
  checkSubscription(req);
  const m = req.mask;
  // Sent as asked; the server clamps to >= 1000 ms itself (§4.1), so a watchdog must allow for that.
  const hb = hasBit(m, "NOTIF_HEARTBEAT") ? req.heartbeatMs || MIN_INTERVAL_MS : 0;
  const hc = hasBit(m, "NOTIF_HEALTH_CHECK") ? req.healthCheckMs || MIN_INTERVAL_MS : 0;
  let stream: Term = UNDEFINED;
  if (hasBit(m, "NOTIF_STREAM_EVENT") && req.stream) {
    const s = req.stream;
    stream = tuple(atom(s.name), timeTerm(s.startTime), timeTerm(s.stopTime), s.xpathFilter ? Buffer.from(s.xpathFilter, "utf8") : UNDEFINED, s.usid ?? 0, 0);
  }
  const verb = hasBit(m, "NOTIF_PROGRESS") || hasBit(m, "NOTIF_COMMIT_PROGRESS") ? (req.verbosity ?? 0) : 0;
  return tuple(m, hb, hc, stream, verb);
}

/** `{error, Code, Text}` from the server: a rejected subscription. */
export class SubscriptionRejected extends InfraError {
  constructor(
    readonly errorCode: number,
    readonly text: string,
  ) {
    super(
      "nso-subscription-rejected",
      `subscription refused: error ${errorCode}${SUB_ERROR_NAMES[errorCode] ? ` (${SUB_ERROR_NAMES[errorCode]})` : ""}${text ? `: ${text}` : " (no text; e.g. a replay start time on a stream without replay)"}`,
      { errorCode, text },
    );
    this.name = "SubscriptionRejected";
  }
}

/** Returns on `ok`; throws SubscriptionRejected on `{error, Code, Text}`, ProtocolError otherwise. */
export function checkSubscriptionReply(t: Term): void {
  if (isAtom(t, "ok")) return;
  if (isTuple(t, 3) && isAtom(t.get(0), "error") && typeof t.get(1) === "number") {
    const txt = t.get(2);
    const text = Buffer.isBuffer(txt) ? txt.toString("utf8") : typeof txt === "string" ? txt : "";
    throw new SubscriptionRejected(t.get(1) as number, text);
  }
  throw new ProtocolError("nso-bad-subscription-reply", "subscription reply is neither ok nor {error, Code, Text}");
}
