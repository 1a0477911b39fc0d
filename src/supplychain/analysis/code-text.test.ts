import { describe, expect, it } from 'vitest';
import { prng, shannonEntropy } from '../../core/randomness.js';
import { lineEntropy } from './code-text.js';

describe('lineEntropy', () => {
  it('equals shannonEntropy bit for bit, over code points (astral and lone surrogates included)', () => {
    const rnd = prng(7);
    const samples = ['', 'a', 'aaaa', 'abab', 'hello world', 'x😀y😀\uD800z', 'ßçé'.repeat(9)];
    for (let k = 0; k < 50; k++) {
      let s = '';
      const alphabet = 2 + Math.floor(rnd() * 200);
      for (let i = 0; i < 3000; i++) s += String.fromCodePoint(32 + Math.floor(rnd() * alphabet));
      samples.push(s);
    }
    for (const s of samples) expect(lineEntropy(s)).toBe(shannonEntropy(s));
  });

  it('measures known values and keeps no state between calls', () => {
    expect(lineEntropy('abab')).toBe(1);
    expect(lineEntropy('abcd')).toBe(2);
    expect(lineEntropy('aaaa')).toBe(0);
    expect(lineEntropy('abab')).toBe(1);
  });
});
