/**
 * Helpers for the broker bad-input end-to-end test: hand-made JWTs (also broken ones), DPoP proofs, client
 * assertions, a local upstream, form POSTs and raw HTTP requests with bytes fetch() refuses to send.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** base64url without padding (RFC 7515 §2). */
export function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** The current time in epoch seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** An unsigned JWT (`alg: none`, RFC 7519 §6): header and payload as given, empty signature. */
export function unsignedJwt(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.`;
}

/** A JWT HMAC-SHA-256-signed with `key` (for the classic key-confusion attack). */
export function hs256Jwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: Buffer | string,
): string {
  const input = `${b64url(JSON.stringify({ ...header, alg: 'HS256' }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

/** Malformed compact JWTs a parser must refuse without falling over, by name. */
export function malformedJwts(): Array<[name: string, jwt: string]> {
  const header = b64url(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: 'x' }));
  return [
    ['one part', 'abcdef'],
    ['two parts', `${header}.${payload}`],
    ['four parts', `${header}.${payload}.c2ln.ZXh0cmE`],
    ['bad base64url', `${header}.${payload}.***`],
    ['non-JSON header', `${b64url('not json{')}.${payload}.c2ln`],
    ['header a JSON array', `${b64url('[1,2]')}.${payload}.c2ln`],
    ['non-JSON payload', `${header}.${b64url('\u0000\u00ff')}.c2ln`],
    ['empty parts', '..'],
  ];
}

/** An ES256 key pair with its public JWK (kid set) and RFC 7638 thumbprint. */
export interface TestKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

/** Makes an ES256 key pair. */
export async function makeKey(kid = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** Makes an RS256 key pair (2048 bits). */
export async function makeRsaKey(kid = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    extractable: true,
    modulusLength: 2048,
  });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** A signed JWT with the key's algorithm and kid; `header` adds to or overrides the protected header. */
export async function signJwt(
  key: TestKey,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.publicJwk.alg!, kid: key.publicJwk.kid!, ...header })
    .sign(key.privateKey);
}

/** A private_key_jwt client assertion (RFC 7523 §3); `claims` overrides the defaults. */
export function clientAssertion(
  key: TestKey,
  clientId: string,
  aud: string,
  claims: Record<string, unknown> = {},
): Promise<string> {
  const now = nowSeconds();
  return signJwt(key, {
    iss: clientId,
    sub: clientId,
    aud,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...claims,
  });
}

/** A DPoP proof (RFC 9449 §4.2) for `htm` `htu`; `claims` overrides the defaults, `ath` binds an access token. */
export function dpopProof(
  key: TestKey,
  htm: string,
  htu: string,
  claims: Record<string, unknown> = {},
): Promise<string> {
  const { kid: _kid, ...jwk } = key.publicJwk;
  return new SignJWT({ jti: randomUUID(), htm, htu, iat: nowSeconds(), ...claims })
    .setProtectedHeader({ alg: key.publicJwk.alg!, typ: 'dpop+jwt', jwk })
    .sign(key.privateKey);
}

/** One request the local upstream received. */
export interface UpstreamCall {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** A local HTTP upstream for the proxy that records every request and answers `{"ok":true}`. */
export async function startUpstream(): Promise<{
  url: string;
  calls: UpstreamCall[];
  close(): Promise<void>;
}> {
  const calls: UpstreamCall[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP answer, body parsed as JSON when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function toAnswer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: json stays empty
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** POSTs a form (an object, or a raw body string) to `url`. */
export async function postForm(
  url: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return toAnswer(res);
}

/** Sends any request with fetch and reads the answer. */
export async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  return toAnswer(await fetch(url, init));
}

/** `Authorization: Basic` for a client (RFC 6749 §2.3.1: id and secret form-encoded first). */
export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** A raw HTTP/1.1 exchange: the status code and the whole response text (latin1). */
export interface RawAnswer {
  status: number;
  /** Response headers, names lower-cased (a repeated header keeps its last value). */
  headers: Record<string, string>;
  raw: string;
  body: string;
}

/** The header block of a raw response as a record with lower-case names. */
function parseHeaderBlock(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Sends bytes as they are over a fresh TCP connection and reads the answer until the server closes it
 * (`rawHttp` asks for `Connection: close`). The socket is not half-closed: Node's HTTP server aborts requests
 * still in progress when the client ends its side. For what fetch() refuses to send: NUL bytes, raw non-UTF-8
 * header values.
 */
export function rawRequest(baseUrl: string, request: Buffer, timeoutMs = 15_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server did not answer the raw request in time'));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
      const split = raw.indexOf('\r\n\r\n');
      resolve({
        status,
        headers: parseHeaderBlock(split < 0 ? raw : raw.slice(0, split)),
        raw,
        body: split < 0 ? '' : raw.slice(split + 4),
      });
    });
    socket.write(request);
  });
}

/** Builds a raw HTTP/1.1 request from a head (lines joined with CRLF) and a body, both as bytes. */
export function rawHttp(lines: Array<string | Buffer>, body: Buffer = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines)
    parts.push(Buffer.isBuffer(line) ? line : Buffer.from(line, 'latin1'), Buffer.from('\r\n'));
  parts.push(Buffer.from(`Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body);
  return Buffer.concat(parts);
}
