/**
 * How an agent proves it is a registered client at the token endpoint: a client secret (kept only as an
 * scrypt hash) or private_key_jwt (RFC 7523 §2.2 / §3, OpenID Connect Core §9), an assertion signed with a key
 * from the client's registered JWKS. Every failure maps to the OAuth error `invalid_client` (RFC 6749 §5.2).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, importJWK } from 'jose';
import type { JSONWebKeySet, JWK } from 'jose';
import { KeywardError, ValidationError } from '../core/errors.js';
import type { ErrorDetail } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import { systemClock } from '../core/time.js';
import {
  epochSeconds,
  hasPrivateMembers,
  precheckJwt,
  typMatches,
  verifyJwtWith,
  withEd25519AlgAliases,
} from './broker-jwt.js';
import type { ReplayCheck } from './dpop.js';

// --- client secrets --------------------------------------------------------------------------------------

/** Client secrets start with this prefix, so secret scanners (ours included) recognise a leaked one. */
export const CLIENT_SECRET_PREFIX = 'kwcs_';

/** scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, OWASP's scrypt baseline). */
export const SCRYPT_PARAMS = { ln: 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const MAX_SECRET_LENGTH = 1024;

/** A new client secret: `kwcs_` and 32 random bytes in base64url. Shown to the user once, stored only hashed. */
export function generateClientSecret(): string {
  return CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

function runScrypt(
  secret: string,
  salt: Buffer,
  params: { ln: number; r: number; p: number },
): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) => {
    scrypt(
      secret,
      salt,
      HASH_BYTES,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

/** Hashes a client secret into `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (PHC string format, unpadded base64). */
export async function hashClientSecret(secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret === '' || secret.length > MAX_SECRET_LENGTH) {
    throw new ValidationError(`client secret must be 1 to ${MAX_SECRET_LENGTH} characters`);
  }
  const salt = randomBytes(SALT_BYTES);
  const hash = await runScrypt(secret, salt, SCRYPT_PARAMS);
  const { ln, r, p } = SCRYPT_PARAMS;
  return `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(hash)}`;
}

interface ParsedHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const PHC =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{22,88})$/;

function parseHash(stored: string): ParsedHash {
  const m = PHC.exec(stored);
  const ln = Number(m?.[1]);
  const r = Number(m?.[2]);
  const p = Number(m?.[3]);
  // Bounds keep a corrupted record from asking for gigabytes of memory.
  if (!m || ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw new KeywardError(
      'KW_INTERNAL',
      'the stored client secret hash is not a supported scrypt PHC string',
    );
  }
  return { ln, r, p, salt: Buffer.from(m[4]!, 'base64'), hash: Buffer.from(m[5]!, 'base64') };
}

let dummyHash: Promise<string> | undefined;

/**
 * Checks a presented client secret against the stored hash in constant time. With `storedHash` null (no such
 * client, or the client has no secret) a dummy hash is checked, so the answer takes as long as for a real
 * client, and false is returned. Throws KeywardError (KW_INTERNAL) when the stored hash is corrupt.
 */
export async function verifyClientSecret(secret: string, storedHash: string | null): Promise<boolean> {
  const stored = storedHash ?? (await (dummyHash ??= hashClientSecret(generateClientSecret())));
  const parsed = parseHash(stored);
  const candidate =
    typeof secret === 'string' && secret !== '' && secret.length <= MAX_SECRET_LENGTH
      ? secret
      : '\u0000invalid';
  const derived = await runScrypt(candidate, parsed.salt, parsed);
  const equal = derived.length === parsed.hash.length && timingSafeEqual(derived, parsed.hash);
  return equal && storedHash !== null && candidate === secret;
}

/** True when a stored hash uses weaker parameters than today's, so it should be replaced on next use. */
export function clientSecretNeedsRehash(storedHash: string): boolean {
  const p = parseHash(storedHash);
  return p.ln < SCRYPT_PARAMS.ln || p.r < SCRYPT_PARAMS.r || p.hash.length < HASH_BYTES;
}

// --- private_key_jwt -------------------------------------------------------------------------------------

/** The client_assertion_type of private_key_jwt (RFC 7523 §2.2). */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Algorithms accepted in client assertions; `Ed25519` is the RFC 9864 name of EdDSA (sent by oauth4webapi). */
export const CLIENT_ASSERTION_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;

/** Why a client assertion was refused. */
export type ClientAssertionFailureReason =
  | 'malformed'
  | 'alg-not-allowed'
  | 'wrong-type'
  | 'unknown-key'
  | 'bad-signature'
  | 'missing-claim'
  | 'wrong-issuer'
  | 'wrong-subject'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid'
  | 'iat-in-future'
  | 'lifetime-too-long'
  | 'replayed';

/** The outcome of checking a client assertion; every failure is `invalid_client`. */
export type ClientAssertionVerification =
  | { ok: true; clientId: string; jti: string; expiresAt: Date }
  | { ok: false; error: 'invalid_client'; reason: ClientAssertionFailureReason; message: string };

/** What a client assertion is checked against. */
export interface VerifyClientAssertionOptions {
  /** The client the assertion must be from (iss = sub = client_id, RFC 7523 §3 items 1–2). */
  clientId: string;
  /** The client's registered public keys. */
  jwks: JSONWebKeySet;
  /** The token endpoint URL; `aud` must contain it or the issuer (RFC 7523 §3 item 3). */
  tokenEndpoint: string;
  /** The broker's issuer identifier. */
  issuer: string;
  checkReplay: ReplayCheck;
  clock?: Clock;
  /** Allowed clock skew (default 5 s). */
  leewaySeconds?: number;
  /** How far in the future `exp` may be (default 300 s): an assertion is short-lived. */
  maxLifetimeSeconds?: number;
}

function refuse(reason: ClientAssertionFailureReason, message: string): ClientAssertionVerification {
  return { ok: false, error: 'invalid_client', reason, message };
}

// RFC 7523 sets no typ; draft-ietf-oauth-rfc7523bis types assertions `client-authentication+jwt`. Any other
// explicit type (an access token, a DPoP proof) is another kind of JWT and refused (RFC 8725 §3.11).
function isAssertionTyp(typ: unknown): boolean {
  return typ === undefined || typMatches(typ, 'jwt') || typMatches(typ, 'client-authentication+jwt');
}

/**
 * Reads, without verifying, the client id an assertion claims to be from, to look up that client's JWKS.
 * Nothing read here is trusted until verifyClientAssertion succeeds.
 */
export function peekClientAssertion(assertion: unknown):
  | { ok: true; clientId: string }
  | {
      ok: false;
      error: 'invalid_client';
      reason: 'malformed' | 'alg-not-allowed' | 'missing-claim';
      message: string;
    } {
  const pre = precheckJwt(assertion, CLIENT_ASSERTION_ALGORITHMS, 'client assertion');
  if (!pre.ok) return { ...pre, error: 'invalid_client' };
  let iss: unknown;
  try {
    iss = decodeJwt(assertion as string).iss;
  } catch {
    return {
      ok: false,
      error: 'invalid_client',
      reason: 'malformed',
      message: 'client assertion: the payload is not a JSON object',
    };
  }
  if (iss === undefined)
    return {
      ok: false,
      error: 'invalid_client',
      reason: 'missing-claim',
      message: 'client assertion has no "iss" claim',
    };
  if (typeof iss !== 'string' || iss === '') {
    return {
      ok: false,
      error: 'invalid_client',
      reason: 'malformed',
      message: 'client assertion: "iss" must be the client id',
    };
  }
  return { ok: true, clientId: iss };
}

/**
 * Verifies a private_key_jwt client assertion (RFC 7523 §3): signature by a key of the client's JWKS with an
 * allowed algorithm, iss = sub = client_id, aud holding the token endpoint or the issuer, exp present and at
 * most `maxLifetimeSeconds` ahead, nbf and iat not in the future, jti present and used once.
 *
 * @example
 * const peek = peekClientAssertion(body.client_assertion);
 * const client = peek.ok && (await store.getAgentByClientId(peek.clientId));
 * const result = await verifyClientAssertion(body.client_assertion, {
 *   clientId: client.clientId, jwks: client.jwks, tokenEndpoint, issuer, clock, checkReplay });
 */
export async function verifyClientAssertion(
  assertion: unknown,
  options: VerifyClientAssertionOptions,
): Promise<ClientAssertionVerification> {
  const what = 'client assertion';
  const pre = precheckJwt(assertion, CLIENT_ASSERTION_ALGORITHMS, what);
  if (!pre.ok) return refuse(pre.reason, pre.message);
  if (!isAssertionTyp(pre.header.typ)) {
    return refuse(
      'wrong-type',
      `${what}: the "typ" header must be absent, "JWT" or "client-authentication+jwt"`,
    );
  }
  let keys;
  try {
    keys = withEd25519AlgAliases(createLocalJWKSet(options.jwks));
  } catch {
    return refuse('unknown-key', `${what}: the client's registered key set is not a valid JWKS`);
  }
  const now = (options.clock ?? systemClock).now();
  const leeway = options.leewaySeconds ?? 5;
  const verified = await verifyJwtWith(
    assertion as string,
    keys,
    {
      algorithms: CLIENT_ASSERTION_ALGORITHMS,
      now,
      leewaySeconds: leeway,
      issuer: options.clientId,
      subject: options.clientId,
      audience: [options.tokenEndpoint, options.issuer],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    },
    what,
  );
  if (!verified.ok) {
    const reason = verified.reason === 'key-set-unavailable' ? 'unknown-key' : verified.reason;
    return refuse(reason, verified.message);
  }
  const claims = verified.payload;
  const nowSeconds = epochSeconds(now);
  const maxLifetime = options.maxLifetimeSeconds ?? 300;
  if (typeof claims.exp !== 'number') return refuse('malformed', `${what}: "exp" must be a number`);
  if (claims.exp > nowSeconds + maxLifetime + leeway) {
    return refuse('lifetime-too-long', `${what}: "exp" is more than ${maxLifetime} s in the future`);
  }
  if (claims.iat !== undefined) {
    if (typeof claims.iat !== 'number') return refuse('malformed', `${what}: "iat" must be a number`);
    if (claims.iat > nowSeconds + leeway)
      return refuse('iat-in-future', `${what} was issued in the future (iat)`);
  }
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti === '' || jti.length > 256) {
    return refuse('malformed', `${what}: "jti" must be a string of 1 to 256 characters`);
  }
  const expiresAt = new Date((claims.exp + leeway + 1) * 1000);
  // RFC 7523 §3 item 7: the jti is used once; scoped by client so clients cannot collide.
  if (!(await options.checkReplay(`client-assertion:${options.clientId}:${jti}`, expiresAt))) {
    return refuse('replayed', `${what} was already used (jti seen before)`);
  }
  return { ok: true, clientId: options.clientId, jti, expiresAt };
}

const KEY_ALG: Record<string, string> = { RSA: 'RS256', EC: 'ES256', OKP: 'EdDSA' };

/**
 * Validates a JWKS a client registers for private_key_jwt: 1 to 20 public signature keys (RSA ≥ 2048 bits,
 * EC P-256, Ed25519), no private or symmetric key material, distinct kids. Throws ValidationError naming each
 * problem; returns a copy holding only the public members.
 */
export async function validateClientJwks(jwks: unknown, where = 'jwks'): Promise<JSONWebKeySet> {
  const details: ErrorDetail[] = [];
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(keys)) {
    throw new ValidationError(`${where}: expected a JSON Web Key Set ({ "keys": [ … ] })`, {
      details: [{ path: `${where}.keys`, message: 'missing or not an array' }],
    });
  }
  if (keys.length === 0 || keys.length > 20)
    details.push({ path: `${where}.keys`, message: 'must hold 1 to 20 keys' });
  const kids = new Set<string>();
  const out: JWK[] = [];
  for (const [i, raw] of keys.entries()) {
    const path = `${where}.keys[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      details.push({ path, message: 'not an object' });
      continue;
    }
    const jwk = raw as Record<string, unknown>;
    if (hasPrivateMembers(jwk)) {
      details.push({
        path,
        message: 'holds private or symmetric key material; register the public key only',
      });
      continue;
    }
    const alg = typeof jwk.alg === 'string' ? jwk.alg : KEY_ALG[String(jwk.kty)];
    if (!alg || !(CLIENT_ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
      details.push({
        path,
        message: `key type or alg not accepted (use ${CLIENT_ASSERTION_ALGORITHMS.join(', ')})`,
      });
      continue;
    }
    if (jwk.use !== undefined && jwk.use !== 'sig')
      details.push({ path: `${path}.use`, message: 'must be "sig"' });
    if (jwk.kid !== undefined) {
      if (typeof jwk.kid !== 'string' || jwk.kid === '')
        details.push({ path: `${path}.kid`, message: 'must be a string' });
      else if (kids.has(jwk.kid))
        details.push({ path: `${path}.kid`, message: `kid "${jwk.kid}" is used twice` });
      else kids.add(jwk.kid);
    }
    try {
      const key = await importJWK(jwk as JWK, alg);
      const bits = (key as { algorithm?: { modulusLength?: number } }).algorithm?.modulusLength;
      if (bits !== undefined && bits < 2048) {
        details.push({ path, message: 'RSA keys must be at least 2048 bits' });
        continue;
      }
    } catch {
      details.push({ path, message: `not a valid ${String(jwk.kty)} public key for ${alg}` });
      continue;
    }
    const copy: JWK = {};
    for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use'] as const) {
      if (typeof jwk[m] === 'string') copy[m] = jwk[m];
    }
    out.push(copy);
  }
  if (details.length) throw new ValidationError(`${where}: the key set cannot be registered`, { details });
  return { keys: out };
}
