/**
 * DPoP proof checking (RFC 9449): the proof JWT a client sends in the `DPoP` header to show it holds the key a
 * token is (or will be) bound to. Pure: the replay cache and the clock come in as inputs.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, decodeJwt, importJWK } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { constantTimeEqual } from '../core/fingerprint.js';
import type { Clock } from '../core/time.js';
import { systemClock } from '../core/time.js';
import { epochSeconds, hasPrivateMembers, mapJoseError, precheckJwt, typMatches } from './broker-jwt.js';

/** The JOSE `typ` of DPoP proofs (RFC 9449 §4.2). */
export const DPOP_PROOF_TYPE = 'dpop+jwt';

/**
 * Asymmetric signature algorithms accepted in proofs (RFC 9449 §4.3 check 5: never `none`, never a MAC).
 * `Ed25519` is the fully-specified name of EdDSA over Ed25519 (RFC 9864) that oauth4webapi sends.
 */
export const DPOP_ALGORITHMS = [
  'EdDSA',
  'Ed25519',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
] as const;

/**
 * Records a one-time identifier until `expiresAt`. Resolves true when the id is new (now recorded) and false
 * when it was seen before (a replay). Ids are namespaced by the caller (`dpop:<jkt>:<jti>`, `client-assertion:…`).
 */
export type ReplayCheck = (id: string, expiresAt: Date) => Promise<boolean>;

/** Why a proof was refused. */
export type DpopFailureReason =
  | 'malformed'
  | 'wrong-type'
  | 'alg-not-allowed'
  | 'missing-jwk'
  | 'private-key-in-jwk'
  | 'invalid-jwk'
  | 'bad-signature'
  | 'missing-claim'
  | 'htm-mismatch'
  | 'htu-mismatch'
  | 'nonce-required'
  | 'nonce-mismatch'
  | 'iat-too-old'
  | 'iat-in-future'
  | 'ath-mismatch'
  | 'replayed';

/** The OAuth error a refused proof answers with: `use_dpop_nonce` for nonce problems (RFC 9449 §8, §9). */
export type DpopError = 'invalid_dpop_proof' | 'use_dpop_nonce';

/** The outcome of checking a proof. */
export type DpopVerification =
  | { ok: true; jkt: string; jti: string; iat: number; jwk: JWK }
  | { ok: false; error: DpopError; reason: DpopFailureReason; message: string };

/** The request a proof must match, and the limits it is checked against. */
export interface VerifyDpopOptions {
  /** The request's HTTP method. */
  htm: string;
  /** The request's URI as the server sees it (query and fragment are ignored). */
  htu: string | URL;
  /** The access token sent with the proof; when given, the proof must carry its hash (`ath`). */
  accessToken?: string;
  clock?: Clock;
  /** How old a proof may be (default 60 s). */
  maxAgeSeconds?: number;
  /** How far in the future `iat` may be (default 5 s). */
  futureSkewSeconds?: number;
  /** When the server requires a nonce: the value(s) it currently accepts. */
  nonce?: string | readonly string[];
  checkReplay: ReplayCheck;
  algorithms?: readonly string[];
}

const MAX_JTI_LENGTH = 256;

/** RFC 7638 SHA-256 thumbprint of a public JWK (the value of `cnf.jkt`, RFC 9449 §6.1). */
export async function computeJkt(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

/** `ath`: base64url of the SHA-256 of the access token's ASCII bytes (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * The form htu values are compared in (RFC 9449 §4.3 check 9, RFC 3986 §6.2.2 and §6.2.3): scheme and host
 * lower-cased, default port dropped, empty path as `/`, dot segments removed, percent-encoding normalised,
 * query and fragment dropped. Null when the value is not an http(s) URL.
 */
export function normalizeHtu(value: string | URL): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

function refuse(reason: DpopFailureReason, message: string): DpopVerification {
  const error: DpopError =
    reason === 'nonce-required' || reason === 'nonce-mismatch' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
  return { ok: false, error, reason, message };
}

async function importProofKey(jwk: Record<string, unknown>, alg: string): Promise<CryptoKey | string> {
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'its "use" must be "sig"';
  if (jwk.alg !== undefined && jwk.alg !== alg) return 'its "alg" differs from the proof\'s';
  try {
    const key = await importJWK(jwk as JWK, alg);
    if (key instanceof Uint8Array || key.type !== 'public') return 'it is not a public key';
    const { modulusLength } = key.algorithm as { modulusLength?: number };
    if (modulusLength !== undefined && modulusLength < 2048) return 'RSA keys must be at least 2048 bits';
    return key;
  } catch {
    return `it is not a valid key for ${alg}`;
  }
}

/**
 * Checks a DPoP proof against the request it came with, following RFC 9449 §4.3: form, typ, alg, the embedded
 * public key, signature, required claims, htm, htu, nonce, iat window, ath, and finally the jti replay cache
 * (only proofs that pass every other check are recorded). Returns the key's thumbprint to bind or compare with
 * the token's `cnf.jkt`.
 *
 * @example
 * const proof = await verifyDpopProof(request.headers.dpop, {
 *   htm: 'POST', htu: 'https://keyward.example/oauth/token', clock, checkReplay: store.recordReplay });
 * if (!proof.ok) return oauthError(400, proof.error, proof.message);
 */
export async function verifyDpopProof(
  proofJwt: unknown,
  options: VerifyDpopOptions,
): Promise<DpopVerification> {
  const what = 'DPoP proof';
  const algorithms = options.algorithms ?? DPOP_ALGORITHMS;
  const pre = precheckJwt(proofJwt, algorithms, what);
  if (!pre.ok) return refuse(pre.reason, pre.message);
  const proof = proofJwt as string;
  const { header } = pre;
  const alg = header.alg!;

  if (!typMatches(header.typ, DPOP_PROOF_TYPE)) {
    return refuse('wrong-type', `${what}: the "typ" header must be "${DPOP_PROOF_TYPE}"`);
  }
  const jwk = header.jwk as unknown;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    return refuse('missing-jwk', `${what}: the "jwk" header with the public key is missing`);
  }
  const jwkFields = jwk as Record<string, unknown>;
  if (hasPrivateMembers(jwkFields)) {
    return refuse(
      'private-key-in-jwk',
      `${what}: the "jwk" header must hold a public key only, not private or symmetric key material`,
    );
  }
  const key = await importProofKey(jwkFields, alg);
  if (typeof key === 'string')
    return refuse('invalid-jwk', `${what}: the "jwk" header is not usable: ${key}`);
  let jkt: string;
  try {
    jkt = await computeJkt(jwkFields as JWK);
  } catch {
    return refuse('invalid-jwk', `${what}: the "jwk" header lacks the members its key type requires`);
  }

  try {
    await compactVerify(proof, key, { algorithms: [alg] });
  } catch (err) {
    const mapped = mapJoseError(err, what);
    return refuse(mapped.reason === 'bad-signature' ? 'bad-signature' : 'malformed', mapped.message);
  }
  let claims: JWTPayload;
  try {
    claims = decodeJwt(proof);
  } catch {
    return refuse('malformed', `${what}: the payload is not a JSON object`);
  }

  for (const name of ['jti', 'htm', 'htu'] as const) {
    if (claims[name] === undefined) return refuse('missing-claim', `${what} has no "${name}" claim`);
    if (typeof claims[name] !== 'string' || claims[name] === '') {
      return refuse('malformed', `${what}: the "${name}" claim must be a non-empty string`);
    }
  }
  if (claims.iat === undefined) return refuse('missing-claim', `${what} has no "iat" claim`);
  if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) {
    return refuse('malformed', `${what}: the "iat" claim must be a number`);
  }
  const jti = claims.jti as string;
  if (jti.length > MAX_JTI_LENGTH)
    return refuse('malformed', `${what}: the "jti" claim is longer than ${MAX_JTI_LENGTH} characters`);
  const iat = claims.iat;

  if (claims.htm !== options.htm) {
    return refuse('htm-mismatch', `${what} was made for another HTTP method (expected ${options.htm})`);
  }
  const expectedHtu = normalizeHtu(options.htu);
  const givenHtu = normalizeHtu(claims.htu as string);
  if (expectedHtu === null || givenHtu === null || givenHtu !== expectedHtu) {
    return refuse(
      'htu-mismatch',
      `${what} was made for another URI (expected ${expectedHtu ?? 'an http(s) URI'})`,
    );
  }

  if (options.nonce !== undefined) {
    const accepted = typeof options.nonce === 'string' ? [options.nonce] : options.nonce;
    if (claims.nonce === undefined)
      return refuse('nonce-required', `${what}: this server requires a nonce (DPoP-Nonce)`);
    if (
      typeof claims.nonce !== 'string' ||
      !accepted.some((n) => constantTimeEqual(n, claims.nonce as string))
    ) {
      return refuse(
        'nonce-mismatch',
        `${what}: the nonce is not the one this server issued; use the latest DPoP-Nonce`,
      );
    }
  }

  const now = epochSeconds((options.clock ?? systemClock).now());
  const maxAge = options.maxAgeSeconds ?? 60;
  const futureSkew = options.futureSkewSeconds ?? 5;
  if (iat < now - maxAge) return refuse('iat-too-old', `${what} is older than ${maxAge} s (iat)`);
  if (iat > now + futureSkew) return refuse('iat-in-future', `${what} was made in the future (iat)`);

  if (options.accessToken !== undefined) {
    if (claims.ath === undefined)
      return refuse('missing-claim', `${what} has no "ath" claim but an access token was sent`);
    if (
      typeof claims.ath !== 'string' ||
      !constantTimeEqual(claims.ath, accessTokenHash(options.accessToken))
    ) {
      return refuse('ath-mismatch', `${what}: "ath" is not the hash of the access token sent with it`);
    }
  }

  // RFC 9449 §11.1: a proof is used once. Scoped by key, so one client cannot use up another's jti values;
  // kept one second past the last moment the iat check accepts the proof.
  const fresh = await options.checkReplay(`dpop:${jkt}:${jti}`, new Date((iat + maxAge + 1) * 1000));
  if (!fresh) return refuse('replayed', `${what} was already used (jti seen before)`);

  const publicJwk: JWK = {};
  for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e'] as const) {
    if (typeof jwkFields[m] === 'string') publicJwk[m] = jwkFields[m];
  }
  return { ok: true, jkt, jti, iat, jwk: publicJwk };
}
