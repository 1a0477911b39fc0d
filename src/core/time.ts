/** A source of the current time; passed in through deps so tests can fix it. */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock frozen at one instant (tests, reproducible benchmarks). */
export function fixedClock(at: Date | string): Clock {
  const d = typeof at === 'string' ? new Date(at) : at;
  return { now: () => new Date(d.getTime()) };
}

export const DAY_MS = 86_400_000;

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string | Date, to: string | Date): number {
  const a = typeof from === 'string' ? Date.parse(from) : from.getTime();
  const b = typeof to === 'string' ? Date.parse(to) : to.getTime();
  return Math.floor((b - a) / DAY_MS);
}

/** Parses a timestamp from an export into ISO-8601 UTC, or null when the value is empty or a "never" marker. */
export function toIsoOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    // Seconds or milliseconds since the epoch.
    const ms = value < 1e12 ? value * 1000 : value;
    return new Date(ms).toISOString();
  }
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v === '' || /^(n\/a|no_information|never|none|null|-)$/i.test(v)) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
