import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canMatchWithPrefix, matchesPattern } from './glob-match.js';

/** Reference: textbook dynamic programming over (pattern prefix, value prefix), written independently. */
function referenceMatch(pattern: string, value: string): boolean {
  const m = pattern.length;
  const n = value.length;
  const dp: boolean[][] = Array.from({ length: m + 1 }, () => new Array<boolean>(n + 1).fill(false));
  dp[0]![0] = true;
  for (let i = 1; i <= m; i++) {
    const pc = pattern[i - 1];
    for (let j = 0; j <= n; j++) {
      if (pc === '*') dp[i]![j] = dp[i - 1]![j]! || (j > 0 && dp[i]![j - 1]!);
      else if (j > 0) dp[i]![j] = dp[i - 1]![j - 1]! && (pc === '?' || pc === value[j - 1]);
    }
  }
  return dp[m]![n]!;
}

// Small alphabets make matches (and near misses) frequent.
const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', ':', '/'), maxLength: 12 });
const patternArb = fc.string({ unit: fc.constantFrom('a', 'b', ':', '/', '*', '?'), maxLength: 10 });

describe('matchesPattern', () => {
  it('matches ARN-style examples', () => {
    expect(matchesPattern('arn:aws:s3:::acme-*', 'arn:aws:s3:::acme-prod')).toBe(true);
    expect(matchesPattern('arn:aws:s3:::acme-*', 'arn:aws:s3:::acme-prod/a/b.txt')).toBe(true);
    expect(matchesPattern('arn:aws:s3:::acme-*', 'arn:aws:s3:::other')).toBe(false);
    expect(matchesPattern('arn:aws:iam::*:role/ci-?', 'arn:aws:iam::123456789012:role/ci-1')).toBe(true);
    expect(matchesPattern('arn:aws:iam::*:role/ci-?', 'arn:aws:iam::123456789012:role/ci-12')).toBe(false);
    expect(matchesPattern('github:acme/*', 'github:acme/api')).toBe(true);
    expect(matchesPattern('GitHub:acme/*', 'github:acme/api')).toBe(false);
    expect(matchesPattern('', '')).toBe(true);
    expect(matchesPattern('', 'a')).toBe(false);
    expect(matchesPattern('**', '')).toBe(true);
  });

  it('agrees with a reference implementation', () => {
    fc.assert(
      fc.property(patternArb, valueArb, (p, v) => matchesPattern(p, v) === referenceMatch(p, v)),
      { numRuns: 3000 },
    );
  });

  it('matches a value against itself when it has no wildcards, and `*` matches anything', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        const literal = v.replace(/[*?]/g, 'x');
        return matchesPattern(literal, literal) && matchesPattern('*', v);
      }),
    );
  });

  it('still matches after replacing any slice of the value with `*` or one character with `?`', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.nat(), fc.nat(), (raw, a, b) => {
        const v = raw.replace(/[*?]/g, '_');
        const i = v.length === 0 ? 0 : a % (v.length + 1);
        const j = i + (v.length === 0 ? 0 : b % (v.length - i + 1));
        const starred = `${v.slice(0, i)}*${v.slice(j)}`;
        const questioned = i < v.length ? `${v.slice(0, i)}?${v.slice(i + 1)}` : v;
        return matchesPattern(starred, v) && matchesPattern(questioned, v);
      }),
    );
  });

  it('handles pathological patterns without backtracking blow-up', () => {
    const value = 'a'.repeat(20_000);
    const pattern = `${'a*'.repeat(200)}b`;
    const started = Date.now();
    expect(matchesPattern(pattern, value)).toBe(false);
    expect(matchesPattern(`${'*a'.repeat(200)}`, value)).toBe(true);
    expect(canMatchWithPrefix(pattern, value)).toBe(true);
    // Generous bound: an exponential matcher would not finish at all.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('canMatchWithPrefix', () => {
  it('tells whether a pattern can match something under a prefix', () => {
    expect(canMatchWithPrefix('k8s:prod/secrets/*', 'k8s:prod/')).toBe(true);
    expect(canMatchWithPrefix('k8s:prod/secrets/*', 'k8s:staging/')).toBe(false);
    expect(canMatchWithPrefix('github:acme/api', 'github:acme/')).toBe(true);
    expect(canMatchWithPrefix('github:acme', 'github:acme/')).toBe(false);
    expect(canMatchWithPrefix('*', 'anything/')).toBe(true);
  });

  it('is true exactly when the pattern matches the prefix followed by some suffix', () => {
    fc.assert(
      fc.property(patternArb, valueArb, valueArb, (p, prefix, suffix) => {
        // Witness direction: a concrete match implies the prefix check.
        if (referenceMatch(p, prefix + suffix)) return canMatchWithPrefix(p, prefix);
        return true;
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(patternArb, valueArb, (p, prefix) => {
        // Completeness: some suffix over the pattern's own literals (or empty) must then match.
        if (!canMatchWithPrefix(p, prefix)) return true;
        const tail = p.replace(/\?/g, 'a').replace(/\*/g, '');
        for (let k = 0; k <= tail.length; k++) {
          if (referenceMatch(p, prefix + tail.slice(k))) return true;
        }
        return false;
      }),
      { numRuns: 3000 },
    );
  });
});
