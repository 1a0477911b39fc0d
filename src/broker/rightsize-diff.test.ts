import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines, unifiedDiff } from './rightsize-diff.js';

const labels = { fromLabel: 'a', toLabel: 'b' };

/** Applies an edit script to the old lines, checking that kept and removed lines are really there. */
function apply(a: string[], script: ReturnType<typeof diffLines>): string[] {
  const out: string[] = [];
  let i = 0;
  for (const l of script) {
    if (l.op === '+') out.push(l.text);
    else {
      expect(a[i]).toBe(l.text);
      if (l.op === ' ') out.push(l.text);
      i++;
    }
  }
  expect(i).toBe(a.length);
  return out;
}

describe('diffLines', () => {
  it('gives the shortest script, removals before additions', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'x' },
      { op: ' ', text: 'c' },
    ]);
    expect(diffLines([], ['a'])).toEqual([{ op: '+', text: 'a' }]);
    expect(diffLines(['a'], [])).toEqual([{ op: '-', text: 'a' }]);
    expect(diffLines(['a', 'b'], ['a', 'b'])).toEqual([
      { op: ' ', text: 'a' },
      { op: ' ', text: 'b' },
    ]);
  });

  it('turns the old lines into the new ones with a minimal number of edits (property)', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const script = diffLines(a, b);
        expect(apply(a, script)).toEqual(b);
        // Edits = |a| + |b| − 2·LCS.
        const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
        for (let i = a.length - 1; i >= 0; i--) {
          for (let j = b.length - 1; j >= 0; j--) {
            dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
          }
        }
        const edits = script.filter((l) => l.op !== ' ').length;
        expect(edits).toBe(a.length + b.length - 2 * dp[0]![0]!);
      }),
    );
  });
});

describe('diffLines on very different texts', () => {
  it('falls back to removing every line and adding every line', () => {
    const a = Array.from({ length: 2500 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 2500 }, (_, i) => `b${i}`);
    const script = diffLines(['same', ...a, 'end'], ['same', ...b, 'end']);
    expect(script.map((l) => l.op).join('')).toBe(` ${'-'.repeat(2500)}${'+'.repeat(2500)} `);
    expect(apply(['same', ...a, 'end'], script)).toEqual(['same', ...b, 'end']);
  });
});

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', labels)).toBe('');
  });

  it('writes hunks with three lines of context, joining changes that are close', () => {
    const from = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n') + '\n';
    const to = from.replace('l5\n', '').replace('l10\n', 'l10\nnew\n').replace('l19\n', 'L19\n');
    expect(unifiedDiff(from, to, labels)).toBe(
      [
        '--- a',
        '+++ b',
        '@@ -2,12 +2,12 @@',
        ' l2',
        ' l3',
        ' l4',
        '-l5',
        ' l6',
        ' l7',
        ' l8',
        ' l9',
        ' l10',
        '+new',
        ' l11',
        ' l12',
        ' l13',
        '@@ -16,5 +16,5 @@',
        ' l16',
        ' l17',
        ' l18',
        '-l19',
        '+L19',
        ' l20',
        '',
      ].join('\n'),
    );
  });

  it('writes one-line and empty sides the way GNU diff does', () => {
    expect(unifiedDiff('a\n', 'b\n', labels)).toBe('--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n');
    expect(unifiedDiff('', 'a\n', labels)).toBe('--- a\n+++ b\n@@ -0,0 +1 @@\n+a\n');
    expect(unifiedDiff('a\nb\n', 'a\n', labels)).toBe('--- a\n+++ b\n@@ -1,2 +1 @@\n a\n-b\n');
  });
});
