import { ProtocolError } from "../core/errors";
import { isTuple, Term, Tuple, tuple } from "./term/types";
import { C_DATETIME } from "./constants";

/**
 * `{19, {Year, Month, Day, Hour, Min, Sec, Micro, TZhours, TZminutes}}` (§6): the datetime the
 * subscription's start/stop times and every stream event's EventTime use. TZ `[]` means
 * "no timezone"; we write UTC (0/0) and read `[]` as UTC.
 */
export function datetimeTerm(d: Date | string): Tuple {
  const date = typeof d === "string" ? new Date(d) : d;
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a date/time: ${String(d)}`);
  const ms = date.getTime();
  const micro = (((ms % 1000) + 1000) % 1000) * 1000;
  return tuple(
    C_DATETIME,
    tuple(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), micro, 0, 0),
  );
}

export interface DatetimeParts {
  /** Milliseconds since the epoch (UTC). */
  ms: number;
  /** Microseconds within the second, for exact ordering and re-encoding. */
  micro: number;
  iso: string;
}

/** Read `{19, {...}}` (or the bare 9-tuple) into a UTC instant; throws ProtocolError on any other shape. */
export function readDatetime(t: Term): DatetimeParts {
  let inner: Term = t;
  if (isTuple(t, 2) && t.get(0) === C_DATETIME) inner = t.get(1);
  if (!isTuple(inner, 9)) throw new ProtocolError("nso-bad-datetime", "datetime is not {19, {Y,Mo,D,H,Mi,S,Micro,TZ,TZMin}}");
  const f = inner.elements;
  for (let i = 0; i < 7; i++) {
    if (typeof f[i] !== "number") throw new ProtocolError("nso-bad-datetime", `datetime field ${i + 1} is not an integer`);
  }
  const [y, mo, d, h, mi, s, micro] = f as number[];
  const tzH = typeof f[7] === "number" ? f[7] : 0;
  const tzM = typeof f[8] === "number" ? f[8] : 0;
  if (micro < 0 || micro > 999_999) throw new ProtocolError("nso-bad-datetime", `datetime microseconds out of range: ${micro}`);
  const utc = Date.UTC(y, mo - 1, d, h, mi, s) - (tzH * 60 + Math.sign(tzH || 1) * tzM) * 60_000;
  if (Number.isNaN(utc)) throw new ProtocolError("nso-bad-datetime", "datetime out of range");
  const ms = utc + Math.floor(micro / 1000);
  return { ms, micro, iso: isoWithMicros(Math.floor(utc / 1000), micro) };
}

/** Six digits, zero-padded, without the generic padStart path (runs for every event). */
const pad6 = (n: number): string => (n >= 100000 ? String(n) : ("00000" + n).slice(-6));

// The "YYYY-MM-DDTHH:MM:SS." part of the last second rendered: events come in bursts within
// one second, and Date#toISOString was the largest single cost of decoding progress events.
let cachedSec = Number.NaN;
let cachedPrefix = "";

/** ISO 8601 in UTC with microsecond precision for whole seconds `sec` since the epoch plus `micro`. */
export function isoWithMicros(sec: number, micro: number): string {
  if (sec !== cachedSec) {
    const iso = new Date(sec * 1000).toISOString();
    // Years outside 0..9999 have a longer, signed form: not cached, rare.
    if (iso.length !== 24) return iso.replace(/\.\d{3}Z$/, `.${pad6(micro)}Z`);
    cachedSec = sec;
    cachedPrefix = iso.slice(0, 20);
  }
  return cachedPrefix + pad6(micro) + "Z";
}

/** Total order of two datetimes in microseconds since the epoch. */
export function datetimeMicros(p: DatetimeParts): number {
  return Math.floor(p.ms / 1000) * 1_000_000 + p.micro;
}
