import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UpstreamRoute } from '../../core/broker-types.js';
import {
  authorizeUpstreamCall,
  normalizeProxyPath,
  normalizeProxyQuery,
  routePatternProblem,
} from './upstream-routes.js';

const routes: UpstreamRoute[] = [
  { scope: 'repo:read', methods: ['GET', 'HEAD'], paths: ['/repos/*', '/user'] },
  { scope: 'repo:write', methods: ['POST', 'PATCH'], paths: ['/repos/*/issues', '/repos/*/issues/*'] },
  { scope: 'admin', methods: ['DELETE'], paths: ['/repos/*'] },
  { scope: 'search', methods: ['GET'], paths: ['/search/?'] },
];
const upstream = { name: 'github', routes };

describe('normalizeProxyPath', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['/repos/acme/api', '/repos/acme/api'],
    ['/repos/acme/', '/repos/acme/'],
    ['/repos/%61cme/%7eapi', '/repos/acme/~api'],
    ['/files/a%20b/%c3%a9', '/files/a%20b/%C3%A9'],
    ["/a;b=c/@x:y/!$&'()*+,=", "/a;b=c/@x:y/!$&'()*+,="],
    ['/...', '/...'],
    ['/.well-known/x', '/.well-known/x'],
  ])('accepts %j as %j', (raw, canonical) => {
    expect(normalizeProxyPath(raw)).toEqual({ ok: true, path: canonical });
  });

  it.each([
    ['repos', "the path must start with '/'"],
    ['/repos/../admin', 'the path holds a dot segment (..)'],
    ['/repos/..', 'the path holds a dot segment (..)'],
    ['/repos/./x', 'the path holds a dot segment (.)'],
    ['/repos/%2e%2e/admin', 'the path holds a dot segment (..)'],
    ['/repos/.%2E/admin', 'the path holds a dot segment (..)'],
    ['/repos/..;x=1/admin', 'the path holds a dot segment (..)'],
    ['/repos/x%2F..%2Fadmin', 'the path holds an encoded slash (%2F)'],
    ['/repos/x%2f', 'the path holds an encoded slash (%2F)'],
    ['/repos/x%5C..', 'the path holds an encoded backslash (%5C)'],
    ['/repos\\..\\admin', 'the path holds a backslash'],
    ['/repos/\u0000', 'the path holds NUL'],
    ['/repos/%00', 'the path holds an encoded NUL (%00)'],
    ['/repos/%0a', 'the path holds an encoded control character (%0A)'],
    ['/repos//admin', "the path holds an empty segment ('//')"],
    ['//admin', "the path holds an empty segment ('//')"],
    ['/repos/%252e%252e/admin', 'the path holds an encoded percent sign (%25), which may be decoded twice'],
    ['/repos/%zz', "the path has a '%' not followed by two hex digits"],
    ['/repos/%4', "the path has a '%' not followed by two hex digits"],
    ['/repos/a b', 'the path holds a space'],
    ['/repos/é', 'the path holds a non-ASCII character (send it percent-encoded)'],
    ['/repos/#x', "the path holds '#'"],
    ['/repos?x', "the path holds '?'"],
    ['/' + 'a'.repeat(8192), 'the path is longer than 8192 characters'],
  ])('refuses %j', (raw, message) => {
    expect(normalizeProxyPath(raw)).toEqual({ ok: false, message });
  });

  const pathChars = fc.constantFrom(
    ..."abAZ09-._~!$&'()*+,;=:@/%".split(''),
    '%2e',
    '%2E',
    '%2f',
    '%5c',
    '%25',
    '%41',
    '%c3',
    '..',
    '.',
    '\\',
    '\u0000',
  );
  const rawPaths = fc.array(pathChars, { maxLength: 30 }).map((parts) => `/${parts.join('')}`);

  it('accepts only paths without dot segments, empty segments, encoded slashes or percent signs', () => {
    fc.assert(
      fc.property(rawPaths, (raw) => {
        const r = normalizeProxyPath(raw);
        if (!r.ok) return;
        const segments = r.path.split('/').slice(1);
        segments.forEach((s, i) => {
          expect(s === '' && i < segments.length - 1).toBe(false);
          expect(['.', '..']).not.toContain(s.split(';')[0]);
        });
        expect(r.path).not.toMatch(/%2F|%5C|%25|\\/i);
        expect(r.path).not.toContain('\u0000');
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent, and the URL parser undici uses sends exactly the canonical path', () => {
    fc.assert(
      fc.property(rawPaths, (raw) => {
        const r = normalizeProxyPath(raw);
        if (!r.ok) return;
        expect(normalizeProxyPath(r.path)).toEqual(r);
        expect(new URL(`https://api.example${r.path}`).pathname).toBe(r.path);
        expect(new URL(`https://api.example/base${r.path}`).pathname).toBe(`/base${r.path}`);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('normalizeProxyQuery', () => {
  it('keeps a query, canonicalising its percent-encodings', () => {
    expect(normalizeProxyQuery('q=a%2fb&page=2&x=%7e')).toEqual({ ok: true, path: 'q=a%2Fb&page=2&x=~' });
    expect(normalizeProxyQuery('')).toEqual({ ok: true, path: '' });
  });
  it('refuses characters a query cannot hold', () => {
    expect(normalizeProxyQuery('q=a b')).toEqual({ ok: false, message: 'the query holds a space' });
    expect(normalizeProxyQuery('q=%00')).toEqual({
      ok: false,
      message: 'the query holds an encoded NUL (%00)',
    });
    expect(normalizeProxyQuery('q=%g1')).toEqual({
      ok: false,
      message: "the query has a '%' not followed by two hex digits",
    });
  });
});

describe('routePatternProblem', () => {
  it.each(['/', '/repos/*', '/repos/*/issues/?', '/files/a%20b', '/v1/*'])('accepts %j', (p) => {
    expect(routePatternProblem(p)).toBeNull();
  });
  it.each([
    ['', "must not be empty; '/' is the root"],
    ['repos/*', "must start with '/'"],
    ['/repos/../admin', 'holds a dot segment (..)'],
    ['/repos//x', "holds an empty segment ('//')"],
    ['/repos/%2F*', 'holds an encoded slash (%2F)'],
    ['/repos\\*', 'holds a backslash'],
    [
      '/repos/%61*',
      "must be written in canonical form: '/repos/a*' (unreserved characters not percent-encoded, hex digits upper-case)",
    ],
    [
      '/files/%c3%a9?',
      "must be written in canonical form: '/files/%C3%A9?' (unreserved characters not percent-encoded, hex digits upper-case)",
    ],
  ])('refuses %j', (p, problem) => {
    expect(routePatternProblem(p)).toBe(problem);
  });
});

describe('authorizeUpstreamCall', () => {
  it('allows a call when a granted scope has a route for the method and path', () => {
    expect(
      authorizeUpstreamCall(upstream, { method: 'GET', path: '/repos/acme/api', scopes: ['repo:read'] }),
    ).toEqual({
      ok: true,
      path: '/repos/acme/api',
      route: routes[0],
    });
    expect(
      authorizeUpstreamCall(upstream, {
        method: 'POST',
        path: '/repos/acme/issues',
        scopes: ['x', 'repo:write'],
      }),
    ).toEqual({ ok: true, path: '/repos/acme/issues', route: routes[1] });
  });

  it('matches the canonical path, so an encoded letter is the letter', () => {
    const d = authorizeUpstreamCall(upstream, { method: 'GET', path: '/%75ser', scopes: ['repo:read'] });
    expect(d).toEqual({ ok: true, path: '/user', route: routes[0] });
  });

  it('names the scopes that would allow the call (insufficient scope)', () => {
    expect(
      authorizeUpstreamCall(upstream, { method: 'DELETE', path: '/repos/acme', scopes: ['repo:read'] }),
    ).toEqual({
      ok: false,
      reason: 'insufficient-scope',
      message: 'DELETE /repos/acme on upstream "github" needs the scope "admin"',
      path: '/repos/acme',
      requiredScopes: ['admin'],
    });
    expect(authorizeUpstreamCall(upstream, { method: 'GET', path: '/repos/acme', scopes: [] })).toMatchObject(
      { reason: 'insufficient-scope', requiredScopes: ['repo:read'] },
    );
  });

  it('answers method-not-allowed with the methods any route allows on the path', () => {
    expect(
      authorizeUpstreamCall(upstream, { method: 'PUT', path: '/repos/acme/issues', scopes: ['repo:read'] }),
    ).toEqual({
      ok: false,
      reason: 'method-not-allowed',
      message:
        'PUT /repos/acme/issues on upstream "github" is not allowed; this path allows GET, HEAD, POST, PATCH, DELETE',
      path: '/repos/acme/issues',
      allowedMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    });
  });

  it('compares methods exactly', () => {
    expect(
      authorizeUpstreamCall(upstream, { method: 'get', path: '/user', scopes: ['repo:read'] }),
    ).toMatchObject({
      ok: false,
      reason: 'method-not-allowed',
    });
  });

  it('refuses paths no route covers', () => {
    expect(
      authorizeUpstreamCall(upstream, { method: 'GET', path: '/admin', scopes: ['repo:read', 'admin'] }),
    ).toEqual({
      ok: false,
      reason: 'no-route',
      message: 'no route allows GET /admin on upstream "github"',
      path: '/admin',
    });
    // `/repos/*` needs something after the slash; `?` is exactly one character.
    expect(
      authorizeUpstreamCall(upstream, { method: 'GET', path: '/repos', scopes: ['repo:read'] }),
    ).toMatchObject({
      reason: 'no-route',
    });
    expect(
      authorizeUpstreamCall(upstream, { method: 'GET', path: '/search/ab', scopes: ['search'] }),
    ).toMatchObject({
      reason: 'no-route',
    });
    expect(
      authorizeUpstreamCall(upstream, { method: 'GET', path: '/search/a', scopes: ['search'] }),
    ).toMatchObject({
      ok: true,
    });
  });

  it.each([
    '/repos/../admin',
    '/repos/%2e%2e/admin',
    '/repos/.%2e/admin',
    '/repos/x/..;/admin',
    '/repos/x%2F..%2Fadmin',
    '/repos/x%5C..%5Cadmin',
    '/repos\\..\\admin',
    '/repos//admin',
    '/repos/%252e%252e/admin',
    '/repos/\u0000/admin',
  ])('never lets the traversal %j match /repos/*', (path) => {
    const d = authorizeUpstreamCall(upstream, { method: 'GET', path, scopes: ['repo:read', 'admin'] });
    expect(d).toMatchObject({ ok: false, reason: 'invalid-path' });
  });
});
