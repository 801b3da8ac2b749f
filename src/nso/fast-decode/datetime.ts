/**
 * Datetimes in fast-decoded payloads, `{19, {Y,Mo,D,H,Mi,S,Micro,TZ,TZMin}}` (or the bare 9-tuple
 * of a C_DATETIME value): rendered as fields.ts setDatetime renders them (datetime.ts readDatetime:
 * the ISO instant in UTC plus the parts as sent). TZ/TZMin are integers or `[]`; anything else,
 * or a value readDatetime refuses, bails.
 */
import * as tags from "../term/tags";
import * as types from "../term/types";
import type { Term, Tuple as TupleType } from "../term/types";
import { BAIL, Cursor } from "./cursor";
import * as iso from "./iso";

const { Tuple } = types;
const { NIL_EXT } = tags;
const { secondsIso } = iso;

export interface Datetime {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  micro: number;
  /** null for `[]` (no timezone). */
  timezone: number | null;
  timezone_minutes: number | null;
}

/** `{19, {...}}`. */
export function datetime(c: Cursor): Datetime {
  c.tuple(2);
  if (c.int() !== 19) throw BAIL;
  return bareDatetime(c);
}

/** The 9-tuple alone. */
export function bareDatetime(c: Cursor): Datetime {
  c.tuple(9);
  return {
    year: c.int(),
    month: c.int(),
    day: c.int(),
    hour: c.int(),
    min: c.int(),
    sec: c.int(),
    micro: c.int(),
    timezone: intOrNil(c),
    timezone_minutes: intOrNil(c),
  };
}

function intOrNil(c: Cursor): number | null {
  if (c.peek() === NIL_EXT) {
    c.pos++;
    return null;
  }
  return c.int();
}

/** The term the generic decoder builds for `{19, {...}}` (a stream event's time is kept as one). */
export function datetimeTerm(t: Datetime): TupleType {
  return new Tuple([19, new Tuple([t.year, t.month, t.day, t.hour, t.min, t.sec, t.micro, nil(t.timezone), nil(t.timezone_minutes)])]);
}

function nil(v: number | null): Term {
  return v === null ? [] : v;
}

/** The ISO 8601 instant in UTC (fields.ts setDatetime's `out[key]`); a value readDatetime refuses bails. */
export function isoOf(t: Datetime): string {
  const { micro } = t;
  if (micro < 0 || micro > 999_999) throw BAIL;
  const tzH = t.timezone ?? 0;
  const tzM = t.timezone_minutes ?? 0;
  const utc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.min, t.sec) - (tzH * 60 + Math.sign(tzH || 1) * tzM) * 60_000;
  if (Number.isNaN(utc)) throw BAIL;
  return secondsIso(Math.floor(utc / 1000), micro);
}

/** The fields as sent (setDatetime's `out[key + "Parts"]`, the `_ncs.DateTime` names); a fresh object. */
export function partsOf(t: Datetime): Datetime {
  return {
    year: t.year,
    month: t.month,
    day: t.day,
    hour: t.hour,
    min: t.min,
    sec: t.sec,
    micro: t.micro,
    timezone: t.timezone,
    timezone_minutes: t.timezone_minutes ?? 0,
  };
}
