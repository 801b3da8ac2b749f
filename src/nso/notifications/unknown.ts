import { formatTerm } from "../term/format";
import { termToJson } from "../term/json";
import { Atom, ErlMap, ImproperList, Term, Tuple } from "../term/types";

const REDACTED = Buffer.from("***");

/**
 * NOTIF_UNKNOWN: a notification whose tag this decoder does not know (a newer NSO, e.g.
 * SYSTEM_GOING_DOWN). Delivered, not dropped: `tag`, `raw` (Erlang text, faithful) and `term`
 * (JSON rendering, readable). Anything shaped like a uinfo has its clearpass slot replaced
 * first, so an unknown type cannot smuggle a web user's password into a message.
 */
export function decodeUnknown(tag: number | string, t: Term): Record<string, unknown> {
  const safe = redact(t);
  return { tag, raw: formatTerm(safe), term: termToJson(safe) };
}

function redact(t: Term): Term {
  if (t instanceof Tuple) {
    const e = t.elements.map(redact);
    if (looksLikeUinfo(t)) e[2] = REDACTED;
    return new Tuple(e);
  }
  if (Array.isArray(t)) return t.map(redact);
  if (t instanceof ImproperList) return new ImproperList(t.elements.map(redact), redact(t.tail));
  if (t instanceof ErlMap) return new ErlMap(t.entries.map(([k, v]) => [redact(k), redact(v)]));
  return t;
}

/** `{Usid, User, Clearpass, Context, Proto, Ip, ...}`: 10 elements, integer usid, IP tuple at 6. */
function looksLikeUinfo(t: Tuple): boolean {
  const e = t.elements;
  return (
    e.length === 10 &&
    typeof e[0] === "number" &&
    (Buffer.isBuffer(e[1]) || e[1] instanceof Atom) &&
    Buffer.isBuffer(e[2]) &&
    e[2].length > 0 &&
    e[5] instanceof Tuple
  );
}
