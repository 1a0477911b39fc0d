/**
 * Which calls an agent may make through the credential-injecting proxy: each upstream lists, per scope, the
 * methods and path patterns that scope may use. Request paths are brought to one canonical form first, and
 * paths that could mean something else to the upstream than to the matcher (dot segments, encoded slashes,
 * backslashes, NUL, double slashes, double encoding) are refused, so `/repos/../admin` never matches `/repos/*`.
 */
import { matchesPattern } from '../../core/glob-match.js';
import type { Upstream, UpstreamRoute } from '../../core/broker-types.js';

/** The methods a route may list; anything else is never forwarded. */
export const UPSTREAM_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type UpstreamMethod = (typeof UPSTREAM_METHODS)[number];

/** The longest request path the proxy accepts (characters, as sent). */
export const MAX_PROXY_PATH_LENGTH = 8192;

/** A canonical path, or why the path is refused. */
export type PathNormalization = { ok: true; path: string } | { ok: false; message: string };

// RFC 3986 §2.3 unreserved characters: their percent-encoding means the same as the character itself.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// pchar without pct-encoded (RFC 3986 §3.3), plus `/` between segments and `%` (checked separately).
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
// The same for a query (RFC 3986 §3.4): `?` is allowed as well.
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;

/** Describes a character for an error message without echoing anything unprintable. */
function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code === 0) return 'NUL';
  if (code === 0x5c) return 'a backslash';
  if (code < 0x20 || code === 0x7f) return `a control character (0x${code.toString(16).padStart(2, '0')})`;
  if (code === 0x20) return 'a space';
  if (code > 0x7e) return 'a non-ASCII character (send it percent-encoded)';
  return `'${ch}'`;
}

/**
 * Checks percent-encodings and brings them to one form (RFC 3986 §6.2.2: unreserved characters decoded,
 * hex digits upper-case). Refuses encoded `/`, `\`, control characters and `%25`: an upstream that decodes
 * once more would turn `%252e%252e` into `..`.
 */
function canonicalEncoding(text: string, what: 'path' | 'query'): PathNormalization {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
      return { ok: false, message: `the ${what} has a '%' not followed by two hex digits` };
    }
    const code = parseInt(hex, 16);
    if (what === 'path' && (code === 0x2f || code === 0x5c)) {
      return {
        ok: false,
        message: `the path holds an encoded ${code === 0x2f ? 'slash (%2F)' : 'backslash (%5C)'}`,
      };
    }
    if (code === 0) return { ok: false, message: `the ${what} holds an encoded NUL (%00)` };
    if (code < 0x20 || code === 0x7f) {
      return { ok: false, message: `the ${what} holds an encoded control character (%${hex.toUpperCase()})` };
    }
    if (what === 'path' && code === 0x25) {
      return {
        ok: false,
        message: 'the path holds an encoded percent sign (%25), which may be decoded twice',
      };
    }
    const decoded = String.fromCharCode(code);
    out += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return { ok: true, path: out };
}

/**
 * Brings a request path (as sent, after `/proxy/<upstream>`) to its canonical form, or refuses it. The empty
 * path is `/`. Refused: a path not starting with `/`; characters a URI path cannot hold (backslash, NUL, space,
 * control and non-ASCII characters); malformed or forbidden percent-encodings (`%2F`, `%5C`, `%00`, `%25`,
 * control characters); empty segments (`//`, except a trailing slash); dot segments `.` and `..`, also encoded
 * (`%2e%2e`) or followed by parameters (`..;x`, which some servers still treat as `..`).
 *
 * @example
 * normalizeProxyPath('/repos/%61cme/issues'); // { ok: true, path: '/repos/acme/issues' }
 * normalizeProxyPath('/repos/../admin');      // { ok: false, message: 'the path holds a dot segment (..)' }
 */
export function normalizeProxyPath(raw: string): PathNormalization {
  if (typeof raw !== 'string') return { ok: false, message: 'the path must be text' };
  const path = raw === '' ? '/' : raw;
  if (path.length > MAX_PROXY_PATH_LENGTH) {
    return { ok: false, message: `the path is longer than ${MAX_PROXY_PATH_LENGTH} characters` };
  }
  if (!path.startsWith('/')) return { ok: false, message: "the path must start with '/'" };
  if (!PATH_CHARS.test(path)) {
    const bad = [...path].find((c) => !PATH_CHARS.test(c)) ?? '';
    return { ok: false, message: `the path holds ${describeChar(bad)}` };
  }
  const encoded = canonicalEncoding(path, 'path');
  if (!encoded.ok) return encoded;
  const segments = encoded.path.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '' && i < segments.length - 1) {
      return { ok: false, message: "the path holds an empty segment ('//')" };
    }
    const name = segment.split(';', 1)[0];
    if (name === '.' || name === '..') {
      return { ok: false, message: `the path holds a dot segment (${name})` };
    }
  }
  return encoded;
}

/** Checks a query string (without the `?`) and brings its percent-encodings to canonical form. */
export function normalizeProxyQuery(raw: string): PathNormalization {
  if (typeof raw !== 'string') return { ok: false, message: 'the query must be text' };
  if (raw.length > MAX_PROXY_PATH_LENGTH) {
    return { ok: false, message: `the query is longer than ${MAX_PROXY_PATH_LENGTH} characters` };
  }
  if (!QUERY_CHARS.test(raw)) {
    const bad = [...raw].find((c) => !QUERY_CHARS.test(c)) ?? '';
    return { ok: false, message: `the query holds ${describeChar(bad)}` };
  }
  return canonicalEncoding(raw, 'query');
}

/**
 * What is wrong with a route path pattern, or null when it is usable: it must be a path in canonical form
 * (as normalizeProxyPath returns it) in which `*` and `?` are glob characters, so that it can match.
 */
export function routePatternProblem(pattern: string): string | null {
  if (typeof pattern !== 'string') return 'must be text';
  if (pattern === '') return "must not be empty; '/' is the root";
  if (!pattern.startsWith('/')) return "must start with '/'";
  // `?` is a glob character here (one character), not the start of a query: check the rest as a path.
  const checked = normalizeProxyPath(pattern.replaceAll('?', 'x'));
  if (!checked.ok) return checked.message.replace(/^the path /, '');
  // A percent-encoding never spans a `?` (the check above refused `%?`), so the pieces canonicalise alone.
  const canonical = pattern
    .split('?')
    .map((piece) => {
      const c = canonicalEncoding(piece, 'path');
      return c.ok ? c.path : piece;
    })
    .join('?');
  if (canonical !== pattern) {
    return `must be written in canonical form: '${canonical}' (unreserved characters not percent-encoded, hex digits upper-case)`;
  }
  return null;
}

/** The outcome of checking a call against an upstream's routes. */
export type UpstreamCallDecision =
  | {
      ok: true;
      /** The canonical path: what was matched, and what is forwarded. */
      path: string;
      /** The first route (in the upstream's order) of a granted scope that allows the call. */
      route: UpstreamRoute;
    }
  | { ok: false; reason: 'invalid-path'; message: string }
  | {
      ok: false;
      reason: 'insufficient-scope';
      message: string;
      path: string;
      /** Scopes whose routes would allow the call, in the upstream's order, without repeats. */
      requiredScopes: string[];
    }
  | {
      ok: false;
      reason: 'method-not-allowed';
      message: string;
      path: string;
      /** Methods some route allows on this path, in UPSTREAM_METHODS order. */
      allowedMethods: string[];
    }
  | { ok: false; reason: 'no-route'; message: string; path: string };

/** The call to check: the HTTP method as sent, the path after `/proxy/<upstream>`, the token's scopes. */
export interface UpstreamCall {
  method: string;
  path: string;
  scopes: readonly string[];
}

function routeAllowsPath(route: UpstreamRoute, path: string): boolean {
  return route.paths.some((p) => matchesPattern(p, path));
}

/**
 * Decides whether a call may go to the upstream: allowed when a route of one of the granted scopes lists the
 * method (exactly, case-sensitive) and has a path pattern matching the whole canonical path. A refusal says
 * why: the path is unusable, another scope would allow it, the method is not allowed there, or nothing is
 * routed there at all.
 *
 * @example
 * const decision = authorizeUpstreamCall(upstream, { method: 'GET', path: '/repos/acme/api', scopes: ['repo:read'] });
 * if (!decision.ok && decision.reason === 'insufficient-scope') console.log(decision.requiredScopes);
 */
export function authorizeUpstreamCall(
  upstream: Pick<Upstream, 'name' | 'routes'>,
  call: UpstreamCall,
): UpstreamCallDecision {
  const normalized = normalizeProxyPath(call.path);
  if (!normalized.ok) return { ok: false, reason: 'invalid-path', message: normalized.message };
  const path = normalized.path;
  const granted = new Set(call.scopes);
  const where = `${call.method} ${path} on upstream "${upstream.name}"`;

  const forMethodAndPath = upstream.routes.filter(
    (r) => r.methods.includes(call.method) && routeAllowsPath(r, path),
  );
  const allowed = forMethodAndPath.find((r) => granted.has(r.scope));
  if (allowed) return { ok: true, path, route: allowed };

  if (forMethodAndPath.length > 0) {
    const requiredScopes = [...new Set(forMethodAndPath.map((r) => r.scope))];
    return {
      ok: false,
      reason: 'insufficient-scope',
      message: `${where} needs the scope ${requiredScopes.map((s) => `"${s}"`).join(' or ')}`,
      path,
      requiredScopes,
    };
  }
  const methodsOnPath = new Set(
    upstream.routes.filter((r) => routeAllowsPath(r, path)).flatMap((r) => r.methods),
  );
  if (methodsOnPath.size > 0) {
    const allowedMethods = UPSTREAM_METHODS.filter((m) => methodsOnPath.has(m));
    return {
      ok: false,
      reason: 'method-not-allowed',
      message: `${where} is not allowed; this path allows ${allowedMethods.join(', ')}`,
      path,
      allowedMethods,
    };
  }
  return { ok: false, reason: 'no-route', message: `no route allows ${where}`, path };
}
