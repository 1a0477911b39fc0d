/** Small formatting helpers shared by the pages. */

/** `2026-11-29 17:05 UTC` from an ISO time or epoch ms; an em dash for none. */
export function formatTime(t: string | number | null | undefined): string {
  if (t === null || t === undefined || t === '') return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `3 min ago`, `2 h ago`, `5 d ago`, or `in 4 d` for the future. */
export function formatAge(t: string | number | null | undefined, now = Date.now()): string {
  if (t === null || t === undefined || t === '') return '—';
  const ms = now - new Date(t).getTime();
  if (Number.isNaN(ms)) return '—';
  const abs = Math.abs(ms);
  const [n, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 86_400_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'd'];
  return ms >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

/** Risk band of a 0–100 score, as the overview counts them. */
export function riskBand(score: number | null | undefined): 'critical' | 'high' | 'medium' | 'low' | 'none' {
  if (score === null || score === undefined || score <= 0) return 'none';
  if (score >= 80) return 'critical';
  if (score >= 60) return 'high';
  if (score >= 40) return 'medium';
  return 'low';
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
