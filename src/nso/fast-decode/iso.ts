/**
 * fields.ts microsIso and datetime.ts isoWithMicros without Date#toISOString per second: that
 * renders the whole prefix each time the second changes, which is most progress events when
 * they are not in one burst. Here the date part is rendered once per day and the time of day
 * by arithmetic; the text is the same. Outside years 1970..9999 the generic one answers.
 * (Both run inside fastNotification: a value the generic one cannot render bails.)
 */
import * as datetime from "../datetime";
import { BAIL } from "./cursor";

const { isoWithMicros } = datetime;

const TWO: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? "0" : "") + String(i));
const LAST_SECOND = 253402300799; // 9999-12-31T23:59:59Z
const MAX_DATE_SECONDS = 8.64e12;

let cachedDay = -1;
let cachedDate = "";
let cachedSec = -1;
let cachedPrefix = "";

/** Microseconds since the epoch -> "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". */
export function microsIso(us: number): string {
  const sec = Math.floor(us / 1_000_000);
  return secondsIso(sec, us - sec * 1_000_000);
}

/** Whole seconds since the epoch plus microseconds -> ISO 8601 (datetime.ts isoWithMicros). */
export function secondsIso(sec: number, micro: number): string {
  if (sec !== cachedSec) {
    if (!(sec >= 0 && sec <= LAST_SECOND)) {
      // Beyond what a Date holds the generic renderer throws (RangeError): its path answers.
      if (!(Math.abs(sec) <= MAX_DATE_SECONDS)) throw BAIL;
      return isoWithMicros(sec, micro);
    }
    const day = Math.floor(sec / 86400);
    if (day !== cachedDay) {
      cachedDay = day;
      cachedDate = new Date(day * 86_400_000).toISOString().slice(0, 11);
    }
    const s = sec - day * 86400;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s - h * 3600) / 60);
    cachedSec = sec;
    cachedPrefix = cachedDate + TWO[h] + ":" + TWO[m] + ":" + TWO[s - h * 3600 - m * 60] + ".";
  }
  return cachedPrefix + (micro >= 100000 ? String(micro) : ("00000" + String(micro)).slice(-6)) + "Z";
}
