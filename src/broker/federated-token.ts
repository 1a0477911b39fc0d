/**
 * Federated workload login: an agent presents a JWT its platform issued (GitHub Actions OIDC, a Kubernetes
 * service-account token, any OIDC issuer) instead of a static secret. The token is verified against the
 * issuer's JWKS, then its claims are matched against the claims the agent was registered with.
 */
import { createLocalJWKSet, createRemoteJWKSet } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import { ValidationError } from '../core/errors.js';
import { matchesPattern } from '../core/glob-match.js';
import type { ErrorDetail } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import { systemClock } from '../core/time.js';
import {
  epochSeconds,
  fail,
  guardRemoteResolver,
  precheckJwt,
  typMatches,
  verifyJwtWith,
  withEd25519AlgAliases,
} from './broker-jwt.js';
import type { JwtFailure, KeyResolver } from './broker-jwt.js';

/** GitHub Actions' OIDC issuer. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** Signature algorithms accepted from workload issuers by default (never `none` or a MAC). */
export const FEDERATED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
] as const;

/** A trusted workload-token issuer and what its tokens must say. */
export interface FederatedIssuerConfig {
  /** The exact `iss` of its tokens. */
  issuer: string;
  /** What `aud` must contain (one of these). */
  audience: string | readonly string[];
  /** The issuer's public keys: a JWKS object, or its URL (https; http only on a loopback address, for tests). */
  jwks: JSONWebKeySet | string | URL;
  /**
   * Claims the token must carry, each matched by a Keyward glob (src/core/glob-match.ts: `*` any run of
   * characters, `?` one character, anything else itself), e.g. `repo:acme/*:ref:refs/heads/main`; a list
   * means any of its patterns. A name starting with `/` is a JSON Pointer (RFC 6901) into the claims,
   * for nested claims such as `/kubernetes.io/namespace`.
   */
  boundClaims?: Readonly<Record<string, string | readonly string[]>>;
  algorithms?: readonly string[];
  /** When set, tokens whose `iat` is older than this are refused (`too-old`). */
  maxTokenAgeSeconds?: number;
}

/** Why a workload token was refused. */
export type FederatedFailureReason =
  | 'malformed'
  | 'alg-not-allowed'
  | 'wrong-type'
  | 'unknown-key'
  | 'bad-signature'
  | 'missing-claim'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid'
  | 'too-old'
  | 'claim-mismatch'
  | 'key-set-unavailable';

/** The outcome of verifying a workload token. */
export type FederatedVerification =
  | { ok: true; issuer: string; subject: string; claims: JWTPayload }
  | (JwtFailure<FederatedFailureReason> & { claim?: string });

/** Options of the verifier itself (not of the issuer). */
export interface FederatedVerifierOptions {
  clock?: Clock;
  /** Allowed clock skew (default 5 s). */
  leewaySeconds?: number;
  /** JWKS fetch timeout (default 5 s). */
  timeoutMs?: number;
  /** How long a fetched JWKS is used before it is fetched again (default 10 min). */
  cacheMaxAgeMs?: number;
  /** After a fetch, how long an unknown kid does not trigger another one (default 30 s). */
  cooldownMs?: number;
}

/** A verifier for one issuer; keeps that issuer's fetched JWKS cached between calls. */
export interface FederatedTokenVerifier {
  readonly issuer: string;
  verify(token: string): Promise<FederatedVerification>;
}

function readPointer(claims: JWTPayload, pointer: string): unknown {
  let node: unknown = claims;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key))
      return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function readClaim(claims: JWTPayload, name: string): unknown {
  if (name.startsWith('/')) return readPointer(claims, name);
  return Object.hasOwn(claims, name) ? claims[name] : undefined;
}

const shown = (v: string): string => JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);

function checkBoundClaims(
  claims: JWTPayload,
  bound: Readonly<Record<string, string | readonly string[]>>,
): (JwtFailure<'missing-claim' | 'claim-mismatch'> & { claim: string }) | null {
  for (const [name, spec] of Object.entries(bound)) {
    const patterns = typeof spec === 'string' ? [spec] : spec;
    const value = readClaim(claims, name);
    if (value === undefined) {
      return {
        ...fail(
          'missing-claim',
          `workload token has no "${name}" claim, which this issuer's binding requires`,
        ),
        claim: name,
      };
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      return {
        ...fail('claim-mismatch', `workload token: the "${name}" claim is not a single value`),
        claim: name,
      };
    }
    const text = String(value);
    if (!patterns.some((p) => matchesPattern(p, text))) {
      return {
        ...fail(
          'claim-mismatch',
          `workload token: "${name}" is ${shown(text)}, expected ${patterns.map(shown).join(' or ')}`,
        ),
        claim: name,
      };
    }
  }
  return null;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function validateConfig(config: FederatedIssuerConfig): URL | JSONWebKeySet {
  const details: ErrorDetail[] = [];
  if (typeof config.issuer !== 'string' || config.issuer === '')
    details.push({ path: 'issuer', message: 'required' });
  const audiences = typeof config.audience === 'string' ? [config.audience] : [...(config.audience ?? [])];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
    details.push({ path: 'audience', message: 'one or more non-empty strings required' });
  }
  for (const [name, spec] of Object.entries(config.boundClaims ?? {})) {
    const patterns = typeof spec === 'string' ? [spec] : spec;
    if (name === '' || name === '/') details.push({ path: 'boundClaims', message: 'a claim name is empty' });
    if (!Array.isArray(patterns) && typeof spec !== 'string') {
      details.push({ path: `boundClaims.${name}`, message: 'must be a string or a list of strings' });
    } else if (patterns.length === 0 || patterns.some((p) => typeof p !== 'string' || p === '')) {
      details.push({ path: `boundClaims.${name}`, message: 'patterns must be non-empty strings' });
    }
  }
  for (const alg of config.algorithms ?? []) {
    if (!(FEDERATED_ALGORITHMS as readonly string[]).includes(alg) && alg !== 'Ed25519') {
      details.push({
        path: 'algorithms',
        message: `"${alg}" is not an accepted asymmetric signature algorithm`,
      });
    }
  }
  let jwks: URL | JSONWebKeySet = config.jwks as JSONWebKeySet;
  if (typeof config.jwks === 'string' || config.jwks instanceof URL) {
    try {
      jwks = new URL(config.jwks);
      if (jwks.protocol !== 'https:' && !(jwks.protocol === 'http:' && LOOPBACK.has(jwks.hostname))) {
        details.push({
          path: 'jwks',
          message: 'the JWKS URL must use https (http only on a loopback address)',
        });
      }
    } catch {
      details.push({ path: 'jwks', message: 'not a URL' });
    }
  } else if (typeof config.jwks !== 'object' || config.jwks === null || !Array.isArray(config.jwks.keys)) {
    details.push({ path: 'jwks', message: 'expected a JSON Web Key Set or its URL' });
  }
  if (details.length) {
    throw new ValidationError(`federated issuer ${config.issuer || '(unnamed)'}: invalid configuration`, {
      code: 'KW_INVALID_CONFIG',
      details,
    });
  }
  return jwks;
}

/**
 * Creates the verifier for one configured issuer. Throws ValidationError (KW_INVALID_CONFIG) on a bad
 * configuration. A URL key set is fetched on first use and cached; a token with an unknown kid triggers one
 * refetch (jose createRemoteJWKSet), so key rotation at the issuer is picked up.
 *
 * @example
 * const github = createFederatedTokenVerifier({
 *   issuer: GITHUB_ACTIONS_ISSUER, audience: 'https://keyward.example',
 *   jwks: 'https://token.actions.githubusercontent.com/.well-known/jwks',
 *   boundClaims: { sub: 'repo:acme/*:ref:refs/heads/main', repository_owner: 'acme' } });
 * const result = await github.verify(token);
 */
export function createFederatedTokenVerifier(
  config: FederatedIssuerConfig,
  options: FederatedVerifierOptions = {},
): FederatedTokenVerifier {
  const jwks = validateConfig(config);
  let resolve: KeyResolver;
  if (jwks instanceof URL) {
    resolve = withEd25519AlgAliases(
      guardRemoteResolver(
        createRemoteJWKSet(jwks, {
          timeoutDuration: options.timeoutMs ?? 5000,
          cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
          cooldownDuration: options.cooldownMs ?? 30_000,
        }),
      ),
    );
  } else {
    try {
      resolve = withEd25519AlgAliases(createLocalJWKSet(jwks));
    } catch (cause) {
      throw new ValidationError(`federated issuer ${config.issuer}: jwks is not a valid JSON Web Key Set`, {
        code: 'KW_INVALID_CONFIG',
        cause,
      });
    }
  }
  const algorithms = config.algorithms ?? FEDERATED_ALGORITHMS;
  const audience = typeof config.audience === 'string' ? [config.audience] : [...config.audience];
  const clock = options.clock ?? systemClock;
  const leeway = options.leewaySeconds ?? 5;

  const verify = async (token: string): Promise<FederatedVerification> => {
    const what = 'workload token';
    const pre = precheckJwt(token, algorithms, what);
    if (!pre.ok) return pre;
    // Workload tokens are typed `JWT` or not at all; an explicitly typed JWT (at+jwt, dpop+jwt…) is something else.
    if (pre.header.typ !== undefined && !typMatches(pre.header.typ, 'jwt')) {
      return fail('wrong-type', `${what}: the "typ" header must be absent or "JWT"`);
    }
    const now = clock.now();
    const verified = await verifyJwtWith(
      token,
      resolve,
      {
        algorithms,
        now,
        leewaySeconds: leeway,
        issuer: config.issuer,
        audience,
        requiredClaims: ['iss', 'aud', 'exp', 'sub'],
      },
      what,
    );
    if (!verified.ok) {
      if (verified.reason === 'wrong-subject') return fail('malformed', verified.message);
      return verified as JwtFailure<FederatedFailureReason>;
    }
    const claims = verified.payload;
    if (typeof claims.sub !== 'string' || claims.sub === '')
      return fail('malformed', `${what}: "sub" must be a non-empty string`);
    const nowSeconds = epochSeconds(now);
    if (claims.iat !== undefined) {
      if (typeof claims.iat !== 'number') return fail('malformed', `${what}: "iat" must be a number`);
      if (claims.iat > nowSeconds + leeway)
        return fail('not-yet-valid', `${what} was issued in the future (iat)`);
      if (
        config.maxTokenAgeSeconds !== undefined &&
        claims.iat < nowSeconds - config.maxTokenAgeSeconds - leeway
      ) {
        return fail('too-old', `${what} was issued more than ${config.maxTokenAgeSeconds} s ago`);
      }
    } else if (config.maxTokenAgeSeconds !== undefined) {
      return fail('missing-claim', `${what} has no "iat" claim`);
    }
    const mismatch = checkBoundClaims(claims, config.boundClaims ?? {});
    if (mismatch) return mismatch;
    return { ok: true, issuer: config.issuer, subject: claims.sub, claims };
  };

  return { issuer: config.issuer, verify };
}
