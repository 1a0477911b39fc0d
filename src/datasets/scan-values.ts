/**
 * Scanning one value: Keyward's secret scanner and the PII detectors, merged into hits with offsets in the value
 * (a secret wins over PII it overlaps). The secret scanner sees the value behind its key (`api_key=…`), so
 * assignment-style rules keep their context in CSV cells and JSON strings.
 */
import { detectPii } from './pii-detectors.js';
import type { SecretScanner } from '../secrets/index.js';

/** One thing found in a value. The value itself is never kept: only offsets, the type and a redacted sample. */
export interface ValueHit {
  kind: 'secret' | 'pii';
  /** `secret:<ruleId>` or a PII type (`email`, `payment-card`, …). */
  type: string;
  start: number;
  end: number;
  sample: string;
  /** Keyed fingerprint of a secret (compares within one run). */
  fingerprint?: string;
}

/** Shortest value the secret scanner is run on. */
const MIN_SECRET_SCAN = 8;

const SAFE_KEY = /[^A-Za-z0-9_]/g;

/** Finds secrets and personal data in `text`; `key` is the field name it sits under, if any. */
export function scanValue(scanner: SecretScanner, text: string, key: string | null): ValueHit[] {
  const hits: ValueHit[] = [];
  if (text.length >= MIN_SECRET_SCAN) {
    const prefix = key ? `${key.replace(SAFE_KEY, '_').slice(-64)}=` : '';
    const full = prefix + text;
    const { findings } = scanner.scanText(full, { kind: 'file', path: '-' });
    if (findings.length > 0) {
      const lineStarts = [0];
      for (let i = full.indexOf('\n'); i !== -1; i = full.indexOf('\n', i + 1)) lineStarts.push(i + 1);
      for (const f of findings) {
        const start = lineStarts[f.line - 1]! + f.column - 1 - prefix.length;
        if (start < 0) continue;
        hits.push({
          kind: 'secret',
          type: `secret:${f.ruleId}`,
          start,
          end: Math.min(text.length, start + f.secret.length),
          sample: f.preview,
          fingerprint: f.fingerprint,
        });
      }
    }
  }
  for (const p of detectPii(text)) {
    if (hits.some((h) => h.kind === 'secret' && p.start < h.end && h.start < p.end)) continue;
    hits.push({ kind: 'pii', type: p.type, start: p.start, end: p.end, sample: p.sample });
  }
  return hits.sort((a, b) => a.start - b.start);
}
