import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeywordMatcher } from './keyword-matcher.js';

function hits(keywords: string[], text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  createKeywordMatcher(keywords).scan(Buffer.from(text, 'latin1'), (ids, end) => {
    for (const id of ids) out.push([id, end]);
  });
  return out.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

function naive(keywords: string[], text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const lower = text.toLowerCase();
  keywords.forEach((k, id) => {
    const kl = k.toLowerCase();
    for (let i = lower.indexOf(kl); i !== -1; i = lower.indexOf(kl, i + 1)) out.push([id, i + kl.length - 1]);
  });
  return out.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

describe('createKeywordMatcher', () => {
  it('finds overlapping keywords and keywords inside others, case-insensitively', () => {
    expect(hits(['he', 'she', 'his', 'hers'], 'uSHErs')).toEqual([
      [0, 3],
      [1, 3],
      [3, 5],
    ]);
    expect(hits(['ghp_', 'AKIA'], 'x=GHP_1 akia')).toEqual([
      [0, 5],
      [1, 11],
    ]);
  });

  it('breaks partial matches on non-ASCII bytes', () => {
    const out: number[] = [];
    createKeywordMatcher(['key']).scan(Buffer.from('kéy key', 'utf8'), (_ids, end) => out.push(end));
    expect(out).toEqual([7]);
  });

  it('refuses empty and non-ASCII keywords', () => {
    expect(() => createKeywordMatcher([''])).toThrow(/printable ASCII/);
    expect(() => createKeywordMatcher(['clé'])).toThrow(/printable ASCII/);
  });

  it('agrees with a naive search (property)', () => {
    const kw = fc.array(fc.stringMatching(/^[a-cA-C_]{1,4}$/), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(kw, fc.stringMatching(/^[a-cA-C_ é]{0,60}$/), (keywords, text) => {
        const unique = [...new Set(keywords.map((k) => k.toLowerCase()))];
        expect(hits(unique, text)).toEqual(naive(unique, text));
      }),
    );
  });
});
