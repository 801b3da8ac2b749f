import { Atom, Term, Tuple } from "../term/types";
import { STREAM_EVENT_TYPE } from "./enums";
import { bad, kindOf, setDatetime, setEnum, text } from "./fields";
import { decodeTagValues } from "./values";

/**
 * STREAM_EVENT (§7): `{524288, {EventTime, Values}}` (type 1), `{524288, notification_complete}`
 * (2), `{524288, replay_complete}` (3), `{524288, {replay_failed, ErrBinary}}` (4) -> type,
 * event_time (ISO 8601 + event_timeParts) and values `[{ns, tag, value}]` (see values.ts) for
 * events, error for a failed replay (the 6.2.5 Python key; newer Python reads replay_error).
 */
export function decodeStreamEvent(f: Term[], where: string): Record<string, unknown> {
  const body = f[1];
  const out: Record<string, unknown> = {};
  if (body instanceof Atom) {
    if (body.name === "notification_complete") setEnum(out, "type", 2, STREAM_EVENT_TYPE);
    else if (body.name === "replay_complete") setEnum(out, "type", 3, STREAM_EVENT_TYPE);
    else bad(`${where}[1]`, "unexpected atom");
    return out;
  }
  if (body instanceof Tuple && body.elements.length === 2) {
    const [a, b] = body.elements;
    if (a instanceof Atom && a.name === "replay_failed") {
      setEnum(out, "type", 4, STREAM_EVENT_TYPE);
      out.error = text(b, `${where}.error`);
      return out;
    }
    setEnum(out, "type", 1, STREAM_EVENT_TYPE);
    setDatetime(out, "event_time", a, `${where}.event_time`);
    out.values = decodeTagValues(b, `${where}.values`);
    return out;
  }
  return bad(`${where}[1]`, `expected {EventTime, Values} or a completion atom, got ${kindOf(body)}`);
}
