import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  describeTimeWindow,
  describeValue,
  formatDuration,
  formatIp,
  inTimeWindow,
  localClock,
  parseCidr,
  parseClockTime,
  parseDuration,
  parseIp,
  resourceMatches,
  resourceProblem,
  scopeMatches,
  splitScope,
  toErrorDescription,
  type Cidr,
  type TimeWindow,
} from './broker-policy.js';

function cidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(r.message);
  return r.cidr;
}

function ip(text: string) {
  const r = parseIp(text);
  if (!r) throw new Error(`not an address: ${text}`);
  return r;
}

describe('durations', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1h0m5s', 3605],
    ['0s', 0],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '15', '15 m', '15M', 'm', '1.5h', '-5m', '5m1h', '1d', '15min'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );

  it('writes the shortest form that parses back', () => {
    expect(formatDuration(900)).toBe('15m');
    expect(formatDuration(5400)).toBe('1h30m');
    expect(formatDuration(86_400)).toBe('24h');
    expect(formatDuration(61)).toBe('1m1s');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400 }), (s) => {
        expect(parseDuration(formatDuration(s))).toBe(s);
      }),
    );
  });
});

describe('IP addresses', () => {
  it('reads IPv4 and refuses near misses', () => {
    expect(parseIp('10.1.2.3')).toEqual({ version: 4, value: 0x0a010203n });
    for (const bad of [
      '10.1.2',
      '10.1.2.3.4',
      '256.1.1.1',
      '01.1.1.1',
      '1.1.1.-1',
      '1.1.1.1 ',
      '',
      'a.b.c.d',
    ]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('reads IPv6 in every notation', () => {
    expect(parseIp('::1')).toEqual({ version: 6, value: 1n });
    expect(parseIp('::')).toEqual({ version: 6, value: 0n });
    expect(parseIp('2001:DB8::8:800:200C:417A')?.value).toBe(0x20010db80000000000080800200c417an);
    expect(parseIp('::ffff:10.1.2.3')?.value).toBe(0xffff0a010203n);
    expect(parseIp('::10.1.2.3')?.value).toBe(0x0a010203n);
    expect(parseIp('1:2:3:4:5:6:10.1.2.3')?.value).toBe(0x0001000200030004000500060a010203n);
    for (const bad of [
      ':::',
      '1:::2',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'fe80::1%eth0',
      ':1',
      '1:',
      '::ffff:1.2.3',
      '1::2:3:4:5:6:7:8',
      '[::1]',
    ]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('round-trips every IPv4 address through its text', () => {
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        const parsed = ip(text);
        expect(formatIp(parsed)).toBe(text);
      }),
    );
  });

  it('agrees with node:net on generated IPv6 texts and round-trips them (RFC 5952 form)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        expect(isIP(text)).toBe(6);
        const parsed = ip(text);
        expect(parsed.version).toBe(6);
        const canonical = formatIp(parsed);
        expect(parseIp(canonical)).toEqual(parsed);
        expect(formatIp(ip(canonical))).toBe(canonical);
      }),
    );
  });

  it('writes IPv6 per RFC 5952', () => {
    expect(formatIp(ip('2001:0db8:0000:0000:0000:0000:0000:0001'))).toBe('2001:db8::1');
    expect(formatIp(ip('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(ip('2001:0:0:1:0:0:0:1'))).toBe('2001:0:0:1::1');
    expect(formatIp(ip('::ffff:0a01:0203'))).toBe('::ffff:10.1.2.3');
  });
});

describe('CIDRs', () => {
  it('reads networks and says what is wrong with the rest', () => {
    expect(cidr('10.0.0.0/8')).toEqual({ version: 4, base: 0x0a000000n, prefix: 8 });
    expect(cidr('0.0.0.0/0')).toEqual({ version: 4, base: 0n, prefix: 0 });
    expect(cidr('2001:db8::/32')).toEqual({ version: 6, base: 0x20010db8n << 96n, prefix: 32 });
    expect(parseCidr('10.1.0.0/8')).toEqual({
      ok: false,
      message: 'has bits set after the /8 prefix; did you mean 10.0.0.0/8?',
    });
    expect(parseCidr('2001:db8::1/64')).toEqual({
      ok: false,
      message: 'has bits set after the /64 prefix; did you mean 2001:db8::/64?',
    });
    expect(parseCidr('10.1.2.3')).toEqual({
      ok: false,
      message: 'add a prefix length: 10.1.2.3/32 for this one address',
    });
    expect(parseCidr('::1')).toEqual({
      ok: false,
      message: 'add a prefix length: ::1/128 for this one address',
    });
    expect(parseCidr('10.0.0.0/33')).toEqual({
      ok: false,
      message: 'the prefix length must be a whole number from 0 to 32',
    });
    expect(parseCidr('10.0.0.0/08')).toEqual({
      ok: false,
      message: 'the prefix length must be a whole number from 0 to 32',
    });
    expect(parseCidr('10.0.0.0/')).toEqual({
      ok: false,
      message: 'the prefix length must be a whole number from 0 to 32',
    });
    expect(parseCidr('example.com/8')).toEqual({
      ok: false,
      message: 'expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32',
    });
  });

  it('matches addresses, IPv4-mapped IPv6 included', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), ip('10.255.0.1'))).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/8'), ip('11.0.0.1'))).toBe(false);
    expect(cidrContains(cidr('192.168.1.0/24'), ip('192.168.1.255'))).toBe(true);
    expect(cidrContains(cidr('192.168.1.0/24'), ip('192.168.2.0'))).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), ip('203.0.113.9'))).toBe(true);
    expect(cidrContains(cidr('::1/128'), ip('::1'))).toBe(true);
    expect(cidrContains(cidr('::1/128'), ip('::2'))).toBe(false);
    expect(cidrContains(cidr('2001:db8::/32'), ip('2001:db8:ffff::1'))).toBe(true);
    // A dual-stack server reports IPv4 clients as ::ffff:a.b.c.d.
    expect(cidrContains(cidr('10.0.0.0/8'), ip('::ffff:10.1.2.3'))).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/8'), ip('::ffff:11.1.2.3'))).toBe(false);
    expect(cidrContains(cidr('::ffff:0:0/96'), ip('10.1.2.3'))).toBe(true);
    // Not every IPv6 address whose low bits look like 10.x is mapped.
    expect(cidrContains(cidr('10.0.0.0/8'), ip('::10.1.2.3'))).toBe(false);
    expect(cidrContains(cidr('::/0'), ip('10.1.2.3'))).toBe(true);
    expect(cidrContains(cidr('2001:db8::/32'), ip('10.1.2.3'))).toBe(false);
  });

  it('contains exactly the addresses sharing its prefix bits (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, b, prefix) => {
        const base =
          ip(a).value & (prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n));
        const network = cidr(`${formatIp({ version: 4, value: base })}/${prefix}`);
        const shift = BigInt(32 - prefix);
        expect(cidrContains(network, ip(b))).toBe(ip(b).value >> shift === base >> shift);
      }),
    );
  });
});

describe('time windows', () => {
  const office: TimeWindow = {
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    from: '08:00',
    to: '18:00',
    timezone: 'Europe/Berlin',
  };

  it('reads clock times', () => {
    expect(parseClockTime('08:00')).toBe(480);
    expect(parseClockTime('23:59')).toBe(1439);
    expect(parseClockTime('24:00')).toBeNull();
    expect(parseClockTime('24:00', true)).toBe(1440);
    for (const bad of ['8:00', '08:60', '25:00', '0800', '08:00:00'])
      expect(parseClockTime(bad, true), bad).toBeNull();
  });

  it('reads the local clock across daylight saving time', () => {
    // Europe/Berlin is UTC+1 in winter and UTC+2 from the last Sunday of March.
    expect(localClock(new Date('2026-01-13T06:59:00Z'), 'Europe/Berlin')).toEqual({
      day: 'tue',
      minutes: 479,
    });
    expect(localClock(new Date('2026-07-14T06:00:00Z'), 'Europe/Berlin')).toEqual({
      day: 'tue',
      minutes: 480,
    });
    expect(localClock(new Date('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toEqual({
      day: 'sun',
      minutes: 90,
    });
    expect(localClock(new Date('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toEqual({
      day: 'sun',
      minutes: 210,
    });
    expect(localClock(new Date('2026-01-12T00:00:00Z'), 'UTC')).toEqual({ day: 'mon', minutes: 0 });
  });

  it('includes from and excludes to', () => {
    expect(inTimeWindow(office, new Date('2026-01-13T06:59:59Z'))).toBe(false); // Tue 07:59 Berlin
    expect(inTimeWindow(office, new Date('2026-01-13T07:00:00Z'))).toBe(true); // Tue 08:00
    expect(inTimeWindow(office, new Date('2026-01-13T16:59:59Z'))).toBe(true); // Tue 17:59
    expect(inTimeWindow(office, new Date('2026-01-13T17:00:00Z'))).toBe(false); // Tue 18:00
    expect(inTimeWindow(office, new Date('2026-07-14T06:30:00Z'))).toBe(true); // Tue 08:30 summer time
    expect(inTimeWindow(office, new Date('2026-01-17T10:00:00Z'))).toBe(false); // Sat 11:00
  });

  it('runs past midnight when from is after to, counting the night from its first day', () => {
    const night: TimeWindow = { days: ['fri'], from: '22:00', to: '06:00', timezone: 'UTC' };
    expect(inTimeWindow(night, new Date('2026-01-16T21:59:00Z'))).toBe(false); // Fri 21:59
    expect(inTimeWindow(night, new Date('2026-01-16T22:00:00Z'))).toBe(true); // Fri 22:00
    expect(inTimeWindow(night, new Date('2026-01-17T05:59:00Z'))).toBe(true); // Sat 05:59, Friday's night
    expect(inTimeWindow(night, new Date('2026-01-17T06:00:00Z'))).toBe(false); // Sat 06:00
    expect(inTimeWindow(night, new Date('2026-01-16T05:00:00Z'))).toBe(false); // Fri 05:00 is Thursday's night
    expect(inTimeWindow(night, new Date('2026-01-17T22:30:00Z'))).toBe(false); // Sat 22:30
  });

  it('covers a whole day with 00:00-24:00', () => {
    const sunday: TimeWindow = { days: ['sun'], from: '00:00', to: '24:00', timezone: 'UTC' };
    expect(inTimeWindow(sunday, new Date('2026-01-18T00:00:00Z'))).toBe(true);
    expect(inTimeWindow(sunday, new Date('2026-01-18T23:59:59Z'))).toBe(true);
    expect(inTimeWindow(sunday, new Date('2026-01-19T00:00:00Z'))).toBe(false);
  });

  it('describes windows with day ranges', () => {
    expect(describeTimeWindow(office)).toBe('mon-fri 08:00-18:00 Europe/Berlin');
    expect(describeTimeWindow({ ...office, days: ['sun', 'mon', 'wed', 'thu'] })).toBe(
      'mon,wed,thu,sun 08:00-18:00 Europe/Berlin',
    );
    expect(describeTimeWindow({ ...office, days: ['sat', 'sun', 'tue'] })).toBe(
      'tue,sat,sun 08:00-18:00 Europe/Berlin',
    );
    expect(describeTimeWindow({ ...office, days: ['mon', 'tue', 'wed', 'fri'] })).toBe(
      'mon-wed,fri 08:00-18:00 Europe/Berlin',
    );
  });
});

describe('scopes and resources', () => {
  it('splits requested scopes in order without repeats', () => {
    expect(splitScope('repo:read  issues:write repo:read')).toEqual(['repo:read', 'issues:write']);
    expect(splitScope(['a', 'b c', 'a'])).toEqual(['a', 'b', 'c']);
    expect(splitScope('')).toEqual([]);
  });

  it('matches scope patterns', () => {
    expect(scopeMatches('issues:*', 'issues:write')).toBe(true);
    expect(scopeMatches('issues:*', 'repo:write')).toBe(false);
    expect(scopeMatches('repo:read', 'repo:read')).toBe(true);
    expect(scopeMatches('repo:read', 'repo:readx')).toBe(false);
    expect(scopeMatches('*', 'anything')).toBe(true);
  });

  it('matches resource patterns part by part, so * in the host never crosses a /', () => {
    const p = 'https://*.internal.example/*';
    expect(resourceMatches(p, 'https://billing.internal.example/v1')).toBe(true);
    expect(resourceMatches(p, 'https://a.b.internal.example/')).toBe(true);
    expect(resourceMatches(p, 'https://billing.internal.example')).toBe(false);
    expect(resourceMatches(p, 'https://evil.example/.internal.example/x')).toBe(false);
    expect(resourceMatches(p, 'https://evil.example?.internal.example/x')).toBe(false);
    expect(resourceMatches(p, 'http://billing.internal.example/v1')).toBe(false);
    expect(resourceMatches('https://api.github.com', 'https://api.github.com')).toBe(true);
    expect(resourceMatches('https://api.github.com', 'https://api.github.com/')).toBe(false);
    expect(resourceMatches('https://api.github.com/repos/*', 'https://api.github.com/repos/a/b')).toBe(true);
    expect(resourceMatches('*', 'urn:anything')).toBe(true);
    expect(resourceMatches('urn:keyward:*', 'urn:keyward:reports')).toBe(true);
    expect(resourceMatches('urn:keyward:*', 'https://urn:keyward:x')).toBe(false);
  });

  it('says what is wrong with a requested resource (RFC 8707)', () => {
    expect(resourceProblem('https://api.github.com')).toBeNull();
    expect(resourceProblem('urn:keyward:reports')).toBeNull();
    expect(resourceProblem('')).toBe(
      'no resource given; name the API the token is for with the resource parameter',
    );
    expect(resourceProblem('api.github.com')).toBe(
      'the resource must be an absolute URI such as https://api.example.com (RFC 8707)',
    );
    expect(resourceProblem('https://api.github.com/#x')).toBe(
      'the resource must not contain a fragment (RFC 8707)',
    );
    expect(resourceProblem('https://user:pw@api.github.com')).toBe(
      'the resource must not contain a user name or password',
    );
    expect(resourceProblem('https://a b')).toBe('the resource contains whitespace or control characters');
  });

  it('keeps quoted values and descriptions within the characters error_description allows', () => {
    expect(describeValue('ok value')).toBe('ok value');
    expect(describeValue('a"b\\c\u00e9\n')).toBe('a?b?c??');
    expect(describeValue('x'.repeat(150))).toBe(`${'x'.repeat(97)}...`);
    expect(toErrorDescription('say "hi" \u2014 now')).toBe("say 'hi' ? now");
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(toErrorDescription(s)).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
        expect(describeValue(s)).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
      }),
    );
  });
});
