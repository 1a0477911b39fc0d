/**
 * Broker access tokens: JWTs per RFC 9068 (`typ: at+jwt`), signed with the broker's Ed25519 key, carrying the
 * task, purpose, delegation chain (RFC 8693 `act`), DPoP binding (RFC 9449 `cnf.jkt`) and approval.
 */
import { KeyObject, sign as cryptoSign } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWTPayload } from 'jose';
import { ValidationError } from '../core/errors.js';
import { randomToken128 } from '../core/ids.js';
import type { Clock } from '../core/time.js';
import { systemClock } from '../core/time.js';
import { SIGNING_ALG } from './broker-crypto-keys.js';
import type { SigningKey } from './broker-crypto-keys.js';
import {
  epochSeconds,
  fail,
  guardRemoteResolver,
  precheckJwt,
  typMatches,
  verifyJwtWith,
} from './broker-jwt.js';
import type { JwtFailure, KeyResolver } from './broker-jwt.js';
import type { TokenSigner } from './token-signer.js';

/** The JOSE `typ` of broker access tokens (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** One link of an RFC 8693 §4.1 delegation chain: the actor, and (nested) whoever it acts for in turn. */
export interface ActorClaim {
  sub: string;
  iss?: string;
  /** Set on agents: the client that acted. */
  client_id?: string;
  act?: ActorClaim;
}

/** The claims of a broker access token. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  client_id: string;
  /** Space-delimited scopes (RFC 6749 §3.3, RFC 9068 §2.2.3); absent when none were granted. */
  scope?: string;
  task?: string;
  purpose?: string;
  act?: ActorClaim;
  cnf?: { jkt: string };
  approval?: { id: string; approver: string };
}

/** What a token is minted from. */
export interface MintAccessTokenInput {
  key: Pick<SigningKey, 'kid' | 'privateKey'>;
  issuer: string;
  /** The agent instance (client_credentials) or the user / parent the agent acts for (token exchange). */
  subject: string;
  /** The resource(s) the token is for (RFC 8707); becomes `aud`. */
  audience: string | readonly string[];
  scope: readonly string[];
  ttlSeconds: number;
  clientId: string;
  task?: string;
  purpose?: string;
  /** The RFC 8693 delegation chain, current actor outermost. */
  act?: ActorClaim;
  /** RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 §6.1). */
  cnfJkt?: string;
  approval?: { id: string; approver: string };
  /** Further claims; none may replace a claim listed above. */
  extra?: Record<string, unknown>;
  /** Where the signature is computed (worker threads); default: on the calling thread. */
  signer?: TokenSigner;
}

/** A minted token and the facts the audit log keeps about it (never the token itself). */
export interface MintedAccessToken {
  token: string;
  jti: string;
  issuedAt: string;
  expiresAt: string;
  claims: AccessTokenClaims;
}

/** Why a token was refused. */
export type AccessTokenFailureReason =
  | 'malformed'
  | 'bad-signature'
  | 'alg-not-allowed'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'wrong-type'
  | 'revoked'
  | 'unknown-key'
  /** Remote verification only: the issuer's JWKS could not be fetched. */
  | 'key-set-unavailable';

/** The outcome of verifying an access token. */
export type AccessTokenVerification =
  | { ok: true; claims: AccessTokenClaims; scopes: string[]; kid: string }
  | JwtFailure<AccessTokenFailureReason>;

const RESERVED_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'client_id',
  'scope',
  'task',
  'purpose',
  'act',
  'cnf',
  'approval',
  'may_act',
]);

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_ACT_DEPTH = 32;

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new ValidationError(`access token: ${field} must be a non-empty string`);
  return value;
}

/** The number of actors in an RFC 8693 `act` chain (0 when there is none). */
export function actChainDepth(act: ActorClaim | undefined): number {
  let depth = 0;
  for (let a = act; a !== undefined; a = a.act) depth++;
  return depth;
}

function isActorClaim(value: unknown, depth = 1): value is ActorClaim {
  if (depth > MAX_ACT_DEPTH || typeof value !== 'object' || value === null || Array.isArray(value))
    return false;
  const a = value as Record<string, unknown>;
  if (typeof a.sub !== 'string' || a.sub === '') return false;
  if (a.iss !== undefined && typeof a.iss !== 'string') return false;
  if (a.client_id !== undefined && typeof a.client_id !== 'string') return false;
  return a.act === undefined || isActorClaim(a.act, depth + 1);
}

// Rebuilds the chain from known members only, so no unexpected member rides along into a signed token.
function copyActor(a: ActorClaim): ActorClaim {
  return {
    sub: a.sub,
    ...(a.iss === undefined ? {} : { iss: a.iss }),
    ...(a.client_id === undefined ? {} : { client_id: a.client_id }),
    ...(a.act === undefined ? {} : { act: copyActor(a.act) }),
  };
}

/** A plain copy of the extra claims' own enumerable members (a `__proto__` member stays a member). */
function copyClaims(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(extra)) {
    if (name === '__proto__') {
      Object.defineProperty(out, name, {
        value: extra[name],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[name] = extra[name];
    }
  }
  return out;
}

/** A new token id: 128 random bits, base64url. */
export function newJti(): string {
  return randomToken128();
}

/**
 * Mints a signed access token. Input is trusted (the broker's policy decided it) but checked for shape: bad
 * input is a programming error and throws ValidationError.
 *
 * @example
 * const { token, jti, expiresAt } = await mintAccessToken(
 *   { key, issuer: 'https://keyward.example', subject: 'agt_123', audience: 'https://api.example',
 *     scope: ['tickets:read'], ttlSeconds: 900, clientId: 'agt_123', task: 'triage-42' },
 *   clock,
 * );
 */
export async function mintAccessToken(
  input: MintAccessTokenInput,
  clock: Clock = systemClock,
): Promise<MintedAccessToken> {
  requireText(input.key.kid, 'key.kid');
  const issuer = requireText(input.issuer, 'issuer');
  const subject = requireText(input.subject, 'subject');
  const clientId = requireText(input.clientId, 'clientId');
  const audience = typeof input.audience === 'string' ? [input.audience] : [...input.audience];
  if (audience.length === 0)
    throw new ValidationError('access token: audience must name at least one resource');
  for (let i = 0; i < audience.length; i++) {
    if (typeof audience[i] !== 'string' || audience[i] === '') requireText(audience[i], `audience[${i}]`);
  }
  if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds <= 0) {
    throw new ValidationError('access token: ttlSeconds must be a positive whole number');
  }
  const scopes = [...new Set(input.scope)];
  for (const s of scopes) {
    if (!SCOPE_TOKEN.test(s))
      throw new ValidationError(`access token: scope ${JSON.stringify(s)} is not a valid scope token`);
  }
  if (input.act !== undefined && !isActorClaim(input.act)) {
    throw new ValidationError(
      `access token: act must be a chain of objects with a "sub", at most ${MAX_ACT_DEPTH} deep`,
    );
  }
  if (input.cnfJkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(input.cnfJkt)) {
    throw new ValidationError('access token: cnfJkt must be a base64url SHA-256 JWK thumbprint');
  }
  const extra = input.extra ?? {};
  for (const name of Object.keys(extra)) {
    if (RESERVED_CLAIMS.has(name))
      throw new ValidationError(`access token: extra claim "${name}" would replace a standard claim`);
  }

  const iat = epochSeconds(clock.now());
  const exp = iat + input.ttlSeconds;
  const jti = newJti();
  // Built by assignment in the claims' fixed order, extra claims first. Not `{ ...extra, iss, … }`: on this V8
  // every member added to an object made by a spread costs about a microsecond (a new map each time), which
  // made building the claims half the CPU of minting a token.
  const claims = copyClaims(extra) as AccessTokenClaims;
  claims.iss = issuer;
  claims.sub = subject;
  claims.aud = audience.length === 1 ? audience[0]! : audience;
  claims.exp = exp;
  claims.iat = iat;
  claims.nbf = iat;
  claims.jti = jti;
  claims.client_id = clientId;
  if (scopes.length) claims.scope = scopes.join(' ');
  if (input.task !== undefined) claims.task = requireText(input.task, 'task');
  if (input.purpose !== undefined) claims.purpose = requireText(input.purpose, 'purpose');
  if (input.act !== undefined) claims.act = copyActor(input.act);
  if (input.cnfJkt !== undefined) claims.cnf = { jkt: input.cnfJkt };
  if (input.approval !== undefined) {
    claims.approval = {
      id: requireText(input.approval.id, 'approval.id'),
      approver: requireText(input.approval.approver, 'approval.approver'),
    };
  }
  const token = await signCompactJws(
    accessTokenHeader(input.key.kid),
    claims,
    input.key.privateKey,
    input.signer,
  );
  return {
    token,
    jti,
    issuedAt: new Date(iat * 1000).toISOString(),
    expiresAt: new Date(exp * 1000).toISOString(),
    claims,
  };
}

// The encoded JOSE header of access tokens per signing key: the same text for every token of a key.
const encodedHeaders = new Map<string, string>();
const MAX_ENCODED_HEADERS = 64;

/** BASE64URL of the access-token JOSE header `{ alg, typ, kid }` (made once per kid). */
function accessTokenHeader(kid: string): string {
  let encoded = encodedHeaders.get(kid);
  if (encoded === undefined) {
    if (encodedHeaders.size >= MAX_ENCODED_HEADERS) encodedHeaders.clear();
    const header = { alg: SIGNING_ALG, typ: ACCESS_TOKEN_TYPE, kid };
    encoded = Buffer.from(JSON.stringify(header)).toString('base64url');
    encodedHeaders.set(kid, encoded);
  }
  return encoded;
}

// Signing goes through node:crypto synchronously: WebCrypto's Ed25519 sign (what jose uses) runs on libuv's
// thread pool, and under load the token endpoint spent half its time waiting for it (bench/broker.ts).
// RFC 7515 §7.1 compact serialisation: BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature).
const keyObjects = new WeakMap<CryptoKey, KeyObject>();
async function signCompactJws(
  encodedHeader: string,
  payload: unknown,
  privateKey: CryptoKey,
  signer: TokenSigner | undefined,
): Promise<string> {
  let key = keyObjects.get(privateKey);
  if (!key) {
    key = KeyObject.from(privateKey);
    keyObjects.set(privateKey, key);
  }
  const input = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = signer
    ? await signer.sign(input, key)
    : cryptoSign(null, Buffer.from(input), key).toString('base64url');
  return `${input}.${signature}`;
}

/** Options of verifyAccessToken. */
export interface VerifyAccessTokenOptions {
  /** The broker's public keys: a JWKS, or a key set made once with createAccessTokenKeySet (faster). */
  jwks: JSONWebKeySet | AccessTokenKeySet;
  issuer: string;
  /** When given, `aud` must contain it (a resource server passes its own identifier). */
  audience?: string;
  clock?: Clock;
  /** Allowed clock skew for exp, nbf and iat (default 5 s). */
  leewaySeconds?: number;
  /** Checked last, on an otherwise valid token: true refuses it with `revoked`. */
  isRevoked?: (claims: AccessTokenClaims) => boolean | Promise<boolean>;
}

/** A prepared key set: imports each public key once instead of on every verification. */
export interface AccessTokenKeySet {
  readonly resolve: KeyResolver;
}

/** Prepares the broker's JWKS for repeated verification. */
export function createAccessTokenKeySet(jwks: JSONWebKeySet): AccessTokenKeySet {
  return { resolve: createLocalJWKSet(jwks) };
}

const DEFAULT_LEEWAY_SECONDS = 5;

/**
 * Verifies a broker access token against a local key set. Accepts only EdDSA (RFC 8725 §3.1): `none`, HMAC
 * (also with the public key as secret) and RSA tokens are refused before any key is used. Checks, in order:
 * form, alg, typ (`at+jwt`, RFC 8725 §3.11), kid, signature, iss, aud, nbf, exp, iat, claim types, revocation.
 *
 * @example
 * const result = await verifyAccessToken(token, { jwks, issuer: 'https://keyward.example', audience: resource });
 * if (!result.ok) reply.code(401).header('WWW-Authenticate', `Bearer error="invalid_token"`);
 */
export async function verifyAccessToken(
  token: string,
  options: VerifyAccessTokenOptions,
): Promise<AccessTokenVerification> {
  const keys =
    'resolve' in options.jwks ? options.jwks : createAccessTokenKeySet(options.jwks as JSONWebKeySet);
  return verifyWith(token, keys.resolve, options);
}

async function verifyWith(
  token: string,
  resolve: KeyResolver,
  options: Omit<VerifyAccessTokenOptions, 'jwks'>,
): Promise<AccessTokenVerification> {
  const what = 'access token';
  const pre = precheckJwt(token, [SIGNING_ALG], what);
  if (!pre.ok) return pre;
  if (!typMatches(pre.header.typ, ACCESS_TOKEN_TYPE)) {
    return fail('wrong-type', `${what}: the "typ" header must be "${ACCESS_TOKEN_TYPE}"`);
  }
  if (typeof pre.header.kid !== 'string' || pre.header.kid === '') {
    return fail('malformed', `${what}: the JOSE header has no "kid"`);
  }
  const now = (options.clock ?? systemClock).now();
  const leewaySeconds = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  const verified = await verifyJwtWith(
    token,
    resolve,
    {
      algorithms: [SIGNING_ALG],
      now,
      leewaySeconds,
      issuer: options.issuer,
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
    },
    what,
  );
  if (!verified.ok) {
    // Every broker token has these claims; one without them is not ours to accept.
    return verified.reason === 'missing-claim'
      ? fail('malformed', verified.message)
      : (verified as JwtFailure<AccessTokenFailureReason>);
  }
  const claims = verified.payload;
  if (typeof claims.iat !== 'number' || claims.iat > epochSeconds(now) + leewaySeconds) {
    return fail('not-yet-valid', `${what} was issued in the future (iat)`);
  }
  const shapeError = claimShapeError(claims);
  if (shapeError) return fail('malformed', `${what}: ${shapeError}`);
  const typed = claims as AccessTokenClaims;
  if (options.isRevoked && (await options.isRevoked(typed))) {
    return fail('revoked', `${what} has been revoked`);
  }
  return { ok: true, claims: typed, scopes: typed.scope ? typed.scope.split(' ') : [], kid: pre.header.kid };
}

function claimShapeError(c: JWTPayload): string | null {
  for (const name of ['sub', 'jti', 'client_id'] as const) {
    if (typeof c[name] !== 'string' || c[name] === '')
      return `the "${name}" claim must be a non-empty string`;
  }
  if (typeof c.exp !== 'number') return 'the "exp" claim must be a number';
  if (
    c.scope !== undefined &&
    (typeof c.scope !== 'string' || !c.scope.split(' ').every((s) => SCOPE_TOKEN.test(s)))
  ) {
    return 'the "scope" claim must be space-delimited scope tokens';
  }
  for (const name of ['task', 'purpose'] as const) {
    if (c[name] !== undefined && typeof c[name] !== 'string') return `the "${name}" claim must be a string`;
  }
  if (c.act !== undefined && !isActorClaim(c.act)) return 'the "act" claim is not a valid delegation chain';
  const cnf = c.cnf as { jkt?: unknown } | undefined;
  if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || typeof cnf.jkt !== 'string')) {
    return 'the "cnf" claim must hold a "jkt" thumbprint';
  }
  const approval = c.approval as { id?: unknown; approver?: unknown } | undefined;
  if (
    approval !== undefined &&
    (typeof approval !== 'object' ||
      approval === null ||
      typeof approval.id !== 'string' ||
      typeof approval.approver !== 'string')
  ) {
    return 'the "approval" claim must hold an "id" and an "approver"';
  }
  return null;
}

/** Options of a resource server's verifier that fetches the broker's JWKS. */
export interface RemoteAccessTokenVerifierOptions {
  /** The broker's JWKS URL (`<issuer>/.well-known/jwks.json`). */
  jwksUrl: string | URL;
  issuer: string;
  /** The resource server's own identifier; tokens for other audiences are refused. */
  audience: string;
  clock?: Clock;
  leewaySeconds?: number;
  /** Fetch timeout (default 5 s). */
  timeoutMs?: number;
  /** How long a fetched key set is used before it is fetched again (default 10 min). */
  cacheMaxAgeMs?: number;
  /** After a fetch, how long an unknown kid does not trigger another one (default 30 s). */
  cooldownMs?: number;
}

/**
 * A verifier for resource servers: fetches and caches the broker's JWKS (jose createRemoteJWKSet; an unknown
 * kid triggers one refetch, so a newly rotated key is picked up), then checks tokens like verifyAccessToken.
 *
 * @example
 * const verify = createRemoteAccessTokenVerifier({ jwksUrl: 'https://keyward.example/.well-known/jwks.json',
 *   issuer: 'https://keyward.example', audience: 'https://api.example' });
 * const result = await verify(bearerToken);
 */
export function createRemoteAccessTokenVerifier(
  options: RemoteAccessTokenVerifierOptions,
): (token: string, extra?: Pick<VerifyAccessTokenOptions, 'isRevoked'>) => Promise<AccessTokenVerification> {
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
    timeoutDuration: options.timeoutMs ?? 5000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
  });
  const resolve = guardRemoteResolver(remote);
  return (token, extra) => verifyWith(token, resolve, { ...options, ...extra });
}
