import { describe, expect, it } from 'vitest';
import { createCaseGen } from '../secret-case-gen.js';
import { compileRule, matchRule } from '../secret-rule-match.js';
import {
  ALPHA,
  breakAlphabet,
  gitlabCrc,
  hasContextNear,
  isBase64UserPass,
  isGitlabRoutable,
  isJwtWithAlg,
  isSnowflakeSegment,
  jsonSegmentHas,
  keyedRule,
  makeGitlabRoutable,
  prefixedRule,
  uuid,
} from './saas-checks.js';
import { decodeBase64Json } from './rule-kit.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('GitLab routable tokens', () => {
  const g = createCaseGen(3);
  const prefix = ['gl', 'pat-'].join('');

  it('accepts a generated token, versioned or not', () => {
    const payload = g.base64url(40);
    expect(isGitlabRoutable(makeGitlabRoutable(prefix, payload), prefix)).toBe(true);
    expect(isGitlabRoutable(makeGitlabRoutable(prefix, payload, false), prefix)).toBe(true);
  });

  it('lays the token out as payload.version.length+crc, the CRC in base36 over everything before it', () => {
    const payload = g.base64url(30);
    const token = makeGitlabRoutable(prefix, payload);
    const [, version, tail] = token.slice(prefix.length).split('.');
    expect(version).toBe('01');
    expect(parseInt(tail!.slice(0, 2), 36)).toBe(payload.length);
    expect(tail!.slice(2)).toBe(gitlabCrc(token.slice(0, -7)));
    expect(tail!.slice(2)).toMatch(/^[0-9a-z]{7}$/);
  });

  it('rejects a wrong checksum, length field, prefix or layout', () => {
    const token = makeGitlabRoutable(prefix, g.base64url(40));
    const flipped = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    expect(isGitlabRoutable(flipped, prefix)).toBe(false);
    const wrongLen = token.replace(/\.01\.../, '.01.zz');
    expect(isGitlabRoutable(wrongLen, prefix)).toBe(false);
    expect(isGitlabRoutable(token, 'glrt-')).toBe(false);
    expect(isGitlabRoutable(`${prefix}${g.base64url(15)}`, prefix)).toBe(false);
    expect(isGitlabRoutable(`${token}.x`, prefix)).toBe(false);
  });
});

describe('JSON segments and JWTs', () => {
  it('decodes base64 and base64url JSON objects only', () => {
    expect(decodeBase64Json(b64({ a: 1 }))).toEqual({ a: 1 });
    expect(decodeBase64Json(Buffer.from('{"u":"x"}').toString('base64'))).toEqual({ u: 'x' });
    expect(decodeBase64Json(b64([1, 2]))).toBeNull();
    expect(decodeBase64Json(b64('text'))).toBeNull();
    expect(decodeBase64Json('eyJub3QganNvbg')).toBeNull();
    expect(jsonSegmentHas(b64({ iat: 1, url: 'u' }), ['iat', 'url'])).toBe(true);
    expect(jsonSegmentHas(b64({ iat: 1 }), ['iat', 'url'])).toBe(false);
  });

  it('requires three base64url segments and a header with alg', () => {
    const g = createCaseGen(5);
    expect(isJwtWithAlg(g.jwt())).toBe(true);
    expect(isJwtWithAlg(`${b64({ typ: 'JWT' })}.${b64({})}.${g.base64url(16)}`)).toBe(false);
    expect(isJwtWithAlg(`${b64({ alg: 'RS256' })}.${b64({})}`)).toBe(false);
    expect(isJwtWithAlg(`${b64({ alg: 'RS256' })}.a+b.c`)).toBe(false);
  });
});

describe('small decoders', () => {
  it('recognises base64 user:password', () => {
    expect(isBase64UserPass(Buffer.from('bot:s3cret pass').toString('base64'))).toBe(true);
    expect(isBase64UserPass(Buffer.from('no-colon-here').toString('base64'))).toBe(false);
    expect(isBase64UserPass(Buffer.from([0, 1, 2, 58, 200, 201]).toString('base64'))).toBe(false);
  });

  it('recognises a base64url snowflake', () => {
    expect(isSnowflakeSegment(Buffer.from('123456789012345678').toString('base64url'))).toBe(true);
    expect(isSnowflakeSegment(Buffer.from('12345').toString('base64url'))).toBe(false);
    expect(isSnowflakeSegment(Buffer.from('12345678901234567a').toString('base64url'))).toBe(false);
  });

  it('looks for context either side of an offset within the radius', () => {
    const text = `${'.'.repeat(300)}twilio${'.'.repeat(300)}`;
    expect(hasContextNear({ text, offset: 250 }, /twilio/i)).toBe(true);
    expect(hasContextNear({ text, offset: 450 }, /twilio/i)).toBe(true);
    expect(hasContextNear({ text, offset: 600 }, /twilio/i, 100)).toBe(false);
  });

  it('breaks the alphabet of a body and builds UUID-shaped values', () => {
    expect(breakAlphabet('abcdefgh')).toBe('abc#efgh');
    expect(uuid(createCaseGen(1))).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe('rule builders', () => {
  const prefixed = prefixedRule({
    id: 'demo-token',
    title: 'Demo token',
    severity: 'high',
    provider: 'demo',
    type: 'api-key',
    prefix: 'dmo_',
    alphabet: ALPHA.hex,
    len: 32,
    keyName: 'DEMO_TOKEN',
    verifiedFormat: true,
  });
  const keyed = keyedRule({
    id: 'demo-keyed',
    title: 'Demo keyed secret',
    severity: 'medium',
    provider: 'demo',
    type: 'api-key',
    keys: ['demo'],
    keySuffix: 'secret',
    value: '[0-9a-f]{32}',
    gen: (g) => g.hex(16),
    bad: (g) => g.hex(15),
    keyName: 'DEMO_SECRET',
  });

  it('builds flag-free patterns with the prefix as keyword', () => {
    expect(prefixed.pattern.flags).toBe('');
    expect(prefixed.keywords).toEqual(['dmo_']);
    expect(keyed.pattern.flags).toBe('');
    expect(keyed.ignoreCase).toBe(true);
  });

  it('matches the prefixed body exactly, bounded on both sides', () => {
    const g = createCaseGen(9);
    const c = compileRule(prefixed);
    const body = g.hex(16);
    expect(matchRule(c, `x=dmo_${body}`).map((m) => m.secret)).toEqual([`dmo_${body}`]);
    expect(matchRule(c, `x=dmo_${body}a`)).toEqual([]);
    expect(matchRule(c, `x=adm_dmo_${body}`)).toEqual([]);
  });

  it('needs the key fragment and suffix in the same assignment', () => {
    const g = createCaseGen(9);
    const c = compileRule(keyed);
    const v = g.hex(16);
    for (const line of [
      `DEMO_SECRET=${v}`,
      `"demoClientSecret": "${v}"`,
      `demo.secret: '${v}'`,
      `$demo_secret => "${v}"`,
    ]) {
      expect(
        matchRule(c, line).map((m) => m.secret),
        line,
      ).toEqual([v]);
    }
    for (const line of [`DEMO_ID=${v}`, `secret=${v}`, `DEMO_SECRET is ${v}`]) {
      expect(matchRule(c, line), line).toEqual([]);
    }
  });
});
