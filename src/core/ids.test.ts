import { describe, expect, it } from 'vitest';
import { newId, newSequentialId, randomToken128 } from './ids.js';

describe('ids', () => {
  it('newId is the prefix, an underscore and 16 base-32 characters, never repeated', () => {
    const ids = Array.from({ length: 5000 }, () => newId('evt'));
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-v]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("newSequentialId has newId's form, writes the sequence number first and sorts like it", () => {
    const seqs = [1, 2, 31, 32, 33, 1000, 65_535, 1_000_000, 2 ** 40 + 7, 2 ** 50 - 1];
    const ids = seqs.map((n) => newSequentialId('evt', n));
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-v]{16}$/);
    expect(ids[0]!.slice(4, 14)).toBe('0000000001');
    expect(ids[3]!.slice(4, 14)).toBe('0000000010');
    expect(ids[9]!.slice(4, 14)).toBe('vvvvvvvvvv');
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 2000 }, (_, i) => newSequentialId('evt', i + 1))).size).toBe(2000);
  });

  it('newSequentialId refuses what is not a sequence number below 2^50', () => {
    for (const bad of [0, -1, 1.5, 2 ** 50, Number.NaN]) {
      expect(() => newSequentialId('evt', bad)).toThrow(RangeError);
    }
  });

  it('randomToken128 is 22 base64url characters (128 bits), never repeated across pool refills', () => {
    // 5,000 × 16 bytes spans about twenty 4 KiB pool refills, interleaved with newId.
    const tokens = Array.from({ length: 5000 }, (_, i) => {
      if (i % 3 === 0) newId('x');
      return randomToken128();
    });
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(Buffer.from(tokens[0]!, 'base64url')).toHaveLength(16);
  });

  it('randomToken128 draws roughly uniform bits', () => {
    let ones = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      for (const byte of Buffer.from(randomToken128(), 'base64url')) {
        for (let b = byte; b > 0; b >>= 1) ones += b & 1;
      }
    }
    // 512,000 bits: the share of ones is within 1% of one half with overwhelming probability.
    expect(Math.abs(ones / (n * 128) - 0.5)).toBeLessThan(0.01);
  });
});
