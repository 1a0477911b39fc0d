/** Timestamp parsing for posture runs, fast on the canonical form the store writes. */
import { DAY_MS } from '../../core/time.js';

/** Two decimal digits at s[i], s[i+1] as a number; NaN-free garbage for non-digits is caught by the range checks. */
function two(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** True when every character of s[from, to) is a decimal digit. */
function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Milliseconds since the epoch of an ISO-8601 timestamp, or null when absent or unparseable. The canonical
 * `YYYY-MM-DDTHH:MM:SS.sssZ` form (what `toISOString` writes and the store keeps) is parsed by hand, without
 * allocating, with the same results as `Date.parse` (which also rolls 2025-02-30 over to March 2); anything
 * else goes through `Date.parse`.
 */
export function timeMs(iso: string | null | undefined): number | null {
  if (!iso) return null;
  if (
    iso.length === 24 &&
    iso.charCodeAt(23) === 90 && // Z
    iso.charCodeAt(10) === 84 && // T
    iso.charCodeAt(4) === 45 &&
    iso.charCodeAt(7) === 45 &&
    iso.charCodeAt(13) === 58 &&
    iso.charCodeAt(16) === 58 &&
    iso.charCodeAt(19) === 46 &&
    allDigits(iso, 0, 4) &&
    allDigits(iso, 5, 7) &&
    allDigits(iso, 8, 10) &&
    allDigits(iso, 11, 13) &&
    allDigits(iso, 14, 16) &&
    allDigits(iso, 17, 19) &&
    allDigits(iso, 20, 23)
  ) {
    const month = two(iso, 5);
    const day = two(iso, 8);
    const hour = two(iso, 11);
    const minute = two(iso, 14);
    const second = two(iso, 17);
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59) {
      const year = two(iso, 0) * 100 + two(iso, 2);
      const ms = (iso.charCodeAt(20) - 48) * 100 + two(iso, 21);
      return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
    }
  }
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** Whole days from `fromMs` to `toMs` (negative when `toMs` is earlier). */
export function wholeDays(fromMs: number, toMs: number): number {
  return Math.floor((toMs - fromMs) / DAY_MS);
}
