import { describe, expect, it } from 'vitest';
import { base64Offsets, isoWeek, requiredLiteral } from './sigma-values.js';
import { ev, loadDetection, selection } from './sigma-test-helpers.js';

const b64 = (s: string, enc: BufferEncoding = 'utf8'): string => Buffer.from(s, enc).toString('base64');

/** [name, selection, a record that matches, a record that does not]. */
const CASES: Array<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = [
  ['plain value: whole value, case-insensitive', { f: 'Foo.exe' }, { f: 'fOO.EXE' }, { f: 'foo.exe2' }],
  ['cased', { 'f|cased': 'Foo' }, { f: 'Foo' }, { f: 'foo' }],
  ['contains', { 'f|contains': 'bar' }, { f: 'xxBARyy' }, { f: 'baz' }],
  ['startswith', { 'f|startswith': 'adm_' }, { f: 'ADM_alice' }, { f: 'x_adm_alice' }],
  ['endswith', { 'f|endswith': '\\cmd.exe' }, { f: 'C:\\Windows\\CMD.exe' }, { f: 'cmd.exe.bak' }],
  ['value list: OR', { f: ['a', 'b'] }, { f: 'B' }, { f: 'c' }],
  ['value list of numbers and text', { f: [4769, 'Abc'] }, { f: 4769 }, { f: 476 }],
  ['value list of numbers and text, as text', { f: [4769, 'Abc'] }, { f: 'aBC' }, { f: 'abcd' }],
  ['value list, cased', { 'f|cased': ['Abc', 'Def'] }, { f: 'Def' }, { f: 'def' }],
  ['value list with a wildcard', { f: ['a*', 'b'] }, { f: 'AXY' }, { f: 'xa' }],
  [
    're with a required literal',
    { 'f|re': '.+:assumed-role/aws:.+' },
    { f: 'arn:aws:sts::1:assumed-role/aws:ec2/i-1' },
    { f: 'arn:aws:sts::1:assumed-role/x:ec2' },
  ],
  ['re|i with a required literal', { 'f|re|i': '^abc+d' }, { f: 'ABCCD' }, { f: 'ABD' }],
  [
    'all: AND of values',
    { 'f|contains|all': ['-enc', 'hidden'] },
    { f: 'x -enc y hidden' },
    { f: 'x -enc y' },
  ],
  [
    'all over an array field: each value by any element',
    { 'f|contains|all': ['a1', 'b2'] },
    { f: ['xa1', 'b2y'] },
    { f: ['xa1', 'zz'] },
  ],
  ['exists: true', { 'f|exists': true }, { f: null }, { g: 1 }],
  ['exists: false', { 'f|exists': false }, { g: 1 }, { f: '' }],
  ['neq: none of the values', { 'f|neq': ['a', 'b'] }, { f: 'c' }, { f: 'A' }],
  ['neq: an absent field is not different', { 'f|neq': 'a' }, { f: 'b' }, { g: 'b' }],
  ['windash', { 'f|windash|contains': ' -foo' }, { f: 'x \u2014foo' }, { f: 'x +foo' }],
  ['windash with slash', { 'f|windash|contains': ' -foo' }, { f: 'x /foo' }, { f: 'x foo' }],
  ['re: case-sensitive search', { 'f|re': 'ab+c' }, { f: 'xabbcx' }, { f: 'ABBC' }],
  ['re|i', { 'f|re|i': '^ab+c$' }, { f: 'ABBC' }, { f: 'xabbc' }],
  ['re|m: ^ and $ at lines', { 'f|re|m': '^b$' }, { f: 'a\nb\nc' }, { f: 'a\nbb' }],
  ['re without m: ^ only at the start', { 'f|re': '^b$' }, { f: 'b' }, { f: 'a\nb' }],
  ['re|s: dot matches newline', { 'f|re|s': 'a.b' }, { f: 'a\nb' }, { f: 'a\n\nb' }],
  ['re without s: dot stops at newline', { 'f|re': 'a.b' }, { f: 'axb' }, { f: 'a\nb' }],
  [
    'base64 (case-sensitive: case carries the data)',
    { 'f|base64': 'cmd' },
    { f: b64('cmd') },
    { f: b64('cmd').toLowerCase() },
  ],
  [
    'base64|contains',
    { 'f|base64|contains': 'http://' },
    { f: `xx${b64('http://')}yy` },
    { f: b64('https://') },
  ],
  ['utf16le|base64', { 'f|utf16le|base64': 'cmd' }, { f: 'YwBtAGQA' }, { f: b64('cmd') }],
  ['wide = utf16le', { 'f|wide|base64': 'cmd' }, { f: 'YwBtAGQA' }, { f: 'AGMAbQBk' }],
  ['utf16be|base64', { 'f|utf16be|base64': 'cmd' }, { f: 'AGMAbQBk' }, { f: 'YwBtAGQA' }],
  [
    'utf16|base64: BOM then little endian',
    { 'f|utf16|base64': 'cmd' },
    { f: '//5jAG0AZAA=' },
    { f: 'YwBtAGQA' },
  ],
  ['lt', { 'f|lt': 10 }, { f: 9.5 }, { f: 10 }],
  ['lte', { 'f|lte': 10 }, { f: '10' }, { f: 11 }],
  ['gt', { 'f|gt': 10 }, { f: 11 }, { f: 'eleven' }],
  ['gte', { 'f|gte': 10 }, { f: 10 }, { f: 9 }],
  [
    'minute',
    { 'eventTime|minute': 15 },
    { eventTime: '2024-03-07T22:15:30Z' },
    { eventTime: '2024-03-07T22:16:30Z' },
  ],
  [
    'hour',
    { 'eventTime|hour': 22 },
    { eventTime: '2024-03-07T22:15:30Z' },
    { eventTime: '2024-03-07T21:15:30Z' },
  ],
  [
    'hour|gte',
    { 'eventTime|hour|gte': 20 },
    { eventTime: '2024-03-07T23:00:00Z' },
    { eventTime: '2024-03-07T08:00:00Z' },
  ],
  [
    'day',
    { 'eventTime|day': 7 },
    { eventTime: '2024-03-07T22:15:30Z' },
    { eventTime: '2024-03-08T22:15:30Z' },
  ],
  [
    'week (ISO)',
    { 'eventTime|week': 10 },
    { eventTime: '2024-03-07T22:15:30Z' },
    { eventTime: '2024-03-11T00:00:00Z' },
  ],
  [
    'month',
    { 'eventTime|month': 3 },
    { eventTime: '2024-03-07T22:15:30Z' },
    { eventTime: '2024-04-07T22:15:30Z' },
  ],
  ['year', { 'eventTime|year': 2024 }, { eventTime: '2024-03-07T22:15:30Z' }, { eventTime: 'not a date' }],
  [
    'time part of epoch milliseconds',
    { 't|hour': 22 },
    { t: Date.parse('2024-03-07T22:15:30Z') },
    { t: Date.parse('2024-03-07T02:15:30Z') },
  ],
  ['cidr IPv4', { 'ip|cidr': '10.0.0.0/8' }, { ip: '10.200.3.4' }, { ip: '11.0.0.1' }],
  [
    'cidr IPv4 list',
    { 'ip|cidr': ['192.168.0.0/16', '172.16.0.0/12'] },
    { ip: '172.31.255.255' },
    { ip: '172.32.0.0' },
  ],
  ['cidr IPv6', { 'ip|cidr': '2001:db8::/32' }, { ip: '2001:DB8:0:1::5' }, { ip: '2001:db9::1' }],
  ['cidr: not an IP', { 'ip|cidr': '0.0.0.0/0' }, { ip: '1.2.3.4' }, { ip: 'example.com' }],
  ['cidr|neq', { 'ip|cidr|neq': '10.0.0.0/8' }, { ip: '8.8.8.8' }, { ip: '10.0.0.1' }],
  ['fieldref', { 'a|fieldref': 'b.c' }, { a: 'X', b: { c: 'x' } }, { a: 'x', b: { c: 'y' } }],
  ['fieldref|cased', { 'a|fieldref|cased': 'b' }, { a: 'X', b: 'X' }, { a: 'X', b: 'x' }],
  ['fieldref|neq', { 'a|fieldref|neq': 'b' }, { a: 'x', b: 'y' }, { a: 'x', b: 'X' }],
  [
    'fieldref: an absent field is neither equal nor different',
    { 'a|fieldref|neq': 'b' },
    { a: 'x', b: 'y' },
    { a: 'x' },
  ],
  ['null: absent', { f: null }, {}, { f: '' }],
  ['null: null', { f: null }, { f: null }, { f: 'x' }],
  ['empty string', { f: '' }, { f: '' }, {}],
  ['number: same number or its text', { f: 4769 }, { f: '4769' }, { f: 47690 }],
  ['number: number', { f: 4769 }, { f: 4769 }, { f: '4769.0' }],
  ['number|contains: as text', { 'f|contains': 76 }, { f: 4769 }, { f: 4700 }],
  ['boolean', { f: true }, { f: 'True' }, { f: false }],
  ['wildcard *', { f: 'a*c' }, { f: 'ABBBC' }, { f: 'abcd' }],
  ['wildcard ?', { f: 'a?c' }, { f: 'abc' }, { f: 'abbc' }],
  ['wildcards * and ? together', { f: '*a?c*d' }, { f: 'xxabcyyd' }, { f: 'xxacd' }],
  ['many stars', { f: 'a*b*c*d' }, { f: 'a1b2c3d' }, { f: 'a1c2b3d' }],
  ['escaped \\* is a star', { f: 'a\\*c' }, { f: 'a*c' }, { f: 'abc' }],
  ['escaped \\? is a question mark', { f: 'a\\?c' }, { f: 'a?c' }, { f: 'abc' }],
  ['\\\\* is a backslash then a wildcard', { f: 'a\\\\*' }, { f: 'a\\anything' }, { f: 'a' }],
  ['\\\\\\* is a backslash then a star', { f: 'a\\\\\\*' }, { f: 'a\\*' }, { f: 'a\\x' }],
  ['a lone backslash is itself', { f: 'C:\\Windows' }, { f: 'c:\\windows' }, { f: 'C:Windows' }],
  ['\\\\\\\\ is two backslashes', { f: 'a\\\\\\\\b' }, { f: 'a\\\\b' }, { f: 'a\\b' }],
  ['array field: any element', { f: 'x' }, { f: ['a', 'X'] }, { f: ['a', 'b'] }],
  [
    'nested dotted path',
    { 'userIdentity.type': 'Root' },
    { userIdentity: { type: 'Root' } },
    { userIdentity: { type: 'IAMUser' } },
  ],
  [
    'literal dotted key',
    { 'kubernetes.io/name': 'x' },
    { 'kubernetes.io/name': 'x' },
    { kubernetes: { 'io/name': 'y' } },
  ],
  [
    'object field: any value inside it',
    { 'f|contains': 'Suspended' },
    { f: { b: 'x', c: { Status: 'Suspended' } } },
    { f: { Suspended: 'Enabled' } },
  ],
  ['object field: an empty object has nothing to match', { f: '*' }, { f: { a: '' } }, { f: {} }],
  [
    'object field with neq: no value inside equals',
    { 'f|neq': 'x' },
    { f: { a: 'y', b: ['z'] } },
    { f: { a: 'y', b: ['X'] } },
  ],
];

describe('value modifiers (sigma-appendix-modifiers.md)', () => {
  it.each(CASES)('%s', (_name, sel, yes, no) => {
    const rule = selection(sel);
    expect(rule.matches(ev(yes))).toBe(true);
    expect(rule.matches(ev(no))).toBe(false);
  });

  it('base64offset|contains finds the value at each of the three byte offsets', () => {
    const rule = selection({ 'f|base64offset|contains': 'http://evil' });
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd']) {
      expect(rule.matches(ev({ f: b64(`${prefix}http://evil/x`) }))).toBe(true);
      expect(rule.matches(ev({ f: b64(`${prefix}http://good/x`) }))).toBe(false);
    }
  });

  it('utf16le|base64offset|contains round trip: PowerShell -EncodedCommand text', () => {
    const rule = selection({ 'f|utf16le|base64offset|contains': 'Invoke-Expression' });
    for (const prefix of ['', 'x', 'xy', 'iex; ']) {
      expect(
        rule.matches(ev({ f: b64(`${prefix}Invoke-Expression (New-Object Net.WebClient)`, 'utf16le') })),
      ).toBe(true);
      expect(rule.matches(ev({ f: b64(`${prefix}Invoke-Command`, 'utf16le') }))).toBe(false);
    }
  });

  it('base64offset gives the three shifted forms (the spec appendix example values)', () => {
    expect(base64Offsets(Buffer.from('/bin/bash'))).toEqual(['L2Jpbi9iYXNo', '9iaW4vYmFza', 'vYmluL2Jhc2']);
  });

  it('required literals of regexes (the prefilter) are conservative', () => {
    expect(requiredLiteral('.+:assumed-role/aws:.+')).toBe(':assumed-role/aws:');
    expect(requiredLiteral('abcd?e')).toBe('abc');
    expect(requiredLiteral('abc+')).toBe('abc');
    expect(requiredLiteral('ab{1000}')).toBeNull();
    expect(requiredLiteral('(abcdef)?xy')).toBeNull();
    expect(requiredLiteral('abc|def')).toBeNull();
    expect(requiredLiteral('(?i)abcdef')).toBeNull();
    expect(requiredLiteral('[abcdef]+gh')).toBeNull();
    expect(requiredLiteral('x\\.yzw{2}uvw')).toBe('uvw');
  });

  it('ISO week numbers', () => {
    expect(isoWeek(new Date('2024-01-01T00:00:00Z'))).toBe(1);
    expect(isoWeek(new Date('2020-12-31T00:00:00Z'))).toBe(53);
    expect(isoWeek(new Date('2021-01-03T00:00:00Z'))).toBe(53);
  });

  it('expand: placeholders from the options, wildcards in their values, \\% a literal percent', () => {
    const placeholders = { Administrators: ['root', 'adm_*'] };
    const rule = selection({ 'user|expand': '%Administrators%' }, { placeholders });
    expect(rule.matches(ev({ user: 'ROOT' }))).toBe(true);
    expect(rule.matches(ev({ user: 'adm_bob' }))).toBe(true);
    expect(rule.matches(ev({ user: 'bob' }))).toBe(false);
    const plain = selection({ 'f|expand': '\\%plain%Administrators%' }, { placeholders });
    expect(plain.matches(ev({ f: '%plainroot' }))).toBe(true);
    expect(selection({ f: '%Administrators%' }).matches(ev({ f: '%administrators%' }))).toBe(true);
  });

  it('keywords: a substring of any string value anywhere in the raw record', () => {
    const rule = ruleKeywords(['EvilService', 'svchost.exe -n evil']);
    expect(rule.matches(ev({ a: { b: ['x', 'started evilservice now'] } }))).toBe(true);
    expect(rule.matches(ev({ a: 'SVCHOST.EXE -n evil' }))).toBe(true);
    expect(rule.matches(ev({ EvilService: 1, a: 'nothing' }))).toBe(false);
    expect(rule.matches(ev({ a: 'x' }, { b: 'evilservice' }))).toBe(false);
  });

  it("keywords with '|all': every keyword, each in any value", () => {
    const rule = selection({ '|all': ['OabVirtualDirectory', ' -ExternalUrl '] });
    expect(rule.matches(ev({ a: 'Set-OabVirtualDirectory', b: ['x -ExternalUrl http://x'] }))).toBe(true);
    expect(rule.matches(ev({ a: 'Set-OabVirtualDirectory' }))).toBe(false);
  });

  it('a single keyword (not in a list)', () => {
    const rule = selection('needle');
    expect(rule.matches(ev({ x: ['haystack with NEEDLE'] }))).toBe(true);
    expect(rule.matches(ev({ x: 'haystack' }))).toBe(false);
  });

  it('re|i: matches RE2 case folding even where toLowerCase differs (Kelvin sign, long s)', () => {
    expect(selection({ 'f|re|i': 'kas+k' }).matches(ev({ f: 'x\u212Aa\u017Fsk' }))).toBe(true);
    expect(selection({ 'f|re|i': 'kas+k' }).matches(ev({ f: 'kaxk' }))).toBe(false);
  });

  it('a list mixing maps and keywords is an OR of all of them', () => {
    const rule = selection([{ eventName: 'A' }, 'needle']);
    expect(rule.matches(ev({ eventName: 'a' }))).toBe(true);
    expect(rule.matches(ev({ x: 'haystack with needle' }))).toBe(true);
    expect(rule.matches(ev({ eventName: 'b' }))).toBe(false);
  });

  it('fields come from the raw record first, then the normalized fields', () => {
    const rule = selection({ 'actor.user.uid': 'agt_1' });
    expect(rule.matches(ev({}, { 'actor.user.uid': 'agt_1' }))).toBe(true);
    expect(rule.matches(ev({ actor: { user: { uid: 'other' } } }, { 'actor.user.uid': 'agt_1' }))).toBe(
      false,
    );
  });
});

function ruleKeywords(words: string[]) {
  return selection(words);
}

describe('modifier combinations the engine refuses', () => {
  const REFUSED: Array<[Record<string, unknown>, string]> = [
    [{ 'f|nosuch': 'x' }, "unknown modifier 'nosuch'"],
    [{ 'f|contains|contains': 'x' }, "modifier 'contains' is given twice"],
    [{ 'f|i': 'x' }, "modifier 'i' is a sub-modifier of 're' and must follow it"],
    [{ 'f|contains|startswith': 'x' }, "modifiers 'contains' and 'startswith' cannot be combined"],
    [{ 'f|re|contains': 'x' }, "modifier 'contains' cannot be combined with 're'"],
    [
      { 'f|utf16le': 'x' },
      "modifier 'utf16le' must be followed by 'base64' or 'base64offset' (events are text, not bytes)",
    ],
    [{ 'f|base64|base64offset': 'x' }, "modifiers 'base64' and 'base64offset' cannot be combined"],
    [{ 'f|contains|base64': 'x' }, "'base64' cannot encode a value with wildcards (*x*)"],
    [{ 'f|exists|neq': true }, "modifier 'exists' cannot be combined with other modifiers"],
    [{ 'f|exists': 'yes' }, "modifier 'exists' needs true or false"],
    [{ 'f|gt': '10' }, "modifier 'gt' needs a number"],
    [{ 'f|gt|neq': 10 }, "modifiers 'gt' and 'neq' cannot be combined"],
    [{ 'f|neq|all': ['a', 'b'] }, "modifiers 'neq' and 'all' cannot be combined"],
    [{ 'f|contains|all': 'a' }, "modifier 'all' needs a list of two or more values"],
    [{ 'f|cidr': '10.0.0.0/33' }, "'10.0.0.0/33' is not a CIDR range (e.g. 10.0.0.0/8 or 2001:db8::/32)"],
    [{ 'f|hour': 'ten' }, "modifier 'hour' needs an integer value"],
    [{ 'f|cidr|cased': '10.0.0.0/8' }, "modifier 'cased' applies to strings only"],
    [{ 'f|contains': true }, "modifier 'contains' needs a string or number value"],
    [{ f: ['a', null] }, 'null cannot be part of a value list (use a separate selection)'],
    [{ f: { nested: 1 } }, 'a value must be a string, number, boolean or null'],
    [{ f: [] }, 'empty value list'],
    [{ '|neq': ['a', 'b'] }, "modifier 'neq' needs a field (keyword searches take only string modifiers)"],
  ];
  it.each(REFUSED)('%j is refused', (sel, message) => {
    const result = loadDetection({ sel, condition: 'sel' });
    expect(result.detections).toEqual([]);
    expect(result.errors.map((e) => e.message)).toEqual([message]);
  });
});

describe('IP parsing for cidr', () => {
  it('reads IPv4 dotted quads and refuses anything else', async () => {
    const { ipv4ToNumber } = await import('./sigma-values.js');
    expect(ipv4ToNumber('10.200.3.4')).toBe(0x0ac80304);
    expect(ipv4ToNumber('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4ToNumber('0.0.0.0')).toBe(0);
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1..2.3', '', 'a.b.c.d', '1.2.3.4 ']) {
      expect(ipv4ToNumber(bad)).toBeNull();
    }
  });

  it('reads IPv6 in every form node:net accepts, embedded IPv4 included', async () => {
    const { ipv6ToBigInt } = await import('./sigma-values.js');
    expect(ipv6ToBigInt('::')).toBe(0n);
    expect(ipv6ToBigInt('::1')).toBe(1n);
    expect(ipv6ToBigInt('2001:db8::1')).toBe((0x20010db8n << 96n) | 1n);
    expect(ipv6ToBigInt('2001:DB8:0:0:0:0:0:1')).toBe(ipv6ToBigInt('2001:db8::1'));
    expect(ipv6ToBigInt('::ffff:192.0.2.1')).toBe((0xffffn << 32n) | 0xc0000201n);
    expect(ipv6ToBigInt('fe80::1%eth0')).toBe((0xfe80n << 112n) | 1n);
    expect(ipv6ToBigInt('1.2.3.4')).toBeNull();
    expect(ipv6ToBigInt('2001:db8::g')).toBeNull();
  });
});
