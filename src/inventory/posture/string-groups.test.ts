import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keyHash, repeatedKeys } from './string-groups.js';

/** Reference grouping with a Map. */
function reference(keys: readonly string[]): number[][] {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  return [...groups.values()].filter((g) => g.length > 1).sort((a, b) => a[0]! - b[0]!);
}

describe('repeatedKeys', () => {
  it('returns only repeated keys, members ascending, groups by first position', () => {
    const keys = ['b', 'a', 'c', 'a', 'b', 'a', 'd'];
    expect(repeatedKeys(keys.length, (k) => keys[k]!)).toEqual([
      [0, 4],
      [1, 3, 5],
    ]);
    expect(repeatedKeys(0, () => '')).toEqual([]);
  });

  it('agrees with a Map-based grouping, including keys whose hashes collide', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 40 }), { maxLength: 200 }),
        (keys) => {
          expect(repeatedKeys(keys.length, (k) => keys[k]!)).toEqual(reference(keys));
        },
      ),
    );
  });

  it('keeps keys apart that differ only in the middle (equal hashes are confirmed by comparison)', () => {
    const keys = ['x'.repeat(16) + 'A' + 'y'.repeat(16), 'x'.repeat(16) + 'B' + 'y'.repeat(16)];
    expect(keyHash(keys[0]!)).toBe(keyHash(keys[1]!));
    expect(repeatedKeys(keys.length, (k) => keys[k]!)).toEqual([]);
    expect(repeatedKeys(3, (k) => keys[k % 2]!)).toEqual([[0, 2]]);
  });
});
