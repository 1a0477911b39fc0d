import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { constantTimeEqual, createFingerprinter, keyCheckValue, redactedPreview } from './fingerprint.js';

const key = Buffer.alloc(32, 7);

describe('fingerprinter', () => {
  it('is keyed: the same value gives the same fingerprint under one key and a different one under another', () => {
    const a = createFingerprinter(key);
    const b = createFingerprinter(Buffer.alloc(32, 8));
    const v = 'ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234';
    expect(a.fingerprint(v)).toBe(a.fingerprint(v));
    expect(a.fingerprint(v)).toMatch(/^[0-9a-f]{64}$/);
    expect(a.fingerprint(v)).not.toBe(b.fingerprint(v));
  });

  it('never returns the value itself', () => {
    const f = createFingerprinter(key);
    const d = f.describe('sk-FAKE-0123456789abcdef');
    expect(d.preview).toBe('sk-F…cdef');
    expect(JSON.stringify(d)).not.toContain('0123456789');
  });
});

describe('redactedPreview', () => {
  it('shows at most 4 characters on each side', () => {
    expect(redactedPreview('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA…MPLE');
    expect(redactedPreview('12345678')).toBe('12…78');
    expect(redactedPreview('abc')).toBe('…');
    expect(redactedPreview('')).toBe('…');
  });

  it('never reveals more than a quarter of the value on each side (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const p = redactedPreview(s);
        const shown = [...p].length - 1;
        expect(shown).toBeLessThanOrEqual(8);
        expect(shown).toBeLessThanOrEqual(2 * Math.floor([...s].length / 4));
      }),
    );
  });
});

describe('constantTimeEqual', () => {
  it('compares exactly', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

describe('keyCheckValue', () => {
  it('differs between keys and is stable for one key', () => {
    expect(keyCheckValue(key)).toBe(keyCheckValue(Buffer.alloc(32, 7)));
    expect(keyCheckValue(key)).not.toBe(keyCheckValue(Buffer.alloc(32, 9)));
  });
});
