/**
 * Test support for the broker's cryptography: what an agent (or an attacker) sends — DPoP proofs, client
 * assertions, workload tokens, and deliberately broken JWTs. Used by tests only; nothing in src/ imports it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK, JWTHeaderParameters, JWTPayload } from 'jose';

/** A key pair as a test agent holds it: the private CryptoKey, its public JWK and the alg it signs with. */
export interface TestKey {
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** Generates a key pair for an alg (EdDSA, Ed25519, ES256, RS256, PS256, …); `kid` is set on the public JWK. */
export async function generateTestKey(alg: string, kid?: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'Ed25519' ? 'EdDSA' : alg, {
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  if (kid !== undefined) publicJwk.kid = kid;
  return { alg, privateKey, publicKey, publicJwk };
}

/** Removes members set to undefined, so an override can drop a claim or header. */
function compact<T extends Record<string, unknown>>(value: T): T {
  const out = { ...value };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** Signs any header and payload with jose (no claim defaults added). */
export async function signTestJwt(
  header: JWTHeaderParameters,
  payload: JWTPayload,
  privateKey: CryptoKey | Uint8Array,
): Promise<string> {
  return new SignJWT(compact(payload)).setProtectedHeader(compact(header)).sign(privateKey);
}

/** An `alg: none` JWT: header and payload, empty signature. */
export function unsecuredJwt(payload: JWTPayload, header: Record<string, unknown> = {}): string {
  const token = new UnsecuredJWT(compact(payload)).encode();
  if (Object.keys(header).length === 0) return token;
  const [, body] = token.split('.');
  return `${b64json({ alg: 'none', ...header })}.${body}.`;
}

/** base64url of a value's JSON, to hand-build broken tokens. */
export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Replaces the payload of a signed JWT (keeping header and signature): a tampered token. */
export function withPayload(token: string, payload: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64json(payload)}.${signature}`;
}

/** Decodes the payload of a JWT without checking anything (test assertions only). */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** Decodes the header of a JWT without checking anything (test assertions only). */
export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** What a DPoP proof is made from; `header` and `claims` override (or, with undefined, drop) the defaults. */
export interface DpopProofInput {
  key: TestKey;
  htm: string;
  htu: string;
  /** Seconds since the epoch (default: now). */
  iat?: number;
  jti?: string;
  accessToken?: string;
  nonce?: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

/** Creates a DPoP proof as an agent would (RFC 9449 §4.2). */
export async function createDpopProof(input: DpopProofInput): Promise<string> {
  const header = { alg: input.key.alg, typ: 'dpop+jwt', jwk: input.key.publicJwk, ...input.header };
  const claims: JWTPayload = {
    jti: input.jti ?? randomBytes(12).toString('base64url'),
    htm: input.htm,
    htu: input.htu,
    iat: input.iat ?? Math.floor(Date.now() / 1000),
    ...(input.accessToken === undefined
      ? {}
      : { ath: createHash('sha256').update(input.accessToken, 'ascii').digest('base64url') }),
    ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
    ...input.claims,
  };
  return signTestJwt(header as JWTHeaderParameters, claims, input.key.privateKey);
}

/** What a private_key_jwt client assertion is made from. */
export interface ClientAssertionInput {
  key: TestKey;
  clientId: string;
  audience: string | string[];
  /** Seconds since the epoch (default: now). */
  now?: number;
  lifetimeSeconds?: number;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

/** Creates a client assertion (RFC 7523 §3) as a client would. */
export async function createClientAssertion(input: ClientAssertionInput): Promise<string> {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const header = { alg: input.key.alg, kid: input.key.publicJwk.kid, ...input.header };
  const claims: JWTPayload = {
    iss: input.clientId,
    sub: input.clientId,
    aud: input.audience,
    iat: now,
    exp: now + (input.lifetimeSeconds ?? 60),
    jti: randomBytes(12).toString('base64url'),
    ...input.claims,
  };
  return signTestJwt(header as JWTHeaderParameters, claims, input.key.privateKey);
}

/** An in-memory replay cache with the ReplayCheck contract (true = first use), recording every call. */
export function createMemoryReplayCache(): {
  check: (id: string, expiresAt: Date) => Promise<boolean>;
  entries: Map<string, Date>;
} {
  const entries = new Map<string, Date>();
  return {
    entries,
    check: async (id, expiresAt) => {
      if (entries.has(id)) return false;
      entries.set(id, expiresAt);
      return true;
    },
  };
}

/** A JWKS served over HTTP on 127.0.0.1 (an issuer's or the broker's), with a counter of fetches. */
export interface TestJwksServer {
  url: string;
  fetches: () => number;
  setJwks: (jwks: JSONWebKeySet) => void;
  close: () => Promise<void>;
}

/** Starts a local HTTP server answering every GET with the current JWKS. */
export async function startJwksServer(jwks: JSONWebKeySet): Promise<TestJwksServer> {
  let current = jwks;
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(current));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    setJwks: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
