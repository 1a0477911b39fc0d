import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSecretBox, SecretBoxError } from './secret-box.js';
import { ValidationError } from './errors.js';

const master = Buffer.alloc(32, 7);
const otherMaster = Buffer.alloc(32, 8);

function failure(fn: () => unknown): SecretBoxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SecretBoxError) return err;
    throw err;
  }
  throw new Error('expected a SecretBoxError');
}

/** Replaces part `index` (0 = version … 3 = tag) of a sealed value. */
function withPart(sealed: string, index: number, value: string): string {
  const parts = sealed.split('.');
  parts[index] = value;
  return parts.join('.');
}

describe('secret box', () => {
  it('round-trips text and bytes', () => {
    const box = createSecretBox(master, 'vault');
    const sealed = box.seal('sk-FAKE-upstream-0123456789', 'ups_1');
    expect(box.openText(sealed, 'ups_1')).toBe('sk-FAKE-upstream-0123456789');
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(box.open(box.seal(bytes, 'ups_1'), 'ups_1')).toEqual(bytes);
    expect(box.openText(box.seal('', 'ups_1'), 'ups_1')).toBe('');
  });

  it('writes kw1.<iv>.<ciphertext>.<tag> with a 12-byte IV and a 16-byte tag, and never the plaintext', () => {
    const box = createSecretBox(master, 'vault');
    const sealed = box.seal('sk-FAKE-upstream-0123456789', 'ups_1');
    const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
    expect(version).toBe('kw1');
    expect(rest).toEqual([]);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength('sk-FAKE-upstream-0123456789'.length);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(sealed).not.toContain('upstream');
  });

  it('uses a fresh IV each time, so sealing the same value twice gives different blobs', () => {
    const box = createSecretBox(master, 'vault');
    const a = box.seal('same', 'ups_1');
    const b = box.seal('same', 'ups_1');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('refuses a blob moved to another record (authentication-failed)', () => {
    const box = createSecretBox(master, 'vault');
    const sealed = box.seal('sk-FAKE-secret', 'ups_1');
    const err = failure(() => box.open(sealed, 'ups_2'));
    expect(err.reason).toBe('authentication-failed');
    expect(err.code).toBe('KW_INTERNAL');
    expect(err.message).toContain('"ups_2"');
    expect(err.message).not.toContain('sk-FAKE');
  });

  it('refuses a blob sealed for another purpose (authentication-failed)', () => {
    const sealed = createSecretBox(master, 'vault').seal('x', 'rec_1');
    expect(failure(() => createSecretBox(master, 'signing-keys').open(sealed, 'rec_1')).reason).toBe(
      'authentication-failed',
    );
  });

  it('refuses a blob under a different master key (authentication-failed)', () => {
    const sealed = createSecretBox(master, 'vault').seal('x', 'rec_1');
    expect(failure(() => createSecretBox(otherMaster, 'vault').open(sealed, 'rec_1')).reason).toBe(
      'authentication-failed',
    );
  });

  it('refuses a changed ciphertext, IV or tag (authentication-failed)', () => {
    const box = createSecretBox(master, 'vault');
    const sealed = box.seal('sk-FAKE-secret-value', 'rec_1');
    for (const index of [1, 2, 3]) {
      const bytes = Buffer.from(sealed.split('.')[index]!, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      const tampered = withPart(sealed, index, bytes.toString('base64url'));
      const err = failure(() => box.open(tampered, 'rec_1'));
      expect(err.reason).toBe('authentication-failed');
      expect(err.message).not.toContain('sk-FAKE');
    }
  });

  it('refuses an unknown version (unsupported-version)', () => {
    const box = createSecretBox(master, 'vault');
    const sealed = box.seal('x', 'rec_1');
    const err = failure(() => box.open(withPart(sealed, 0, 'kw2'), 'rec_1'));
    expect(err.reason).toBe('unsupported-version');
    expect(err.message).toBe('sealed value: unsupported format version "kw2" (this build reads kw1)');
    // Something that does not look like a version is not echoed.
    const other = failure(() => box.open(withPart(sealed, 0, 'sk-FAKE'), 'rec_1'));
    expect(other.reason).toBe('unsupported-version');
    expect(other.message).not.toContain('sk-FAKE');
  });

  it('refuses malformed text (malformed)', () => {
    const box = createSecretBox(master, 'vault');
    const sealed = box.seal('x', 'rec_1');
    const cases = [
      '',
      'kw1',
      'kw1.a.b',
      `${sealed}.extra`,
      withPart(sealed, 1, 'AAAA'), // 3-byte IV
      withPart(sealed, 3, 'AAAA'), // 3-byte tag
      withPart(sealed, 2, 'not base64!'),
      withPart(sealed, 1, `${sealed.split('.')[1]}=`), // padding is not canonical base64url
    ];
    for (const text of cases) expect(failure(() => box.open(text, 'rec_1')).reason).toBe('malformed');
  });

  it('requires a record id and a 32-byte master key', () => {
    const box = createSecretBox(master, 'vault');
    expect(() => box.seal('x', '')).toThrow(ValidationError);
    expect(() => box.open(box.seal('x', 'r'), '')).toThrow(ValidationError);
    expect(() => createSecretBox(Buffer.alloc(16), 'vault')).toThrow(
      'the master key must be at least 32 bytes',
    );
  });

  it('round-trips any bytes for any record id, and opens under no other record id (property)', () => {
    const box = createSecretBox(master, 'signing-keys');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (plaintext, recordId, otherId) => {
          const sealed = box.seal(plaintext, recordId);
          expect(box.open(sealed, recordId)).toEqual(Buffer.from(plaintext));
          if (otherId !== recordId) {
            expect(failure(() => box.open(sealed, otherId)).reason).toBe('authentication-failed');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips any text (property)', () => {
    const box = createSecretBox(master, 'vault');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(box.openText(box.seal(text, 'rec'), 'rec')).toBe(text);
      }),
    );
  });

  it('detects any single flipped bit in the IV, ciphertext or tag (property)', () => {
    const box = createSecretBox(master, 'vault');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (plaintext, index, at, bit) => {
          const sealed = box.seal(plaintext, 'rec');
          const bytes = Buffer.from(sealed.split('.')[index]!, 'base64url');
          const i = at % bytes.length;
          bytes[i] = bytes[i]! ^ (1 << bit);
          const err = failure(() => box.open(withPart(sealed, index, bytes.toString('base64url')), 'rec'));
          expect(err.reason).toBe('authentication-failed');
        },
      ),
      { numRuns: 200 },
    );
  });
});
