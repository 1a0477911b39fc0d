import { describe, expect, it } from 'vitest';
import { endpointFields, hashId, parseIsoTime, parseTime } from './event-common.js';

const T = Date.parse('2026-05-10T09:01:30.000Z');

describe('parseTime', () => {
  it('reads ISO-8601 with any fraction, offsets with and without colon, and no zone as UTC', () => {
    expect(parseIsoTime('2026-05-10T09:01:30Z')).toBe(T);
    expect(parseIsoTime('2026-05-10T09:01:30.123456789Z')).toBe(T + 123);
    expect(parseIsoTime('2026-05-10T11:01:30+02:00')).toBe(T);
    expect(parseIsoTime('2026-05-10T11:01:30+0200')).toBe(T);
    expect(parseIsoTime('2026-05-10T04:01:30-05')).toBe(T);
    expect(parseIsoTime('2026-05-10 09:01:30')).toBe(T);
    expect(parseIsoTime('2026-05-10T09:01Z')).toBe(T - 30_000);
  });

  it('refuses what is not an ISO date-time, and dates that do not exist', () => {
    for (const bad of [
      'May 10, 2026',
      '2026-05-10',
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      'x',
      '',
    ]) {
      expect(parseIsoTime(bad), bad).toBeNull();
    }
  });

  it('the common UTC forms (read without a regular expression) agree with Date.parse and refuse impossible times', () => {
    for (const ok of [
      '2026-05-10T09:01:30Z',
      '2026-05-10T09:01:30.123Z',
      '2024-02-29T23:59:59Z',
      '2000-02-29T00:00:00.000Z',
    ]) {
      expect(parseIsoTime(ok), ok).toBe(Date.parse(ok));
    }
    for (const bad of [
      '2026-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-05-10T24:00:00Z',
      '2026-05-10T09:60:00Z',
      '2026-00-10T09:00:00Z',
      '2026-05-00T09:00:00Z',
    ]) {
      expect(parseIsoTime(bad), bad).toBeNull();
    }
  });

  it('epoch numbers: auto tells seconds from milliseconds by size; explicit formats are obeyed', () => {
    expect(parseTime(T, 'auto')).toBe(T);
    expect(parseTime(T / 1000, 'auto')).toBe(T);
    expect(parseTime(String(T / 1000), 'auto')).toBe(T);
    expect(parseTime(1778403690.5, 'epoch_s')).toBe(T + 500);
    expect(parseTime(1000, 'epoch_ms')).toBe(1000);
    expect(parseTime(T, 'iso8601')).toBeNull();
    expect(parseTime('2026-05-10T09:01:30Z', 'epoch_ms')).toBeNull();
    expect(parseTime(1e20, 'epoch_ms')).toBeNull();
    expect(parseTime(true)).toBeNull();
    expect(parseTime(null)).toBeNull();
  });
});

describe('hashId and endpointFields', () => {
  it('hashes canonical JSON: key order does not change the id', () => {
    expect(hashId({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(hashId({ a: [1, { c: 3, d: 2 }], b: 1 }));
    expect(hashId({ a: 1 })).toBe('sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });

  it('an IPv4 or IPv6 address is an ip; a host name is a domain', () => {
    expect(endpointFields('2001:db8::1')).toEqual({ 'src_endpoint.ip': '2001:db8::1' });
    expect(endpointFields('192.0.2.1')).toEqual({ 'src_endpoint.ip': '192.0.2.1' });
    expect(endpointFields('AWS Internal')).toEqual({ 'src_endpoint.domain': 'AWS Internal' });
    expect(endpointFields(null)).toEqual({});
  });
});
