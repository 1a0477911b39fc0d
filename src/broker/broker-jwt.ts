/**
 * Shared JWT verification for the broker's verifiers (access tokens, DPoP proofs, client assertions, federated
 * workload tokens): structural pre-checks, one call into jose, and one mapping of jose's errors to reasons.
 * Private to src/broker; the verifiers re-state the reasons they can produce in their own result types.
 */
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type {
  CryptoKey,
  FlattenedJWSInput,
  JWSHeaderParameters,
  JWTPayload,
  ProtectedHeaderParameters,
} from 'jose';

/** Everything a JWT verifier of the broker can report; each verifier narrows this list. */
export type JwtFailureReason =
  | 'malformed'
  | 'alg-not-allowed'
  | 'wrong-type'
  | 'unknown-key'
  | 'bad-signature'
  | 'missing-claim'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-subject'
  | 'wrong-audience'
  | 'key-set-unavailable';

/** A failed check: the reason (stable, for code and tests) and a message that never quotes the token. */
export interface JwtFailure<R extends string = JwtFailureReason> {
  ok: false;
  reason: R;
  message: string;
}

/** A key resolver as jose takes it (createLocalJWKSet, createRemoteJWKSet, EmbeddedJWK). */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/**
 * A resolver that treats `EdDSA` and `Ed25519` (its RFC 9864 name) as one algorithm when it picks a key. jose
 * matches a JWK's `alg` member exactly, so a key registered as `"alg": "EdDSA"` would not be found for a JWT
 * signed as `Ed25519` (what oauth4webapi sends for an Ed25519 key), and the reverse. Only the key lookup is
 * widened: the signature is still checked with the algorithm the JWT names, against an Ed25519 key.
 */
export function withEd25519AlgAliases(resolve: KeyResolver): KeyResolver {
  return async (header, token) => {
    try {
      return await resolve(header, token);
    } catch (err) {
      const alias = header.alg === 'EdDSA' ? 'Ed25519' : header.alg === 'Ed25519' ? 'EdDSA' : null;
      if (alias === null || !(err instanceof errors.JWKSNoMatchingKey)) throw err;
      return resolve({ ...header, alg: alias }, token);
    }
  };
}

/** Tokens longer than this are refused before any parsing (an access token with a deep act chain is ~2 KiB). */
export const MAX_JWT_LENGTH = 16 * 1024;

/** JWK members that only a private or symmetric key has (RFC 7517 §4, RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Builds a failure result. */
export function fail<R extends string>(reason: R, message: string): JwtFailure<R> {
  return { ok: false, reason, message };
}

/**
 * True when a `typ` header names the expected type. RFC 7515 §4.1.9: media types compare case-insensitively and
 * the `application/` prefix may be left out.
 */
export function typMatches(typ: unknown, expected: string): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  const e = expected.toLowerCase();
  return t === e || t === `application/${e}`;
}

/** True when a JWK carries any private or symmetric key material. */
export function hasPrivateMembers(jwk: Record<string, unknown>): boolean {
  return jwk.kty === 'oct' || PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(jwk, m));
}

/**
 * Structural checks before any cryptography: a compact JWS of sane size whose protected header decodes, and
 * whose `alg` is on the allow-list (RFC 8725 §3.1: never let the token choose the algorithm).
 */
export function precheckJwt(
  token: unknown,
  algorithms: readonly string[],
  what: string,
): { ok: true; header: ProtectedHeaderParameters } | JwtFailure<'malformed' | 'alg-not-allowed'> {
  if (typeof token !== 'string' || token === '') {
    return fail('malformed', `${what} is missing or not a string`);
  }
  if (token.length > MAX_JWT_LENGTH) {
    return fail('malformed', `${what} is longer than ${MAX_JWT_LENGTH} characters`);
  }
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    return fail(
      'malformed',
      `${what} is not a JWT in compact form (three base64url parts separated by dots)`,
    );
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return fail('malformed', `${what}: the JOSE header is not base64url-encoded JSON`);
  }
  if (typeof header.alg !== 'string' || header.alg === '') {
    return fail('malformed', `${what}: the JOSE header has no "alg"`);
  }
  if (!algorithms.includes(header.alg)) {
    const shown = /^[A-Za-z0-9+-]{1,20}$/.test(header.alg) ? `"${header.alg}"` : 'given';
    return fail(
      'alg-not-allowed',
      `${what}: algorithm ${shown} is not allowed (allowed: ${algorithms.join(', ')})`,
    );
  }
  return { ok: true, header };
}

/** A key set could not be reached or read (remote JWKS fetch failed, timed out, or returned no key set). */
class KeySetUnavailable extends Error {}

/**
 * Wraps a remote key resolver so that fetch problems are told apart from "no key with this kid": the first is
 * `key-set-unavailable`, the second `unknown-key`.
 */
export function guardRemoteResolver(resolver: KeyResolver): KeyResolver {
  return async (header, token) => {
    try {
      return await resolver(header, token);
    } catch (err) {
      if (
        err instanceof errors.JWKSNoMatchingKey ||
        err instanceof errors.JWKSMultipleMatchingKeys ||
        err instanceof errors.JOSENotSupported
      ) {
        throw err;
      }
      throw new KeySetUnavailable('the JSON Web Key Set could not be fetched', { cause: err });
    }
  };
}

/** What jose is asked to check after the signature. */
export interface JwtVerifyOptions {
  algorithms: readonly string[];
  now: Date;
  leewaySeconds: number;
  issuer?: string;
  subject?: string;
  audience?: string | readonly string[];
  requiredClaims?: readonly string[];
}

/**
 * Verifies signature and registered claims with jose and maps its errors to reasons. When a key set holds
 * several candidate keys for a token without `kid`, each is tried in turn (jose leaves that to the caller).
 */
export async function verifyJwtWith(
  token: string,
  keys: KeyResolver,
  options: JwtVerifyOptions,
  what: string,
): Promise<{ ok: true; payload: JWTPayload; header: JWSHeaderParameters } | JwtFailure> {
  const joseOptions = {
    algorithms: [...options.algorithms],
    currentDate: options.now,
    clockTolerance: options.leewaySeconds,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.subject === undefined ? {} : { subject: options.subject }),
    ...(options.audience === undefined
      ? {}
      : { audience: typeof options.audience === 'string' ? options.audience : [...options.audience] }),
    requiredClaims: [...(options.requiredClaims ?? [])],
  };
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys, joseOptions);
    return { ok: true, payload, header: protectedHeader };
  } catch (err) {
    if (err instanceof errors.JWKSMultipleMatchingKeys) {
      let last: unknown = err;
      for await (const key of err as unknown as AsyncIterable<CryptoKey>) {
        try {
          const { payload, protectedHeader } = await jwtVerify(token, key, joseOptions);
          return { ok: true, payload, header: protectedHeader };
        } catch (inner) {
          last = inner;
          // A wrong key shows as a bad signature; keep trying. Any other failure is about the token itself.
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) break;
        }
      }
      return mapJoseError(last, what);
    }
    return mapJoseError(err, what);
  }
}

/** Maps an error thrown by jose's jwtVerify (or a key resolver) to a failure reason. */
export function mapJoseError(err: unknown, what: string): JwtFailure {
  if (err instanceof KeySetUnavailable) {
    return fail('key-set-unavailable', `${what}: the issuer's key set could not be fetched`);
  }
  if (err instanceof errors.JWTExpired) {
    return fail('expired', `${what} has expired`);
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return fail('missing-claim', `${what} has no "${err.claim}" claim`);
    if (err.reason === 'invalid')
      return fail('malformed', `${what}: the "${err.claim}" claim has the wrong type`);
    switch (err.claim) {
      case 'iss':
        return fail('wrong-issuer', `${what} was issued by another issuer`);
      case 'sub':
        return fail('wrong-subject', `${what} names another subject`);
      case 'aud':
        return fail('wrong-audience', `${what} is meant for another audience`);
      case 'nbf':
        return fail('not-yet-valid', `${what} is not valid yet (nbf is in the future)`);
      case 'typ':
        return fail('wrong-type', `${what} has the wrong "typ" header`);
      default:
        return fail('malformed', `${what}: the "${err.claim}" claim failed validation`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return fail('alg-not-allowed', `${what}: algorithm not allowed`);
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return fail('unknown-key', `${what} names a signing key that is not in the key set`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return fail('bad-signature', `${what}: the signature does not verify`);
  }
  if (err instanceof errors.JWKSInvalid) {
    return fail('key-set-unavailable', `${what}: the key set is not a valid JSON Web Key Set`);
  }
  if (err instanceof errors.JOSEError) {
    // JWSInvalid, JWTInvalid, JWKInvalid, JOSENotSupported: the token or its key is not well-formed.
    return fail('malformed', `${what} is malformed (${err.code})`);
  }
  if (err instanceof TypeError) {
    // jose throws TypeError for a key that does not fit the algorithm (e.g. an RSA key shorter than 2048 bits).
    return fail('malformed', `${what}: the key does not fit the algorithm`);
  }
  throw err;
}

/** Whole seconds since the epoch. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
