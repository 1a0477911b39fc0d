import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeywordMatcher } from './keyword-matcher.js';

function hits(keywords: string[], text: string, engine: 'wasm' | 'js' = 'wasm'): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  createKeywordMatcher(keywords, engine).scan(Buffer.from(text, 'latin1'), (ids, end) => {
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

  it('gives the same hits, in the same order, on the WebAssembly and JavaScript loops (property)', () => {
    const kw = fc.array(fc.stringMatching(/^[a-dA-D_.-]{1,5}$/), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(kw, fc.stringMatching(/^[a-dA-D_. \n-]{0,300}$/), (keywords, text) => {
        const unique = [...new Set(keywords.map((k) => k.toLowerCase()))];
        const record = (engine: 'wasm' | 'js'): string[] => {
          const out: string[] = [];
          createKeywordMatcher(unique, engine).scan(Buffer.from(text, 'latin1'), (ids, end) =>
            out.push(`${end}:${ids.join(',')}`),
          );
          return out;
        };
        expect(record('wasm')).toEqual(record('js'));
      }),
    );
  });

  it('resumes after a full hit buffer and grows its memory for large inputs', () => {
    const matcher = createKeywordMatcher(['a', 'ab', 'key'], 'wasm');
    const reference = createKeywordMatcher(['a', 'ab', 'key'], 'js');
    for (const size of [100_000, 3_000_000]) {
      const bytes = Buffer.from('ab key xa\n'.repeat(size / 10), 'latin1');
      const got: number[] = [];
      const want: number[] = [];
      matcher.scan(bytes, (ids, end) => got.push(end, ...ids));
      reference.scan(bytes, (ids, end) => want.push(end, ...ids));
      expect(got.length).toBeGreaterThan(4096 * 2);
      expect(got).toEqual(want);
    }
    // A smaller input after a larger one still sees only its own bytes.
    const small: number[] = [];
    matcher.scan(Buffer.from('xx key'), (ids, end) => small.push(end, ...ids));
    expect(small).toEqual([5, 2]);
  });

  it('gives the same hits on long inputs, scanned as two streams (property)', () => {
    const kw = fc.array(fc.stringMatching(/^[a-dA-D_.-]{1,6}$/), { minLength: 1, maxLength: 12 });
    const piece = fc.stringMatching(/^[a-dA-D_. \n-]{1,200}$/);
    fc.assert(
      fc.property(
        kw,
        fc.array(piece, { minLength: 1, maxLength: 8 }),
        fc.nat(40),
        (keywords, pieces, cut) => {
          const unique = [...new Set(keywords.map((k) => k.toLowerCase()))];
          let text = pieces.join('');
          while (text.length < 20_000) text += pieces.join('');
          const bytes = Buffer.from(text.slice(cut), 'latin1');
          const record = (engine: 'wasm' | 'js'): string[] => {
            const out: string[] = [];
            createKeywordMatcher(unique, engine).scan(bytes, (ids, end) =>
              out.push(`${end}:${ids.join(',')}`),
            );
            return out;
          };
          expect(record('wasm')).toEqual(record('js'));
        },
      ),
      { numRuns: 60 },
    );
  });
});
