/**
 * The broker's OAuth endpoints and proxy fed bad input over HTTP, against one real `keyward serve` child process
 * (built CLI, SQLite in a temporary data dir). Every refusal is the RFC's answer (status, `error`, a description
 * that echoes no secret, `Cache-Control: no-store`), and afterwards the server is healthy, logged no stack trace,
 * and its event log still verifies.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  b64url,
  clientAssertion,
  dpopProof,
  hs256Jwt,
  makeKey,
  makeRsaKey,
  malformedJwts,
  nowSeconds,
  postForm,
  rawHttp,
  rawRequest,
  send,
  signJwt,
  startUpstream,
  unsignedJwt,
  type Answer,
  type RawAnswer,
  type TestKey,
} from './broker-bad-input-support.js';
import {
  removeDir,
  requireBuild,
  runKeyward,
  startServe,
  tempDir,
  type ServeProcess,
} from './e2e-helpers.js';

const UPSTREAM_SECRET = 'up_live_5ecr3t0123456789abcdef';
const ECHO = 'keyward:upstream:echo';
const FORM = 'application/x-www-form-urlencoded';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

let dir: string;
let serve: ServeProcess;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let url: string;
let tokenUrl: string;
let adminToken: string;
let clientKey: TestKey;
const agents: Record<'worker' | 'exchanger' | 'exchanger2' | 'shortlived', { id: string; secret: string }> = {
  worker: { id: '', secret: '' },
  exchanger: { id: '', secret: '' },
  exchanger2: { id: '', secret: '' },
  shortlived: { id: '', secret: '' },
};
let jwtClientId: string;

/** Calls the admin API and returns the JSON answer, failing on anything but 2xx. */
async function admin(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function registerAgent(agentType: string, name: string): Promise<{ id: string; secret: string }> {
  const r = await admin('/broker/agents', { agentType, name, withSecret: true });
  return { id: r.clientId as string, secret: r.clientSecret as string };
}

/** RFC 9449 §4.2 `ath`: base64url(SHA-256(access token)). */
const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** Every forged or malformed token this test sent: none may appear in the event log or the server's output. */
const sentTokens = new Set<string>();

/** Remembers what a request carried (only values long enough to be recognisable). */
function sent<T extends string>(token: T): T {
  if (token.length >= 16) sentTokens.add(token);
  return token;
}

/** Every secret this test holds: none may ever appear in an answer. */
function secrets(): string[] {
  return [UPSTREAM_SECRET, adminToken, ...Object.values(agents).map((a) => a.secret)];
}

/**
 * Asserts an RFC 6749 §5.2 error answer: status, `error`, a non-empty plain-ASCII description, no-store caching,
 * and none of the secrets or of `echoed` (values the request sent) in the body.
 */
function expectOAuthError(a: Answer, status: number, error: string, echoed: string[] = []): void {
  expect({ status: a.status, error: a.json.error }, a.text).toEqual({ status, error });
  expect(a.json.error_description).toMatch(DESCRIPTION_CHARS);
  expect(a.headers.get('cache-control')).toBe('no-store');
  expect(a.headers.get('pragma')).toBe('no-cache');
  for (const s of [...secrets(), ...echoed.filter((e) => e.length >= 16)]) expect(a.text).not.toContain(s);
}

/**
 * Asserts an RFC 6750 §3 refusal of the proxy: status, `error`, a non-empty description that echoes nothing,
 * no-store caching, and a `WWW-Authenticate` challenge of `scheme` with the same error and a description in
 * the quoted-string character set of §3.
 */
function expectProxyError(
  a: Answer,
  status: number,
  error: string,
  scheme: string,
  echoed: string[] = [],
): void {
  expect({ status: a.status, error: a.json.error }, a.text).toEqual({ status, error });
  expect(a.json.error_description).toEqual(expect.any(String));
  expect(a.json.error_description).not.toBe('');
  expect(a.headers.get('cache-control')).toBe('no-store');
  const challenge = a.headers.get('www-authenticate') ?? '';
  // A 401 names the upstream's RFC 9728 metadata, so a client can find the broker from the refusal alone.
  const metadata =
    status === 401
      ? `, resource_metadata="${url.replace(/[.]/g, '\\.')}/\\.well-known/oauth-protected-resource/proxy/echo"`
      : '';
  expect(challenge).toMatch(
    new RegExp(
      `^${scheme} error="${error}", error_description="${DESCRIPTION_CHARS.source.slice(1, -1)}"${metadata}$`,
    ),
  );
  for (const s of [...secrets(), ...echoed.filter((e) => e.length >= 16)]) {
    expect(a.text).not.toContain(s);
    expect(challenge).not.toContain(s);
  }
}

/** A client_credentials request authenticated with the worker's secret (HTTP Basic). */
function workerToken(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  if (headers.dpop) sent(headers.dpop);
  return postForm(
    tokenUrl,
    { grant_type: 'client_credentials', ...form },
    {
      authorization: basic(agents.worker.id, agents.worker.secret),
      ...headers,
    },
  );
}

/** Issues a token for the echo upstream to `agent`, asserting it was issued. */
async function issue(agent: { id: string; secret: string }): Promise<string> {
  const a = await postForm(
    tokenUrl,
    { grant_type: 'client_credentials', scope: 'echo:read', resource: ECHO },
    { authorization: basic(agent.id, agent.secret) },
  );
  expect(a.status, a.text).toBe(200);
  return a.json.access_token as string;
}

/** A token exchange by `agent` with `subjectToken`. */
function exchange(subjectToken: string, agent = agents.exchanger): Promise<Answer> {
  sent(subjectToken);
  return postForm(
    tokenUrl,
    {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: ECHO,
    },
    { authorization: basic(agent.id, agent.secret) },
  );
}

/** A client_credentials request authenticated with a client assertion. */
function withAssertion(assertion: string): Promise<Answer> {
  sent(assertion);
  return postForm(tokenUrl, {
    grant_type: 'client_credentials',
    scope: 'echo:read',
    resource: ECHO,
    client_id: jwtClientId,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
  });
}

/** `GET <path>` sent byte for byte (fetch would normalise dot segments away) with a bearer token. */
function rawGet(path: string, token: string): Promise<RawAnswer> {
  const head = [`GET ${path} HTTP/1.1`, `Host: ${new URL(url).host}`, `Authorization: Bearer ${token}`];
  return rawRequest(url, rawHttp(head.map((l) => Buffer.from(l, 'utf8'))));
}

/** Introspects `token` as the worker. */
function introspect(token: string): Promise<Answer> {
  sent(token);
  return postForm(
    `${url}/oauth/introspect`,
    { token },
    {
      authorization: basic(agents.worker.id, agents.worker.secret),
    },
  );
}

/** Calls the echo upstream through the proxy with `authorization`. */
function proxyGet(authorization: string, headers: Record<string, string> = {}): Promise<Answer> {
  sent(authorization.replace(/^\S+ /, ''));
  if (headers.dpop) sent(headers.dpop);
  return send(`${url}/proxy/echo/items/1`, { headers: { authorization, ...headers } });
}

/** The broker's first public signing key, from its JWKS. */
async function brokerPublicKey(): Promise<{ kid: string; x: string }> {
  const jwks = await send(`${url}/.well-known/jwks.json`);
  const key = (jwks.json.keys as Array<{ kid: string; x: string; kty: string; crv: string }>)[0]!;
  expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
  return key;
}

/** Claims that look like a real broker access token for the echo upstream. */
function forgedClaims(): Record<string, unknown> {
  const now = nowSeconds();
  return {
    iss: url,
    sub: 'user:mallory',
    aud: ECHO,
    client_id: agents.worker.id,
    scope: 'echo:read',
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: `forged-${now}`,
  };
}

/** Forged tokens every verifier must refuse: unsigned, HMAC keyed with the public key, signed by a stranger. */
async function forgedTokens(): Promise<Array<[name: string, token: string]>> {
  const { kid, x } = await brokerPublicKey();
  const header = { typ: 'at+jwt', kid };
  const stranger = await makeRsaKey();
  return [
    ['alg none', unsignedJwt({ alg: 'none', typ: 'at+jwt' }, forgedClaims())],
    ['alg none with the broker kid', unsignedJwt({ alg: 'none', ...header }, forgedClaims())],
    ['HS256 keyed with the public key bytes', hs256Jwt(header, forgedClaims(), Buffer.from(x, 'base64url'))],
    ['HS256 keyed with the base64url public key', hs256Jwt(header, forgedClaims(), x)],
    ['RS256 with an unknown key', await signJwt(stranger, forgedClaims(), { typ: 'at+jwt' })],
  ];
}

/** The whole event log, read page by page through the admin API. */
async function readEventLog(): Promise<Array<{ type: string; data: unknown }>> {
  const events: Array<{ type: string; data: unknown }> = [];
  for (let after: number | null = 0; after !== null;) {
    const res = await fetch(`${url}/api/v1/events?after=${after}&limit=1000`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Array<{ type: string; data: unknown }>; next: number | null };
    events.push(...page.items);
    after = page.next;
  }
  return events;
}

beforeAll(async () => {
  requireBuild();
  dir = tempDir('kw-e2e-badinput-');
  upstream = await startUpstream();
  serve = await startServe(['--data-dir', dir, '--port', '0']);
  url = serve.url;
  tokenUrl = `${url}/oauth/token`;
  adminToken = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  const owner = 'ops@example.com';
  const echoRule = { resource: ECHO, scopes: ['echo:read'] };
  await admin('/broker/agent-types', {
    agentType: 'worker',
    owner,
    allow: [echoRule, { resource: 'https://api.example.test', scopes: ['repo:read'] }],
  });
  await admin('/broker/agent-types', {
    agentType: 'exchanger',
    owner,
    allow: [echoRule],
    exchange: { allowed: true, maxChainDepth: 1, subjectIssuers: [url] },
  });
  await admin('/broker/agent-types', {
    agentType: 'shortlived',
    owner,
    tokens: { maxTtl: '1s', defaultTtl: '1s' },
    allow: [echoRule],
  });
  await admin('/broker/upstreams', {
    name: 'echo',
    baseUrl: upstream.url,
    auth: { kind: 'bearer' },
    secret: UPSTREAM_SECRET,
    routes: [{ scope: 'echo:read', methods: ['GET'], paths: ['/items/*'] }],
  });
  agents.worker = await registerAgent('worker', 'worker-1');
  agents.exchanger = await registerAgent('exchanger', 'exchanger-1');
  agents.exchanger2 = await registerAgent('exchanger', 'exchanger-2');
  agents.shortlived = await registerAgent('shortlived', 'shortlived-1');
  clientKey = await makeKey();
  const jwtAgent = await admin('/broker/agents', {
    agentType: 'worker',
    name: 'worker-jwt',
    withSecret: false,
    jwks: { keys: [clientKey.publicJwk] },
  });
  jwtClientId = jwtAgent.clientId as string;
}, 120_000);

afterAll(async () => {
  await serve?.stop('SIGKILL');
  await upstream?.close();
  removeDir(dir);
});

describe('the token endpoint refuses malformed requests (RFC 6749 §5.2, docs/http-api.md)', () => {
  const valid = 'grant_type=client_credentials&scope=echo%3Aread&resource=keyward%3Aupstream%3Aecho';
  /** A client_credentials form body with `rest` after the grant type. */
  const cc = (rest: string): string => `grant_type=client_credentials&${rest}`;
  const echo = 'resource=keyward%3Aupstream%3Aecho';
  const scopes101 = Array.from({ length: 101 }, (_, i) => `s${i}`).join('+');
  type Case = [name: string, body: string, contentType: string, status: number, error: string];
  const cases: Case[] = [
    ['a JSON body', '{"grant_type":"client_credentials"}', 'application/json', 400, 'invalid_request'],
    ['a text/plain body', valid, 'text/plain', 400, 'invalid_request'],
    ['an empty body', '', FORM, 400, 'invalid_request'],
    ['a body over 64 KiB', `${valid}&task=${'a'.repeat(70 * 1024)}`, FORM, 400, 'invalid_request'],
    ['a parameter sent twice', `${valid}&scope=echo%3Aread`, FORM, 400, 'invalid_request'],
    ['a malformed percent escape', `${valid}&task=%zz`, FORM, 400, 'invalid_request'],
    ['no grant_type', `scope=echo%3Aread&${echo}`, FORM, 400, 'invalid_request'],
    [
      'an unknown grant_type',
      'grant_type=password&username=a&password=b',
      FORM,
      400,
      'unsupported_grant_type',
    ],
    ['a scope outside the policy', cc(`scope=admin%3Aall&${echo}`), FORM, 400, 'invalid_scope'],
    ['no scope', cc(echo), FORM, 400, 'invalid_scope'],
    ['101 scopes', cc(`${echo}&scope=${scopes101}`), FORM, 400, 'invalid_scope'],
    [
      'an unknown resource',
      cc('scope=echo%3Aread&resource=https%3A%2F%2Funknown.example'),
      FORM,
      400,
      'invalid_target',
    ],
    [
      'a resource that is not a URI',
      cc('scope=echo%3Aread&resource=not%20a%20uri'),
      FORM,
      400,
      'invalid_target',
    ],
    [
      'audience instead of resource',
      cc('scope=echo%3Aread&audience=keyward%3Aupstream%3Aecho'),
      FORM,
      400,
      'invalid_target',
    ],
    ['a task claim of 257 characters', `${valid}&task=${'t'.repeat(257)}`, FORM, 400, 'invalid_request'],
    [
      'Basic and client_secret in the form',
      `${valid}&client_id=x&client_secret=y`,
      FORM,
      400,
      'invalid_request',
    ],
  ];
  it.each(cases)('%s', async (_name, body, contentType, status, error) => {
    const a = await send(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: basic(agents.worker.id, agents.worker.secret) },
      body,
    });
    expectOAuthError(a, status, error);
  });

  it.each([
    'application/x-www-form-urlencoded;charset=UTF-8',
    'application/x-www-form-urlencoded; charset=utf-8',
    'Application/X-WWW-Form-Urlencoded',
  ])('accepts the form media type written as %s (RFC 9110 §8.3.1)', async (contentType) => {
    const a = await send(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: basic(agents.worker.id, agents.worker.secret) },
      body: valid,
    });
    expect(a.status, a.text).toBe(200);
  });

  it('answers a well-formed request with a token (the control for the cases above)', async () => {
    const a = await workerToken({ scope: 'echo:read', resource: ECHO });
    expect(a.status, a.text).toBe(200);
    expect(a.json).toMatchObject({ token_type: 'Bearer', scope: 'echo:read' });
    expect(a.headers.get('cache-control')).toBe('no-store');
  });
});

describe('client authentication failures are 401 invalid_client (RFC 6749 §5.2)', () => {
  it('refuses a wrong secret sent with Basic, with a Basic challenge', async () => {
    const wrong = `kwcs_${'A'.repeat(43)}`;
    const a = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', scope: 'echo:read', resource: ECHO },
      { authorization: basic(agents.worker.id, wrong) },
    );
    expectOAuthError(a, 401, 'invalid_client', [wrong]);
    expect(a.headers.get('www-authenticate')).toMatch(/^Basic realm="keyward"/);
  });

  it('refuses a wrong secret sent in the form', async () => {
    const wrong = `kwcs_${'B'.repeat(43)}`;
    const a = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      scope: 'echo:read',
      resource: ECHO,
      client_id: agents.worker.id,
      client_secret: wrong,
    });
    expectOAuthError(a, 401, 'invalid_client', [wrong]);
  });

  it('refuses an unknown client and a Basic header that is not base64', async () => {
    const unknown = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', scope: 'echo:read', resource: ECHO },
      { authorization: basic('kwc_doesnotexist', `kwcs_${'C'.repeat(43)}`) },
    );
    expectOAuthError(unknown, 401, 'invalid_client');
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Basic /);
    const garbage = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', scope: 'echo:read', resource: ECHO },
      { authorization: 'Basic !!!not-base64!!!' },
    );
    expectOAuthError(garbage, 401, 'invalid_client');
    expect(garbage.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});

describe('client assertions (private_key_jwt, RFC 7523)', () => {
  /** An assertion of the key-pair agent, signed with its registered key, with `claims` changed. */
  const mine = (claims: Record<string, unknown>): Promise<string> =>
    clientAssertion(clientKey, jwtClientId, tokenUrl, claims);

  it.each(malformedJwts())('refuses a malformed assertion: %s', async (_name, jwt) => {
    expectOAuthError(await withAssertion(jwt), 401, 'invalid_client', [jwt]);
  });

  it('refuses a 60 KB assertion (under the body limit) as invalid_client', async () => {
    const jwt = `${b64url('{"alg":"ES256"}')}.${'A'.repeat(60 * 1024)}.c2ln`;
    expectOAuthError(await withAssertion(jwt), 401, 'invalid_client', [jwt]);
  });

  it('refuses a 100 KB assertion as a body over the limit (invalid_request)', async () => {
    const jwt = `${b64url('{"alg":"ES256"}')}.${'A'.repeat(100 * 1024)}.c2ln`;
    expectOAuthError(await withAssertion(jwt), 400, 'invalid_request', [jwt]);
  });

  it('accepts a good assertion once and refuses its replay (the control)', async () => {
    const jwt = await clientAssertion(clientKey, jwtClientId, tokenUrl);
    const first = await withAssertion(jwt);
    expect(first.status, first.text).toBe(200);
    expectOAuthError(await withAssertion(jwt), 401, 'invalid_client', [jwt]);
  });

  const bad: Array<[name: string, make: () => Promise<string>]> = [
    [
      'alg none',
      async () => {
        const now = nowSeconds();
        return unsignedJwt(
          { alg: 'none' },
          { iss: jwtClientId, sub: jwtClientId, aud: tokenUrl, iat: now, exp: now + 60, jti: `n-${now}` },
        );
      },
    ],
    ['RS256 with an unknown key', async () => clientAssertion(await makeRsaKey(), jwtClientId, tokenUrl)],
    [
      'a key of the right type but another kid',
      async () => clientAssertion(await makeKey(), jwtClientId, tokenUrl),
    ],
    ['an expired exp', () => mine({ iat: nowSeconds() - 600, exp: nowSeconds() - 300 })],
    ['an iat 2 minutes in the future', () => mine({ iat: nowSeconds() + 120, exp: nowSeconds() + 180 })],
    ['a wrong aud', () => clientAssertion(clientKey, jwtClientId, `${url}/oauth/introspect`)],
    [
      'an aud of another server',
      () => clientAssertion(clientKey, jwtClientId, 'https://evil.example/oauth/token'),
    ],
    ['iss and sub of another client', () => clientAssertion(clientKey, agents.worker.id, tokenUrl)],
    ['sub of another client', () => mine({ sub: agents.worker.id })],
    ['no jti', () => mine({ jti: undefined })],
    ['a lifetime of an hour', () => mine({ exp: nowSeconds() + 3600 })],
    [
      'typ at+jwt',
      () =>
        signJwt(
          clientKey,
          { iss: jwtClientId, sub: jwtClientId, aud: tokenUrl, exp: nowSeconds() + 60, jti: 'typ1' },
          { typ: 'at+jwt' },
        ),
    ],
  ];
  it.each(bad)('refuses an assertion with %s', async (_name, make) => {
    const jwt = await make();
    expectOAuthError(await withAssertion(jwt), 401, 'invalid_client', [jwt]);
  });
});

describe('DPoP proofs at the token endpoint (RFC 9449 §4.3)', () => {
  const form = { scope: 'echo:read', resource: ECHO };

  it.each(malformedJwts())('refuses a malformed proof: %s', async (_name, jwt) => {
    expectOAuthError(await workerToken(form, { dpop: jwt }), 400, 'invalid_dpop_proof', [jwt]);
  });

  const bad: Array<[name: string, make: (key: TestKey) => Promise<string>]> = [
    ['an iat an hour old', (k) => dpopProof(k, 'POST', tokenUrl, { iat: nowSeconds() - 3600 })],
    ['an iat 10 minutes in the future', (k) => dpopProof(k, 'POST', tokenUrl, { iat: nowSeconds() + 600 })],
    ['the wrong htm', (k) => dpopProof(k, 'GET', tokenUrl)],
    ['a lower-case htm', (k) => dpopProof(k, 'post', tokenUrl)],
    ['the wrong htu', (k) => dpopProof(k, 'POST', `${url}/oauth/revoke`)],
    ['an htu on another host', (k) => dpopProof(k, 'POST', 'https://evil.example/oauth/token')],
    [
      'alg none',
      async (k) => {
        const { kid: _kid, ...jwk } = k.publicJwk;
        return unsignedJwt(
          { alg: 'none', typ: 'dpop+jwt', jwk },
          { jti: `n-${nowSeconds()}`, htm: 'POST', htu: tokenUrl, iat: nowSeconds() },
        );
      },
    ],
    [
      'a private key in the jwk header',
      async (k) => {
        const privateJwk = await exportJWK(k.privateKey);
        return new SignJWT({ jti: 'pk1', htm: 'POST', htu: tokenUrl, iat: nowSeconds() })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: privateJwk })
          .sign(k.privateKey);
      },
    ],
    [
      'the wrong typ',
      async (k) => signJwt(k, { jti: 'x1', htm: 'POST', htu: tokenUrl, iat: nowSeconds() }, { typ: 'JWT' }),
    ],
  ];
  it.each(bad)('refuses a proof with %s', async (_name, make) => {
    const proof = await make(await makeKey());
    expectOAuthError(await workerToken(form, { dpop: proof }), 400, 'invalid_dpop_proof', [proof]);
  });

  it('binds a token to a fresh proof and refuses the same proof again (replayed jti)', async () => {
    const key = await makeKey();
    const proof = await dpopProof(key, 'POST', tokenUrl);
    const first = await workerToken(form, { dpop: proof });
    expect(first.status, first.text).toBe(200);
    expect(first.json.token_type).toBe('DPoP');
    expectOAuthError(await workerToken(form, { dpop: proof }), 400, 'invalid_dpop_proof', [proof]);
  });

  it('refuses a 60 KB proof, and answers 431 to a 100 KB DPoP header', async () => {
    const big = (kb: number) => `${b64url('{"alg":"ES256","typ":"dpop+jwt"}')}.${'A'.repeat(kb * 1024)}.c2ln`;
    // Node's default limit for all request headers together is 16 KiB: past it the HTTP parser answers 431.
    expect((await workerToken(form, { dpop: big(60) })).status).toBe(431);
    expect((await workerToken(form, { dpop: big(100) })).status).toBe(431);
    const small = big(8);
    expectOAuthError(await workerToken(form, { dpop: small }), 400, 'invalid_dpop_proof', [small]);
  });

  it('refuses two DPoP headers', async () => {
    const key = await makeKey();
    const headers = new Headers({
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(agents.worker.id, agents.worker.secret),
    });
    headers.append('dpop', await dpopProof(key, 'POST', tokenUrl));
    headers.append('dpop', await dpopProof(key, 'POST', tokenUrl));
    const a = await send(tokenUrl, {
      method: 'POST',
      headers,
      body: 'grant_type=client_credentials&scope=echo%3Aread&resource=keyward%3Aupstream%3Aecho',
    });
    expectOAuthError(a, 400, 'invalid_dpop_proof');
  });
});

describe('token exchange refuses bad subject tokens with invalid_request (RFC 8693 §2.2.2)', () => {
  it.each(malformedJwts())('refuses a malformed subject token: %s', async (_name, jwt) => {
    expectOAuthError(await exchange(jwt), 400, 'invalid_request', [jwt]);
  });

  it('refuses forged subject tokens: alg none, HS256 keyed with the public key, RS256 of a stranger', async () => {
    for (const [name, token] of await forgedTokens()) {
      const a = await exchange(token);
      expect(a.json.error, `${name}: ${a.text}`).toBe('invalid_request');
      expectOAuthError(a, 400, 'invalid_request', [token]);
    }
  });

  it('refuses a missing or unknown subject_token_type, and a missing subject_token, with invalid_request', async () => {
    const subject = await issue(agents.worker);
    const auth = { authorization: basic(agents.exchanger.id, agents.exchanger.secret) };
    const forms: Array<Record<string, string>> = [
      { subject_token: subject, resource: ECHO },
      { subject_token: subject, subject_token_type: 'urn:example:unknown', resource: ECHO },
      { subject_token_type: ACCESS_TOKEN_TYPE, resource: ECHO },
    ];
    for (const form of forms) {
      const a = await postForm(tokenUrl, { grant_type: TOKEN_EXCHANGE, ...form }, auth);
      expectOAuthError(a, 400, 'invalid_request', [subject]);
    }
  });

  it('refuses a token exchange by an agent type that may not exchange with unauthorized_client', async () => {
    const subject = await issue(agents.worker);
    expectOAuthError(await exchange(subject, agents.worker), 400, 'unauthorized_client', [subject]);
  });

  it('refuses a 60 KB subject token, and a 100 KB one as a body over the limit', async () => {
    const big = (kb: number) => `${b64url('{"alg":"EdDSA","typ":"at+jwt"}')}.${'A'.repeat(kb * 1024)}.c2ln`;
    expectOAuthError(await exchange(big(60)), 400, 'invalid_request', [big(60)]);
    expectOAuthError(await exchange(big(100)), 400, 'invalid_request', [big(100)]);
  });

  it('exchanges a real token once, and refuses a chain deeper than maxChainDepth 1', async () => {
    const subject = await issue(agents.worker);
    const once = await exchange(subject);
    expect(once.status, once.text).toBe(200);
    expect(once.json.issued_token_type).toBe(ACCESS_TOKEN_TYPE);
    const twice = await exchange(once.json.access_token as string, agents.exchanger2);
    expectOAuthError(twice, 400, 'invalid_request');
    expect(twice.json.error_description).toBe(
      'the delegation chain would hold 2 actors; agent type exchanger allows at most 1',
    );
  });

  it('refuses a revoked subject token', async () => {
    const subject = await issue(agents.worker);
    const revoked = await postForm(
      `${url}/oauth/revoke`,
      { token: subject },
      {
        authorization: basic(agents.worker.id, agents.worker.secret),
      },
    );
    expect(revoked.status, revoked.text).toBe(200);
    expectOAuthError(await exchange(subject), 400, 'invalid_request', [subject]);
  });

  it('refuses an expired subject token', async () => {
    const subject = await issue(agents.shortlived);
    const exp = (JSON.parse(Buffer.from(subject.split('.')[1]!, 'base64url').toString()) as { exp: number })
      .exp;
    // Past exp and the verifiers' 5-second leeway; polled rather than slept so a slow machine only waits longer.
    const deadline = Date.now() + 30_000;
    while (Date.now() / 1000 <= exp + 6 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    expectOAuthError(await exchange(subject), 400, 'invalid_request', [subject]);
  }, 40_000);

  it('refuses a subject token for another resource with invalid_target', async () => {
    const a = await workerToken({ scope: 'repo:read', resource: 'https://api.example.test' });
    expect(a.status, a.text).toBe(200);
    const subject = a.json.access_token as string;
    expectOAuthError(await exchange(subject), 400, 'invalid_target', [subject]);
  });
});

describe('the proxy refuses bad bearer tokens (RFC 6750 §3.1)', () => {
  it('forwards a good token with the upstream credential (the control)', async () => {
    const before = upstream.calls.length;
    const a = await proxyGet(`Bearer ${await issue(agents.worker)}`);
    expect(a.status, a.text).toBe(200);
    expect(upstream.calls.length).toBe(before + 1);
    expect(upstream.calls.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
  });

  it.each(malformedJwts())('refuses a malformed token: %s', async (_name, jwt) => {
    const before = upstream.calls.length;
    const a = await proxyGet(`Bearer ${jwt}`);
    // A value outside RFC 6750's b64token syntax is a malformed request (400); anything else an invalid token.
    if (/^[A-Za-z0-9\-._~+/]+=*$/.test(jwt)) expectProxyError(a, 401, 'invalid_token', 'Bearer', [jwt]);
    else expectProxyError(a, 400, 'invalid_request', 'Bearer', [jwt]);
    expect(upstream.calls.length).toBe(before);
  });

  it('refuses forged tokens: alg none, HS256 keyed with the public key, RS256 of a stranger', async () => {
    const before = upstream.calls.length;
    for (const [name, token] of await forgedTokens()) {
      const a = await proxyGet(`Bearer ${token}`);
      expect(a.json.error, `${name}: ${a.text}`).toBe('invalid_token');
      expectProxyError(a, 401, 'invalid_token', 'Bearer', [token]);
    }
    expect(upstream.calls.length).toBe(before);
  });

  it('refuses a token for another resource and a revoked token', async () => {
    const other = await workerToken({ scope: 'repo:read', resource: 'https://api.example.test' });
    const otherToken = other.json.access_token as string;
    expectProxyError(await proxyGet(`Bearer ${otherToken}`), 401, 'invalid_token', 'Bearer', [otherToken]);
    const revoked = await issue(agents.worker);
    const jti = (JSON.parse(Buffer.from(revoked.split('.')[1]!, 'base64url').toString()) as { jti: string })
      .jti;
    await admin('/broker/revocations', { kind: 'jti', value: jti, reason: 'bad-input test' });
    expectProxyError(await proxyGet(`Bearer ${revoked}`), 401, 'invalid_token', 'Bearer', [revoked]);
  });

  it.each([
    ['an encoded NUL', '/items/%00'],
    ['an encoded dot segment', '/items/%2e%2e/admin'],
    ['a dot segment', '/items/../admin'],
    ['an encoded slash', '/items/a%2Fb'],
    ['an encoded percent sign', '/items/%252e'],
    ['an empty segment', '/items//x'],
  ])('refuses a path with %s with 400 invalid_request (docs/broker-proxy.md)', async (_name, path) => {
    const token = await issue(agents.worker);
    const before = upstream.calls.length;
    const a = await rawGet(`/proxy/echo${path}`, token);
    expect({ status: a.status, error: (JSON.parse(a.body) as { error: string }).error }, a.raw).toEqual({
      status: 400,
      error: 'invalid_request',
    });
    expect(a.headers['cache-control']).toBe('no-store');
    expect(a.body).not.toContain(token);
    expect(upstream.calls.length).toBe(before);
  });

  it('forwards a percent-encoded UTF-8 path unchanged (the control)', async () => {
    const a = await rawGet('/proxy/echo/items/caf%C3%A9', await issue(agents.worker));
    expect(a.status, a.raw).toBe(200);
    expect(upstream.calls.at(-1)!.url).toBe('/items/caf%C3%A9');
  });

  // The router cannot decode these URLs at all: docs/http-api.md promises the proxy's own answer for them.
  it.each([
    ['a malformed escape', '/proxy/echo/items/%zz'],
    ['an escape that is not UTF-8', '/proxy/echo/items/%FF%FE'],
    ['a malformed escape in the upstream name', '/proxy/ec%zzho/items/1'],
  ])('answers a URL with %s with 400 invalid_request, not the framework error', async (_name, path) => {
    const token = await issue(agents.worker);
    const before = upstream.calls.length;
    const a = await rawGet(path, token);
    expect({ status: a.status, body: JSON.parse(a.body) as unknown }, a.raw).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'the request is malformed' },
    });
    expect(a.headers['cache-control']).toBe('no-store');
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(upstream.calls.length).toBe(before);
  });

  it('answers 431 to a 100 KB Authorization header without reaching the upstream', async () => {
    const before = upstream.calls.length;
    const a = await proxyGet(`Bearer ${'A'.repeat(100 * 1024)}`);
    expect(a.status).toBe(431);
    expect(upstream.calls.length).toBe(before);
  });

  it('refuses a replayed proof and a proof for another token (ath) at the proxy', async () => {
    const key = await makeKey();
    const issued = await workerToken(
      { scope: 'echo:read', resource: ECHO },
      {
        dpop: await dpopProof(key, 'POST', tokenUrl),
      },
    );
    const token = issued.json.access_token as string;
    const htu = `${url}/proxy/echo/items/1`;
    const proof = await dpopProof(key, 'GET', htu, { ath: ath(token) });
    expect((await proxyGet(`DPoP ${token}`, { dpop: proof })).status).toBe(200);
    const before = upstream.calls.length;
    expectProxyError(await proxyGet(`DPoP ${token}`, { dpop: proof }), 401, 'invalid_dpop_proof', 'DPoP', [
      token,
    ]);
    const otherAth = await dpopProof(key, 'GET', htu, { ath: ath(`${token}x`) });
    expectProxyError(await proxyGet(`DPoP ${token}`, { dpop: otherAth }), 401, 'invalid_dpop_proof', 'DPoP');
    const noAth = await dpopProof(key, 'GET', htu);
    expectProxyError(await proxyGet(`DPoP ${token}`, { dpop: noAth }), 401, 'invalid_dpop_proof', 'DPoP');
    expect(upstream.calls.length).toBe(before);
  });

  it('refuses a DPoP-bound token sent as Bearer, and with a malformed or misdirected proof', async () => {
    const key = await makeKey();
    const issued = await workerToken(
      { scope: 'echo:read', resource: ECHO },
      {
        dpop: await dpopProof(key, 'POST', tokenUrl),
      },
    );
    expect(issued.status, issued.text).toBe(200);
    const token = issued.json.access_token as string;
    const asBearer = await proxyGet(`Bearer ${token}`);
    expectProxyError(asBearer, 401, 'invalid_token', 'Bearer', [token]);
    const malformed = await proxyGet(`DPoP ${token}`, { dpop: 'not.a.jwt' });
    expectProxyError(malformed, 401, 'invalid_dpop_proof', 'DPoP', [token]);
    const wrongHtu = await proxyGet(`DPoP ${token}`, {
      dpop: await dpopProof(key, 'GET', `${url}/proxy/echo/items/2`, { ath: ath(token) }),
    });
    expectProxyError(wrongHtu, 401, 'invalid_dpop_proof', 'DPoP', [token]);
    const good = await proxyGet(`DPoP ${token}`, {
      dpop: await dpopProof(key, 'GET', `${url}/proxy/echo/items/1`, { ath: ath(token) }),
    });
    expect(good.status, good.text).toBe(200);
  });
});

describe('introspection answers {active:false} for bad tokens (RFC 7662 §2.2)', () => {
  it.each(malformedJwts())('a malformed token: %s', async (_name, jwt) => {
    const a = await introspect(jwt);
    expect({ status: a.status, body: a.json }).toEqual({ status: 200, body: { active: false } });
    expect(a.headers.get('cache-control')).toBe('no-store');
  });

  it('forged tokens: alg none, HS256 keyed with the public key, RS256 of a stranger', async () => {
    for (const [name, token] of await forgedTokens()) {
      const a = await introspect(token);
      expect({ name, status: a.status, body: a.json }).toEqual({
        name,
        status: 200,
        body: { active: false },
      });
    }
  });

  it('a 60 KB token is inactive; a 100 KB one is a body over the limit (invalid_request)', async () => {
    const big = (kb: number) => `${b64url('{"alg":"EdDSA","typ":"at+jwt"}')}.${'A'.repeat(kb * 1024)}.c2ln`;
    const a = await introspect(big(60));
    expect({ status: a.status, body: a.json }).toEqual({ status: 200, body: { active: false } });
    expectOAuthError(await introspect(big(100)), 400, 'invalid_request', [big(100)]);
  });

  it('refuses a caller without client authentication, and a wrong admin token', async () => {
    const anonymous = await postForm(`${url}/oauth/introspect`, { token: 'abc.def.ghi' });
    expectOAuthError(anonymous, 401, 'invalid_client');
    const wrongAdmin = `kw_admin_${'x'.repeat(40)}`;
    const a = await postForm(
      `${url}/oauth/introspect`,
      { token: 'abc.def.ghi' },
      { authorization: `Bearer ${wrongAdmin}` },
    );
    expectOAuthError(a, 401, 'invalid_client', [wrongAdmin]);
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it('refuses a token parameter sent twice or missing with invalid_request', async () => {
    const auth = { authorization: basic(agents.worker.id, agents.worker.secret) };
    expectOAuthError(
      await postForm(`${url}/oauth/introspect`, 'token=a.b.c&token=d.e.f', auth),
      400,
      'invalid_request',
    );
    expectOAuthError(await postForm(`${url}/oauth/introspect`, '', auth), 400, 'invalid_request');
    expectOAuthError(
      await postForm(`${url}/oauth/introspect`, 'token_type_hint=x', auth),
      400,
      'invalid_request',
    );
  });

  it('a real token is active (the control)', async () => {
    const a = await introspect(await issue(agents.worker));
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ active: true, scope: 'echo:read' });
  });
});

describe('revocation answers 200 for tokens it cannot use (RFC 7009 §2.2)', () => {
  it('malformed and forged tokens are answered 200 {} and revoke nothing', async () => {
    const live = await issue(agents.worker);
    const tokens = [...malformedJwts().map(([, jwt]) => jwt), ...(await forgedTokens()).map(([, t]) => t)];
    for (const token of tokens) {
      const a = await postForm(
        `${url}/oauth/revoke`,
        { token: sent(token) },
        {
          authorization: basic(agents.worker.id, agents.worker.secret),
        },
      );
      expect({ token, status: a.status, body: a.json }).toEqual({ token, status: 200, body: {} });
      expect(a.headers.get('cache-control')).toBe('no-store');
    }
    expect((await introspect(live)).json).toMatchObject({ active: true });
  });

  it("refuses to revoke another client's token with unauthorized_client (RFC 7009 §2.2.1)", async () => {
    const theirs = await issue(agents.exchanger);
    const a = await postForm(
      `${url}/oauth/revoke`,
      { token: theirs },
      {
        authorization: basic(agents.worker.id, agents.worker.secret),
      },
    );
    expectOAuthError(a, 400, 'unauthorized_client', [theirs]);
    expect((await introspect(theirs)).json).toMatchObject({ active: true });
  });

  it('refuses a caller without client authentication with invalid_client', async () => {
    expectOAuthError(await postForm(`${url}/oauth/revoke`, { token: 'abc.def.ghi' }), 401, 'invalid_client');
  });
});

describe('NUL and non-UTF-8 bytes do not crash the server', () => {
  const host = (): string => `Host: ${new URL(url).host}`;
  const auth = (): string => `Authorization: ${basic(agents.worker.id, agents.worker.secret)}`;
  const tokenHead = (): string[] => ['POST /oauth/token HTTP/1.1', host(), `Content-Type: ${FORM}`];
  const proxyHead = (): string[] => ['GET /proxy/echo/items/1 HTTP/1.1', host()];
  const errorOf = (a: RawAnswer): string => (JSON.parse(a.body) as { error: string }).error;
  const b64 = (octets: number[]): string => Buffer.from(octets).toString('base64');
  const CC = 'grant_type=client_credentials';
  const RES = 'resource=keyward%3Aupstream%3Aecho';
  const bytes = (...parts: Array<string | number[]>): Buffer =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

  it.each([
    ['an encoded NUL in scope', bytes(`${CC}&${RES}&scope=echo%3Aread%00`), 'invalid_scope'],
    ['an encoded NUL in resource', bytes(`${CC}&scope=echo%3Aread&${RES}%00`), 'invalid_target'],
    ['encoded invalid UTF-8 in scope', bytes(`${CC}&${RES}&scope=%FF%FE`), 'invalid_scope'],
    ['raw 0xFF 0xFE NUL in scope', bytes(`${CC}&${RES}&scope=`, [0xff, 0xfe, 0]), 'invalid_scope'],
    [
      'an encoded NUL in grant_type',
      bytes('grant_type=client%00credentials&scope=echo%3Aread'),
      'unsupported_grant_type',
    ],
  ])('refuses %s in the form with 400 and the RFC code', async (_name, body, error) => {
    const a = await rawRequest(url, rawHttp([...tokenHead(), auth()], body));
    expect({ status: a.status, error: errorOf(a) }, a.raw).toEqual({ status: 400, error });
  });

  it.each([
    [
      'an encoded NUL in client_id',
      () => `client_id=${agents.worker.id}%00&client_secret=${agents.worker.secret}`,
      [],
    ],
    ['encoded invalid UTF-8 in client_id and a NUL secret', () => 'client_id=%FF%FE&client_secret=%00', []],
    [
      'NUL and 0xFF inside Basic credentials',
      () => '',
      [`Authorization: Basic ${b64([0xff, 0, 0x3a, 0xfe])}`],
    ],
    [
      'raw 0xFF bytes as the Basic credentials',
      () => '',
      [bytes('Authorization: Basic ', [0xff, 0xfe, 0x80])],
    ],
  ])('refuses %s with 401 invalid_client', async (_name, form, headers) => {
    const body = Buffer.from(`grant_type=client_credentials&scope=echo%3Aread&${form()}`);
    const a = await rawRequest(url, rawHttp([...tokenHead(), ...headers], body));
    expect({ status: a.status, error: errorOf(a) }, a.raw).toEqual({ status: 401, error: 'invalid_client' });
  });

  it('refuses raw 0xFF bytes in a DPoP proof (invalid_dpop_proof) and a bearer token at the proxy', async () => {
    const body = Buffer.from(
      'grant_type=client_credentials&scope=echo%3Aread&resource=keyward%3Aupstream%3Aecho',
    );
    const dpop = bytes('DPoP: eyJ', [0xff, 0xfe, 0x80], '.e30.c2ln');
    const d = await rawRequest(url, rawHttp([...tokenHead(), auth(), dpop], body));
    expect({ status: d.status, error: errorOf(d) }, d.raw).toEqual({
      status: 400,
      error: 'invalid_dpop_proof',
    });
    const bearer = bytes('Authorization: Bearer eyJ', [0xff, 0xfe, 0x80]);
    const p = await rawRequest(url, rawHttp([...proxyHead(), bearer]));
    expect({ status: p.status, error: errorOf(p) }, p.raw).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('answers NUL in a header value and raw high bytes in the request target with 400 from the HTTP parser', async () => {
    const nulDpop = bytes('DPoP: eyJ', [0], '.e30.c2ln');
    const a = await rawRequest(
      url,
      rawHttp([...tokenHead(), auth(), nulDpop], Buffer.from('grant_type=client_credentials')),
    );
    expect(a.status, a.raw).toBe(400);
    const p = await rawRequest(url, rawHttp([...proxyHead(), bytes('Authorization: Bearer a', [0], 'b')]));
    expect(p.status, p.raw).toBe(400);
    // RFC 9112 §3.2: the request target is ASCII; the parser refuses the request before any route.
    const high = await rawRequest(
      url,
      rawHttp([bytes('GET /proxy/echo/items/', [0xff], ' HTTP/1.1'), host()]),
    );
    expect(high.status, high.raw).toBe(400);
  });
});

describe('bad input in parallel', () => {
  it('answers 120 concurrent bad requests each with its refusal, none with a 5xx', async () => {
    const auth = { authorization: basic(agents.worker.id, agents.worker.secret) };
    const jwts = malformedJwts().map(([, jwt]) => jwt);
    const requests = Array.from({ length: 120 }, (_, i): Promise<Answer> => {
      const jwt = jwts[i % jwts.length]!;
      switch (i % 4) {
        case 0:
          return withAssertion(jwt);
        case 1:
          return exchange(jwt);
        case 2:
          return workerToken({ scope: 'echo:read', resource: ECHO }, { dpop: jwt });
        default:
          return postForm(tokenUrl, `grant_type=client_credentials&scope=%zz`, auth);
      }
    });
    const answers = await Promise.all(requests);
    const expected = ['invalid_client', 'invalid_request', 'invalid_dpop_proof', 'invalid_request'];
    expect(answers.map((a) => a.json.error)).toEqual(answers.map((_, i) => expected[i % 4]));
  }, 60_000);
});

describe('after all of it', () => {
  it('the server is alive and ready, logged no stack trace, and the event log verifies', async () => {
    expect(serve.child.exitCode).toBeNull();
    expect((await send(`${url}/healthz`)).json).toEqual({ status: 'ok' });
    expect((await send(`${url}/readyz`)).status).toBe(200);
    // The server still issues tokens.
    expect((await workerToken({ scope: 'echo:read', resource: ECHO })).status).toBe(200);
    expect(serve.stderr()).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
    expect(serve.stderr()).not.toMatch(/"level":(50|60)/);
    // The server log (pino, on stdout) has no failed request and no serialised error with its stack.
    expect(serve.stdout()).not.toMatch(/"level":(50|60)/);
    expect(serve.stdout()).not.toContain('"stack"');
    for (const s of secrets()) {
      expect(serve.stdout()).not.toContain(s);
      expect(serve.stderr()).not.toContain(s);
    }
    const events = await readEventLog();
    const denied = events.filter((e) => e.type === 'broker.token.denied');
    expect(denied.length).toBeGreaterThan(50);
    expect(new Set(denied.map((e) => (e.data as { error: string }).error))).toEqual(
      new Set([
        'invalid_request',
        'invalid_client',
        'invalid_scope',
        'invalid_target',
        'invalid_dpop_proof',
        'unsupported_grant_type',
        'unauthorized_client',
      ]),
    );
    const log = JSON.stringify(events);
    for (const s of [...secrets(), ...sentTokens]) expect(log.includes(s), s.slice(0, 40)).toBe(false);
    for (const s of sentTokens) expect(serve.stdout().includes(s) || serve.stderr().includes(s)).toBe(false);

    const verify = await runKeyward(['--data-dir', dir, 'audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/ok/i);
  }, 60_000);
});
