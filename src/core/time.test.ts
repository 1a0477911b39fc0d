import { describe, expect, it } from 'vitest';
import { daysBetween, toIsoOrNull } from './time.js';

describe('toIsoOrNull', () => {
  it('normalises export timestamps and "never" markers', () => {
    expect(toIsoOrNull('2026-03-01T10:00:00+00:00')).toBe('2026-03-01T10:00:00.000Z');
    expect(toIsoOrNull('N/A')).toBeNull();
    expect(toIsoOrNull('no_information')).toBeNull();
    expect(toIsoOrNull('')).toBeNull();
    expect(toIsoOrNull('not a date')).toBeNull();
    expect(toIsoOrNull(1_700_000_000)).toBe('2023-11-14T22:13:20.000Z');
    expect(toIsoOrNull(null)).toBeNull();
  });
});

describe('daysBetween', () => {
  it('counts whole days', () => {
    expect(daysBetween('2026-01-01T00:00:00Z', '2026-01-31T12:00:00Z')).toBe(30);
    expect(daysBetween('2026-01-31T00:00:00Z', '2026-01-01T00:00:00Z')).toBe(-30);
  });
});
