/**
 * Helpers for the broker OAuth flow tests (broker-flows.test.ts): a recording upstream behind the proxy, a
 * resource server that verifies broker tokens with jose against the served JWKS, key pairs and JWKS files,
 * and an oauth4webapi `customFetch` that records what the client library sent.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  EmbeddedJWK,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type GenerateKeyPairResult,
  type JWK,
  type JWTPayload,
} from 'jose';

/** One request an upstream received, headers as Node parsed them. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A node:http server on 127.0.0.1 with its base URL. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** Starts a node:http server on a free loopback port. */
async function listen(server: Server): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a request body as UTF-8. */
function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** An upstream API behind the proxy that records every request and answers `{"ticket": <path>}`. */
export async function startRecordingUpstream(): Promise<LocalServer & { requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ticket: req.url }));
    });
  });
  return { ...(await listen(server)), requests };
}

/** What the resource server answers: the verified claims, or the RFC 6750 / RFC 9449 error. */
export type ResourceAnswer =
  { status: 200; claims: JWTPayload } | { status: 401; error: string; description: string };

/** A refusal of the resource server: the error code and what went wrong. */
class Refusal extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof',
    message: string,
  ) {
    super(message);
  }
}

/** The jose error code of a failed verification, or the message of a refusal. */
function describeFailure(err: unknown): string {
  if (err instanceof joseErrors.JOSEError) return err.code;
  return err instanceof Error ? err.message : 'verification failed';
}

/**
 * Checks the DPoP proof of a request with a DPoP-bound token (RFC 9449 §4.3 and §7.1): a `dpop+jwt` signed
 * with its embedded key, that key's thumbprint equal to the token's `cnf.jkt`, `htm` and `htu` of this
 * request, `ath` of this token, fresh and not seen before.
 */
async function checkDpopProof(
  proof: string | string[] | undefined,
  request: { method: string; url: string; token: string; jkt: unknown },
  seen: Set<string>,
): Promise<void> {
  if (typeof proof !== 'string') throw new Refusal('invalid_dpop_proof', 'one DPoP proof is required');
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256', 'EdDSA'],
    maxTokenAge: '60s',
  });
  const ath = createHash('sha256').update(request.token).digest('base64url');
  const problems = [
    (await calculateJwkThumbprint(protectedHeader.jwk!, 'sha256')) !== request.jkt && 'key',
    payload.htm !== request.method && 'htm',
    payload.htu !== request.url && 'htu',
    payload.ath !== ath && 'ath',
    (typeof payload.jti !== 'string' || seen.has(payload.jti)) && 'jti',
  ].filter(Boolean);
  if (problems.length > 0) throw new Refusal('invalid_dpop_proof', `bad ${problems.join(', ')}`);
  seen.add(payload.jti as string);
}

/**
 * A resource server as an API owner would write one: it takes `Authorization: Bearer <token>` or
 * `Authorization: DPoP <token>` with a `DPoP` proof, verifies the token with jose's createRemoteJWKSet against
 * the broker's /.well-known/jwks.json (checking `iss`, `aud`, `typ: at+jwt` and the algorithm), requires the
 * DPoP scheme and a valid proof for a token with `cnf.jkt` and the Bearer scheme for one without. Answers 200
 * with the claims or 401 with the error (RFC 6750 §3.1, RFC 9449 §7.1).
 */
export async function startResourceServer(options: {
  issuer: string;
  audience: string;
}): Promise<LocalServer> {
  const jwks = createRemoteJWKSet(new URL(`${options.issuer}/.well-known/jwks.json`));
  const seenProofs = new Set<string>();
  let baseUrl = '';
  const authorize = async (req: IncomingMessage): Promise<JWTPayload> => {
    const m = /^(Bearer|DPoP) ([\w.~+/-]+=*)$/.exec(req.headers.authorization ?? '');
    if (!m) throw new Refusal('invalid_request', 'no access token');
    const [, scheme, token] = m as unknown as [string, 'Bearer' | 'DPoP', string];
    const { payload } = await jwtVerify(token, jwks, {
      issuer: options.issuer,
      audience: options.audience,
      typ: 'at+jwt',
      algorithms: ['EdDSA', 'Ed25519'],
    });
    const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if ((jkt === undefined) !== (scheme === 'Bearer')) {
      throw new Refusal('invalid_token', `the token must be sent with the ${jkt ? 'DPoP' : 'Bearer'} scheme`);
    }
    if (scheme === 'DPoP') {
      const url = `${baseUrl}${(req.url ?? '').split('?')[0]}`;
      await checkDpopProof(req.headers.dpop, { method: req.method ?? '', url, token, jkt }, seenProofs);
    }
    return payload;
  };
  const server = createServer((req, res) => {
    const send = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    authorize(req).then(
      (claims) => send(200, { claims }),
      (err: unknown) => {
        const error = err instanceof Refusal ? err.error : 'invalid_token';
        const scheme = req.headers.authorization?.startsWith('DPoP ') ? 'DPoP' : 'Bearer';
        send(
          401,
          { error, error_description: describeFailure(err) },
          { 'www-authenticate': `${scheme} realm="rs", error="${error}"` },
        );
      },
    );
  });
  const running = await listen(server);
  baseUrl = running.url;
  return running;
}

/** Calls the resource server's `/reports/7` with these headers. */
export async function callResource(url: string, headers: Record<string, string>): Promise<ResourceAnswer> {
  const res = await fetch(`${url}/reports/7`, { headers });
  const body = (await res.json()) as { claims?: JWTPayload; error?: string; error_description?: string };
  if (res.status === 200) return { status: 200, claims: body.claims! };
  if (res.status !== 401) throw new Error(`resource server answered ${res.status}`);
  return { status: 401, error: body.error!, description: body.error_description! };
}

/** An ES256 key pair with its public JWK (with `kid`, `alg`, `use`) and its RFC 7638 thumbprint. */
export interface TestKey {
  pair: GenerateKeyPairResult;
  kid: string;
  publicJwk: JWK;
  thumbprint: string;
}

/** Generates an ES256 key pair (extractable, so oauth4webapi's DPoP handle can export the public key). */
export async function generateTestKey(kid: string): Promise<TestKey> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
  return { pair, kid, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' }, thumbprint };
}

/** Writes `{ keys: [...] }` with the public keys to `<dir>/<name>` and returns the path. */
export function writeJwksFile(dir: string, name: string, keys: readonly TestKey[]): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  return file;
}

/** What oauth4webapi sent: URL, method, headers and form body of each request. */
export interface SentRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * An oauth4webapi `customFetch` that sends with the global fetch and records each request, so a test can
 * replay exactly what the library sent (a client assertion or a DPoP proof).
 */
export function recordingFetch(): {
  sent: SentRequest[];
  fetch: (
    url: string,
    options: {
      method: string;
      headers: Record<string, string>;
      body?: unknown;
      redirect: 'manual';
      signal?: AbortSignal;
    },
  ) => Promise<Response>;
} {
  const sent: SentRequest[] = [];
  return {
    sent,
    fetch: (url, options) => {
      const body =
        options.body instanceof URLSearchParams
          ? options.body.toString()
          : typeof options.body === 'string'
            ? options.body
            : null;
      sent.push({ url, method: options.method, headers: { ...options.headers }, body });
      return fetch(url, {
        method: options.method,
        headers: options.headers,
        redirect: 'manual',
        ...(body === null ? {} : { body }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    },
  };
}
