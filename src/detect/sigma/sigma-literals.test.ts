import { describe, expect, it } from 'vitest';
import { detectionLiterals, valueLiteral } from './sigma-literals.js';

/** The literal lists of a detection's clauses (fields left out), or null. */
const lits = (detection: unknown): string[][] | null =>
  detectionLiterals(detection)?.map((c) => c.literals) ?? null;

describe('valueLiteral', () => {
  it('quotes an equality value, opens or closes the quote for startswith/endswith, none for contains', () => {
    expect(valueLiteral('CreateUser', null)).toBe('"createuser"');
    expect(valueLiteral('Get', 'startswith')).toBe('"get');
    expect(valueLiteral('Trail', 'endswith')).toBe('trail"');
    expect(valueLiteral('Mozilla/', 'contains')).toBe('mozilla/');
  });

  it('leaves unquoted what a boolean could stand for, and refuses what a number could print as', () => {
    expect(valueLiteral('True', null)).toBe('true');
    expect(valueLiteral('als', 'startswith')).toBe('als');
    expect(valueLiteral('123', null)).toBeNull();
    expect(valueLiteral('1e3', null)).toBeNull();
    expect(valueLiteral('-1.5', 'contains')).toBeNull();
    expect(valueLiteral('10.0.0.1x', null)).toBe('"10.0.0.1x"');
  });

  it('refuses wildcards, escapes, quotes, non-ASCII, empty text and non-strings', () => {
    for (const v of ['Get*', 'a?c', 'a\\b', 'say "hi"', 'Kelvin\u212A', 'é', '', 'tab\there'])
      expect(valueLiteral(v, null)).toBeNull();
    expect(valueLiteral(5, null)).toBeNull();
    expect(valueLiteral(true, null)).toBeNull();
    expect(valueLiteral(null, null)).toBeNull();
  });
});

describe('detectionLiterals', () => {
  it('reads a clause per required field of a selection, values as alternatives', () => {
    expect(
      lits({
        sel: { eventName: ['CreateUser', 'CreateAccessKey'], errorCode: 'AccessDenied' },
        condition: 'sel',
      }),
    ).toEqual([['"createaccesskey"', '"createuser"'], ['"accessdenied"']]);
    expect(detectionLiterals({ sel: { eventName: 'DeleteTrail' }, condition: 'sel' })).toEqual([
      { fields: ['eventName'], literals: ['"deletetrail"'] },
    ]);
  });

  it('reads contains, startswith, endswith, cased and all; each value of |all is a clause', () => {
    expect(
      lits({
        sel: {
          'userAgent|contains': ['Mozilla', 'Chrome/'],
          'userIdentity.arn|startswith|cased': 'arn:aws:iam::1:user/svc',
          'eventName|endswith': 'Trail',
          'requestParameters|contains|all': ['prod', 'secret'],
        },
        condition: 'sel',
      }),
    ).toEqual([['chrome/', 'mozilla'], ['"arn:aws:iam::1:user/svc'], ['trail"'], ['prod'], ['secret']]);
  });

  it('reads a regex literal and an IPv4 CIDR prefix; none for IPv6, short prefixes, flags with k or s', () => {
    expect(lits({ sel: { 'secretId|re': '^prod/app/secret-4[0-9]$' }, condition: 'sel' })).toEqual([
      ['prod/app/secret-4'],
    ]);
    expect(
      lits({ sel: { 'sourceIPAddress|cidr': ['203.0.113.0/24', '10.0.0.0/8'] }, condition: 'sel' }),
    ).toEqual([['"10.', '"203.0.113.']]);
    expect(lits({ sel: { 'ip|cidr': '10.1.2.3' }, condition: 'sel' })).toEqual([['"10.1.2.']]);
    expect(lits({ sel: { 'ip|cidr': ['10.0.0.0/8', '2001:db8::/32'] }, condition: 'sel' })).toEqual([]);
    expect(lits({ sel: { 'ip|cidr': '0.0.0.0/4' }, condition: 'sel' })).toEqual([]);
    expect(lits({ sel: { 'x|re|i': 'masked' }, condition: 'sel' })).toEqual([]);
    expect(lits({ sel: { 'x|re|i': 'abcdef' }, condition: 'sel' })).toEqual([['abcdef']]);
    expect(lits({ sel: { 'x|re': 'a|b' }, condition: 'sel' })).toEqual([]);
  });

  it('gives no clause for modifiers it cannot read, wildcards, null, numbers and empty lists', () => {
    for (const sel of [
      { 'x|exists': true },
      { 'x|gt': 5 },
      { 'x|windash|contains': '-foo' },
      { 'x|base64': 'abc' },
      { 'x|neq': 'abc' },
      { 'x|fieldref': 'y' },
      { 'x|expand': '%list%' },
      { x: 'Get*' },
      { x: ['abc', null] },
      { x: 5 },
      { x: [] },
      { x: 'Kelvin\u212A' },
    ]) {
      expect(lits({ sel, condition: 'sel' })).toEqual([]);
    }
  });

  it('drops what `not` says, keeps pairwise unions for `or`, everything for `and`', () => {
    expect(
      lits({
        a: { eventName: 'A1' },
        b: { eventName: 'B1' },
        f: { eventName: 'C1' },
        condition: 'a and not f',
      }),
    ).toEqual([['"a1"']]);
    expect(
      lits({
        a: { eventName: 'A1', errorCode: 'Err1' },
        b: { eventName: 'B1' },
        condition: 'a or b',
      }),
    ).toEqual([
      ['"a1"', '"b1"'],
      ['"b1"', '"err1"'],
    ]);
    expect(lits({ a: { eventName: 'A1' }, b: { awsRegion: 'R1' }, condition: 'all of them' })).toEqual([
      ['"a1"'],
      ['"r1"'],
    ]);
    expect(lits({ a1: { eventName: 'A1' }, a2: { eventName: 'A2' }, condition: '1 of a*' })).toEqual([
      ['"a1"', '"a2"'],
    ]);
    // A list of maps: one of them.
    expect(lits({ sel: [{ eventName: 'A1' }, { eventName: 'B1' }], condition: 'sel' })).toEqual([
      ['"a1"', '"b1"'],
    ]);
    // `a or (anything without a clause)` requires nothing.
    expect(lits({ a: { eventName: 'A1' }, k: ['keyword'], condition: 'a or k' })).toEqual([]);
    // Two conditions: either.
    expect(lits({ a: { eventName: 'A1' }, b: { eventName: 'B1' }, condition: ['a', 'b'] })).toEqual([
      ['"a1"', '"b1"'],
    ]);
  });

  it('keeps at most 16 clauses, the fewest literals first', () => {
    const a = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`fa${i}`, `va${i}`]));
    const b = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`fb${i}`, [`vb${i}`, `wb${i}`]]));
    const out = lits({ a, b, condition: 'a or b' })!;
    expect(out).toHaveLength(16);
    expect(out.every((c) => c.length === 3)).toBe(true);
  });

  it('is null for a detection it cannot read', () => {
    expect(detectionLiterals(null)).toBeNull();
    expect(detectionLiterals({ sel: { a: 'b' } })).toBeNull();
    expect(detectionLiterals({ sel: { a: 'b' }, condition: 'sel and (' })).toBeNull();
    expect(detectionLiterals({ sel: { a: 'b' }, condition: 5 })).toBeNull();
  });
});
