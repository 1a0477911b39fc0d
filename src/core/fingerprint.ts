import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** Turns a secret value into what Keyward may keep: a keyed fingerprint and a redacted preview. */
export interface Fingerprinter {
  /** HMAC-SHA-256 (hex) of the value under the installation's fingerprint key. */
  fingerprint(value: string): string;
  /** At most the first 4 and last 4 characters, fewer for short values (`ghp_…a1B2`). */
  preview(value: string): string;
  /** Both at once. */
  describe(value: string): { fingerprint: string; preview: string };
}

/** Derives a purpose-bound 32-byte sub-key from the master key (HKDF-SHA-256). */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `keyward:${purpose}:v1`, 32));
}

/** Redacted preview: reveals at most a quarter of the value on each side and never more than 4 characters. */
export function redactedPreview(value: string): string {
  const chars = [...value];
  const n = Math.min(4, Math.floor(chars.length / 4));
  if (n === 0) return '…';
  return `${chars.slice(0, n).join('')}…${chars.slice(-n).join('')}`;
}

/** Creates the fingerprinter for an installation from its master key. */
export function createFingerprinter(masterKey: Buffer): Fingerprinter {
  const key = deriveKey(masterKey, 'fingerprint');
  const fingerprint = (value: string): string =>
    createHmac('sha256', key).update(value, 'utf8').digest('hex');
  return {
    fingerprint,
    preview: redactedPreview,
    describe: (value) => ({ fingerprint: fingerprint(value), preview: redactedPreview(value) }),
  };
}

/** A value stored to detect that the installation was started with a different master key. */
export function keyCheckValue(masterKey: Buffer): string {
  return createHmac('sha256', deriveKey(masterKey, 'key-check')).update('keyward').digest('hex');
}

/** Constant-time comparison of two strings (compares SHA-256 digests so lengths never leak through timing). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** SHA-256 hex of a string or buffer (file digests, token hashes). */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
