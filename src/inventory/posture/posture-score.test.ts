import { describe, expect, it } from 'vitest';
import { openFindingWeights, postureScore } from './posture-score.js';

describe('postureScore', () => {
  it('is 100 without identities or without open findings', () => {
    expect(postureScore([], 0)).toBe(100);
    expect(postureScore([], 5)).toBe(100);
    expect(postureScore([{ identityId: 'a', severity: 'critical', status: 'accepted', count: 3 }], 1)).toBe(
      100,
    );
    expect(postureScore([{ identityId: 'a', severity: 'critical', status: 'resolved', count: 3 }], 1)).toBe(
      100,
    );
  });

  it('weights open findings by severity per identity, capped at 100, and averages over every identity', () => {
    const counts = [
      { identityId: 'a', severity: 'critical' as const, status: 'open' as const, count: 1 },
      { identityId: 'a', severity: 'high' as const, status: 'open' as const, count: 2 },
      { identityId: 'b', severity: 'critical' as const, status: 'open' as const, count: 5 },
      { identityId: 'c', severity: 'low' as const, status: 'open' as const, count: 1 },
      { identityId: 'c', severity: 'info' as const, status: 'open' as const, count: 2 },
    ];
    expect(openFindingWeights(counts)).toEqual(
      new Map([
        ['a', 90],
        ['b', 100],
        ['c', 6],
      ]),
    );
    // (90 + 100 + 6) / 4 identities = 49 → 51.
    expect(postureScore(counts, 4)).toBe(51);
    // Rounded: 100 - 6/4 = 98.5 → 99 (Math.round).
    expect(postureScore(counts.slice(3), 4)).toBe(99);
    expect(postureScore(counts.slice(0, 3), 2)).toBe(5);
  });
});
