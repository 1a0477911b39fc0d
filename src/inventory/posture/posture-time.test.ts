import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { timeMs, wholeDays } from './posture-time.js';

describe('timeMs', () => {
  it('agrees with Date.parse on canonical timestamps', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0100-01-01T00:00:00.000Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (d) => timeMs(d.toISOString()) === d.getTime(),
      ),
      { numRuns: 5000 },
    );
  });

  it('falls back to Date.parse for other forms and returns null for nothing or garbage', () => {
    expect(timeMs('2025-06-01')).toBe(Date.parse('2025-06-01'));
    expect(timeMs('2025-06-01T12:00:00+02:00')).toBe(Date.parse('2025-06-01T10:00:00.000Z'));
    expect(timeMs('2025-02-30T00:00:00.000Z')).toBe(Date.parse('2025-02-30T00:00:00.000Z') || null);
    expect(timeMs('2025-13-01T00:00:00.000Z')).toBeNull();
    expect(timeMs('2025-0a-01T00:00:00.000Z')).toBeNull();
    expect(timeMs('not a date')).toBeNull();
    expect(timeMs('')).toBeNull();
    expect(timeMs(null)).toBeNull();
    expect(timeMs(undefined)).toBeNull();
  });

  it('never disagrees with Date.parse on near-canonical strings', () => {
    const digit = fc.constantFrom(...'0123456789');
    const near = fc
      .array(digit, { minLength: 17, maxLength: 17 })
      .map(
        (d) =>
          `${d.slice(0, 4).join('')}-${d[4]}${d[5]}-${d[6]}${d[7]}T${d[8]}${d[9]}:${d[10]}${d[11]}:${d[12]}${d[13]}.${d[14]}${d[15]}${d[16]}Z`,
      );
    fc.assert(
      fc.property(near, (s) => {
        const t = Date.parse(s);
        return timeMs(s) === (Number.isNaN(t) ? null : t);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('wholeDays', () => {
  it('floors towards the past', () => {
    expect(wholeDays(0, 86_400_000 * 2 - 1)).toBe(1);
    expect(wholeDays(86_400_000, 0)).toBe(-1);
  });
});
