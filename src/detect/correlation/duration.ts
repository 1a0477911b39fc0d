/** Sigma timespans (`30s`, `10m`, `1h`, `7d`, `2w`) and their display. */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a timespan `<positive integer><s|m|h|d|w>`, or null when malformed. */
export function parseTimespan(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = /^([1-9][0-9]{0,9})([smhdw])$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** A short human duration: `45s`, `4m`, `3m12s`, `2h5m`, `3d`, `0s`; sub-second spans as `350ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return ms <= 0 ? '0s' : `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.slice(0, 2).join('');
}
