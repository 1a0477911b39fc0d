import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { Agent } from 'undici';
import type { Upstream } from '../../core/broker-types.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { fixedClock } from '../../core/time.js';
import type { NewEvent } from '../../core/types.js';
import { createCredentialProxy, splitChallenges, upstreamAudience } from './credential-proxy.js';
import type {
  CredentialProxyDeps,
  ProxyRequest,
  ProxyResponse,
  ProxyTokenVerification,
} from './credential-proxy.js';
import {
  clientRequest,
  closedPort,
  createTestTokenIssuer,
  digestStream,
  fakeVerifier,
  generatedSha256,
  generatedStream,
  readAll,
  startTestProxyServer,
  startTestUpstream,
  testClaims,
} from './proxy-test-support.js';
import type { TestUpstream } from './proxy-test-support.js';
import { createUpstreamVault, describeUpstreamInput } from './upstream-vault.js';
import type { UpstreamDefinition } from './upstream-vault.js';

const masterKey = Buffer.alloc(32, 11);
const fingerprinter = createFingerprinter(masterKey);
const vault = createUpstreamVault(masterKey);
const SECRET = 'tk_live_UPSTREAM_SECRET_7f3a9c2e1b';
const TOKEN = 'agent-token.AGENTTOKENPAYLOAD.signature-0001';
const NOW = '2026-03-01T12:00:00.000Z';
const MB20 = 20 * 1024 * 1024;

const ROUTES: UpstreamDefinition['routes'] = [
  { scope: 'tickets:read', methods: ['GET', 'HEAD'], paths: ['/tickets/*', '/tickets', '/big', '/slow*'] },
  { scope: 'tickets:write', methods: ['POST'], paths: ['/tickets', '/upload'] },
];

let upstreamServer: TestUpstream;
let upstreams: Map<string, Upstream>;
let events: NewEvent[];
let errors: Array<{ stage: string; upstream: string; jti: string | null; error: unknown }>;
/** Makes appendEvent throw: for every event (true) or for those the predicate picks. */
let failAppend: boolean | ((event: NewEvent) => boolean);
let mono: number;
let dispatcher: Agent;
const cleanups: Array<() => Promise<void>> = [];

function register(
  name: string,
  baseUrl: string,
  auth: UpstreamDefinition['auth'] = { kind: 'header', headerName: 'X-Api-Key' },
  secret = SECRET,
): Upstream {
  const input = describeUpstreamInput(
    { name, baseUrl, auth, secret, routes: ROUTES },
    masterKey,
    fingerprinter,
  );
  const record: Upstream = { ...input, id: `ups_${name}`, createdAt: NOW, updatedAt: NOW };
  upstreams.set(name, record);
  return record;
}

const goodToken = (
  overrides: Parameters<typeof testClaims>[0] = {},
): Record<string, ProxyTokenVerification> => ({
  [TOKEN]: { ok: true, claims: testClaims(overrides) },
});

function makeProxy(overrides: Partial<CredentialProxyDeps> = {}, tokens = goodToken()) {
  const verifier = fakeVerifier(tokens);
  const proxy = createCredentialProxy({
    getUpstream: async (name) => upstreams.get(name) ?? null,
    verifyToken: verifier.verifyToken,
    openSecret: (u) => vault.open(u),
    appendEvent: async (event) => {
      if (failAppend === true || (typeof failAppend === 'function' && failAppend(event))) {
        throw new Error('event log unavailable');
      }
      events.push(event);
      return { seq: events.length };
    },
    onError: (error, ctx) => errors.push({ ...ctx, error }),
    proxyUrl: 'https://keyward.test/proxy/',
    clock: fixedClock(NOW),
    monotonicMs: () => mono,
    dispatcher,
    timeouts: { headersMs: 2000, bodyMs: 2000 },
    ...overrides,
  });
  return { proxy, verifier };
}

function call(overrides: Partial<ProxyRequest> = {}): ProxyRequest {
  return {
    method: 'GET',
    upstreamName: 'tickets',
    path: '/tickets/42',
    query: '',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: null,
    ...overrides,
  };
}

async function bodyJson(res: ProxyResponse): Promise<unknown> {
  return JSON.parse((await readAll(res.body)).toString('utf8'));
}

/** The fields every event of the default token carries. */
const who = { jti: 'jti-0001', clientId: 'kwc_triage1', sub: 'agt_triage1', task: 'triage-42' };

const CALL_DEFAULTS = {
  upstream: 'tickets',
  upstreamId: 'ups_tickets',
  method: 'GET',
  path: '/tickets/42',
  scope: 'tickets:read',
};

/** `proxy.call.started`: written before the call is forwarded. */
function startedEvent(data: Record<string, unknown>): NewEvent {
  const start = { ...CALL_DEFAULTS, ...data };
  return {
    time: NOW,
    type: 'proxy.call.started',
    actor: 'kwc_triage1',
    subject: 'agt_triage1',
    data: {
      upstream: start.upstream,
      upstreamId: start.upstreamId,
      method: start.method,
      path: start.path,
      scope: start.scope,
      ...who,
    },
  };
}

/** The two records of one forwarded call: its start (seq `startSeq` in the log) and its outcome. */
function forwarded(data: Record<string, unknown>, startSeq = 1): NewEvent[] {
  return [startedEvent(data), callEvent({ ...data, startSeq })];
}

function callEvent(data: Record<string, unknown>): NewEvent {
  return {
    time: NOW,
    type: 'proxy.call',
    actor: 'kwc_triage1',
    subject: 'agt_triage1',
    data: {
      upstream: 'tickets',
      upstreamId: 'ups_tickets',
      method: 'GET',
      path: '/tickets/42',
      scope: 'tickets:read',
      status: 200,
      outcome: 'completed',
      bytesIn: 0,
      bytesOut: 0,
      latencyMs: 0,
      durationMs: 0,
      startSeq: 1,
      ...data,
      ...who,
    },
  };
}

function deniedEvent(data: Record<string, unknown>): NewEvent {
  return {
    time: NOW,
    type: 'proxy.call.denied',
    actor: 'kwc_triage1',
    subject: 'agt_triage1',
    data: { upstream: 'tickets', method: 'GET', scopes: ['tickets:read'], ...data, ...who },
  };
}

beforeEach(async () => {
  upstreamServer = await startTestUpstream();
  upstreams = new Map();
  events = [];
  errors = [];
  failAppend = false;
  mono = 1000;
  dispatcher = new Agent({ connect: { timeout: 2000 } });
  register('tickets', `${upstreamServer.url}/api`);
});

afterEach(async () => {
  // Whatever happened, neither the upstream credential nor the agent's token is in any event or error report.
  const recorded = JSON.stringify(events) + JSON.stringify(errors.map((e) => String(e.error)));
  expect(recorded).not.toContain(SECRET);
  expect(recorded).not.toContain(TOKEN);
  while (cleanups.length) await cleanups.pop()!();
  await dispatcher.close();
  await upstreamServer.close();
});

describe('forwarding', () => {
  it('injects the upstream credential, drops the agent token, and records the call', async () => {
    upstreamServer.setHandler((_req, res) => {
      mono = 1040;
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r1' });
      res.end('{"id":42}');
    });
    const { proxy } = makeProxy();
    const res = await proxy.handle(
      call({
        query: 'state=open',
        headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
      }),
    );
    mono = 1070;
    const body = await readAll(res.body);

    expect(res.status).toBe(200);
    expect(body.toString()).toBe('{"id":42}');
    expect(JSON.stringify(res.headers) + body.toString()).not.toContain(SECRET);
    const [got] = upstreamServer.requests;
    expect(upstreamServer.requests).toHaveLength(1);
    expect(got!.method).toBe('GET');
    expect(got!.url).toBe('/api/tickets/42?state=open');
    expect(got!.headers['x-api-key']).toBe(SECRET);
    expect(got!.headers.authorization).toBeUndefined();
    expect(got!.rawHeaders.join('\n')).not.toContain(TOKEN);
    expect(events).toEqual(forwarded({ bytesOut: 9, latencyMs: 40, durationMs: 70 }));
  });

  it('sends basic and bearer credentials in Authorization, replacing the agent token', async () => {
    register('basic-api', upstreamServer.url, { kind: 'basic' }, 'bot:s3cr3t-pass');
    register('bearer-api', upstreamServer.url, { kind: 'bearer' });
    const { proxy } = makeProxy(
      {},
      {
        [TOKEN]: {
          ok: true,
          claims: testClaims({ aud: ['keyward:upstream:basic-api', 'keyward:upstream:bearer-api'] }),
        },
      },
    );
    await readAll((await proxy.handle(call({ upstreamName: 'basic-api', path: '/tickets' }))).body);
    await readAll((await proxy.handle(call({ upstreamName: 'bearer-api', path: '/tickets' }))).body);
    const [basic, bearer] = upstreamServer.requests;
    expect(basic!.headers.authorization).toBe(`Basic ${Buffer.from('bot:s3cr3t-pass').toString('base64')}`);
    expect(bearer!.headers.authorization).toBe(`Bearer ${SECRET}`);
    for (const r of upstreamServer.requests) expect(r.rawHeaders.join('\n')).not.toContain(TOKEN);
  });

  it('strips the agent credentials, hop-by-hop and forwarding headers from the request', async () => {
    const { proxy } = makeProxy();
    const res = await proxy.handle(
      call({
        headers: {
          authorization: `DPoP ${TOKEN}`,
          dpop: 'proof.jwt.value',
          cookie: 'session=agent-cookie',
          host: 'keyward.test',
          connection: 'keep-alive, X-Conn-Listed',
          'x-conn-listed': 'dropped',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          trailer: 'x-checksum',
          upgrade: 'websocket',
          'proxy-authorization': 'Basic Zm9vOmJhcg==',
          'proxy-connection': 'keep-alive',
          'x-forwarded-for': '203.0.113.9',
          'x-forwarded-host': 'evil.example',
          'x-forwarded-proto': 'http',
          forwarded: 'for=203.0.113.9',
          'x-real-ip': '203.0.113.9',
          'x-api-key': 'agent-supplied-key',
          expect: '100-continue',
          accept: 'application/json',
          'user-agent': 'triage-bot/1.0',
          'x-trace': ['a', 'b'],
        },
      }),
    );
    await readAll(res.body);
    const got = upstreamServer.requests[0]!;
    const names = [
      ...new Set(got.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())),
    ].sort();
    // undici opens its own keep-alive connection; nothing of the agent's Connection header reaches the upstream.
    expect(names).toEqual(['accept', 'connection', 'host', 'user-agent', 'x-api-key', 'x-trace']);
    expect(got.headers.connection).toBe('keep-alive');
    expect(got.headers['x-api-key']).toBe(SECRET);
    expect(got.headers.host).toBe(`127.0.0.1:${upstreamServer.port}`);
    expect(got.headers['x-trace']).toBe('a, b');
  });

  it('strips hop-by-hop headers and cookies from the response', async () => {
    upstreamServer.setHandler((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('set-cookie', ['upstream_session=abc; HttpOnly', 'other=1']);
      res.setHeader('connection', 'keep-alive, X-Hop');
      res.setHeader('x-hop', 'dropped');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('proxy-authenticate', 'Basic realm="upstream"');
      res.setHeader('trailer', 'x-checksum');
      res.setHeader('x-kept', 'yes');
      res.setHeader('date', 'Sun, 01 Mar 2026 12:00:00 GMT');
      res.end('hello');
    });
    const { proxy } = makeProxy();
    const res = await proxy.handle(call());
    expect(await readAll(res.body)).toEqual(Buffer.from('hello'));
    expect(res.headers).toEqual({
      'content-type': 'text/plain',
      date: 'Sun, 01 Mar 2026 12:00:00 GMT',
      'x-kept': 'yes',
    });
  });

  it('returns redirects as they are, without following them', async () => {
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(302, { location: 'https://elsewhere.example/steal', 'content-length': '0' });
      res.end();
    });
    const { proxy } = makeProxy();
    const res = await proxy.handle(call());
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://elsewhere.example/steal');
    expect((await readAll(res.body)).length).toBe(0);
    expect(upstreamServer.requests).toHaveLength(1);
    expect(events).toEqual(forwarded({ status: 302 }));
  });

  it('records a HEAD call before answering it', async () => {
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(200, { 'content-length': '1234' });
      res.end();
    });
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ method: 'HEAD' }));
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('1234');
    expect(events).toEqual(forwarded({ method: 'HEAD' }));
  });
});

describe('streaming', () => {
  it('streams a 20 MB request body to the upstream as it arrives', async () => {
    let upstreamBytes = 0;
    upstreamServer.onRequestStart = (req) => req.on('data', (c: Buffer) => (upstreamBytes += c.length));
    const { proxy } = makeProxy({}, goodToken({ scope: 'tickets:write' }));
    const front = await startTestProxyServer(proxy);
    cleanups.push(front.close);
    let seenBeforeEnd = false;
    // Halfway through, wait for the upstream to have received something: a proxy that buffered the whole
    // body would hold it back until the end.
    const body = generatedStream(MB20, 64 * 1024, async (index) => {
      if (index !== 160) return;
      for (let i = 0; i < 500 && upstreamBytes === 0; i++) await new Promise((r) => setTimeout(r, 10));
      seenBeforeEnd = upstreamBytes > 0;
    });
    const result = await clientRequest(`${front.url}/proxy/tickets/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-length': String(MB20) },
      body,
    });
    expect(result.status).toBe(200);
    expect(seenBeforeEnd).toBe(true);
    const got = upstreamServer.requests[0]!;
    expect(got.bytes).toBe(MB20);
    expect(got.sha256).toBe(generatedSha256(MB20));
    expect(got.headers['content-length']).toBe(String(MB20));
    expect(events).toEqual(
      forwarded({ method: 'POST', path: '/upload', scope: 'tickets:write', bytesIn: MB20, bytesOut: 11 }),
    );
  });

  it('streams a chunked request body (no Content-Length) as chunked', async () => {
    const { proxy } = makeProxy({}, goodToken({ scope: 'tickets:write' }));
    const res = await proxy.handle(
      call({
        method: 'POST',
        path: '/upload',
        headers: { authorization: `Bearer ${TOKEN}`, 'transfer-encoding': 'chunked' },
        body: generatedStream(1_000_000, 10_000),
      }),
    );
    await readAll(res.body);
    const got = upstreamServer.requests[0]!;
    expect(got.bytes).toBe(1_000_000);
    expect(got.sha256).toBe(generatedSha256(1_000_000, 10_000));
    expect(got.headers['transfer-encoding']).toBe('chunked');
  });

  it('streams a 20 MB response body to the agent as it arrives', async () => {
    let agentBytes = 0;
    let seenBeforeEnd = false;
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(MB20) });
      generatedStream(MB20, 64 * 1024, async (index) => {
        if (index !== 160) return;
        for (let i = 0; i < 500 && agentBytes === 0; i++) await new Promise((r) => setTimeout(r, 10));
        seenBeforeEnd = agentBytes > 0;
      }).pipe(res);
    });
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ path: '/big' }));
    res.body.on('data', (c: Buffer) => (agentBytes += c.length));
    const digest = await digestStream(res.body);
    expect(seenBeforeEnd).toBe(true);
    expect(digest).toEqual({ bytes: MB20, sha256: generatedSha256(MB20) });
    expect(events).toEqual(forwarded({ path: '/big', bytesOut: MB20 }));
  });

  it('passes each chunk of an event stream on at once', async () => {
    let agentText = '';
    let firstSeenBeforeSecond = false;
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      void (async () => {
        for (let i = 0; i < 500 && agentText === ''; i++) await new Promise((r) => setTimeout(r, 10));
        firstSeenBeforeSecond = agentText === 'data: one\n\n';
        res.end('data: two\n\n');
      })();
    });
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ path: '/tickets/stream' }));
    for await (const chunk of res.body) agentText += (chunk as Buffer).toString();
    expect(firstSeenBeforeSecond).toBe(true);
    expect(agentText).toBe('data: one\n\ndata: two\n\n');
    expect(events).toEqual(forwarded({ path: '/tickets/stream', bytesOut: 22 }));
  });

  it('records an agent that goes away mid-response as aborted', async () => {
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      generatedStream(MB20).pipe(res);
    });
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ path: '/big' }));
    await new Promise<void>((resolve) => res.body.once('data', () => resolve()));
    res.body.destroy();
    await expect.poll(() => events.length).toBe(2);
    expect(events[0]).toEqual(startedEvent({ path: '/big' }));
    expect(events[1]!.data).toMatchObject({ outcome: 'aborted', status: 200, startSeq: 1 });
    expect(events[1]!.data.bytesOut).toBeGreaterThan(0);
    expect(events[1]!.data.bytesOut).toBeLessThan(MB20);
  });
});

describe('refusals', () => {
  it('answers a call the granted scopes do not cover with 403 insufficient_scope (RFC 6750 §3.1)', async () => {
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ method: 'POST', path: '/tickets' }));
    expect(res.status).toBe(403);
    expect(await bodyJson(res)).toEqual({
      error: 'insufficient_scope',
      error_description: 'POST /tickets on upstream "tickets" needs the scope "tickets:write"',
    });
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", error_description="POST /tickets on upstream 'tickets' needs the scope 'tickets:write'", scope="tickets:write"`,
    );
    expect(upstreamServer.requests).toHaveLength(0);
    expect(events).toEqual([
      deniedEvent({
        method: 'POST',
        path: '/tickets',
        status: 403,
        reason: 'insufficient-scope',
        requiredScopes: ['tickets:write'],
      }),
    ]);
  });

  it('answers a path no route covers with 403 route_not_allowed', async () => {
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ path: '/admin/users' }));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(await bodyJson(res)).toEqual({
      error: 'route_not_allowed',
      error_description: 'no route allows GET /admin/users on upstream "tickets"',
    });
    expect(events).toEqual([deniedEvent({ path: '/admin/users', status: 403, reason: 'no-route' })]);
  });

  it('answers a method no route allows on the path with 405 and Allow', async () => {
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ method: 'DELETE', path: '/tickets/42' }));
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(await bodyJson(res)).toEqual({
      error: 'method_not_allowed',
      error_description:
        'DELETE /tickets/42 on upstream "tickets" is not allowed; this path allows GET, HEAD',
    });
    expect(events).toEqual([
      deniedEvent({ method: 'DELETE', path: '/tickets/42', status: 405, reason: 'method-not-allowed' }),
    ]);
  });

  it.each([
    ['/tickets/../admin', 'the path holds a dot segment (..)'],
    ['/tickets/%2e%2e/admin', 'the path holds a dot segment (..)'],
    ['/tickets/..;/admin', 'the path holds a dot segment (..)'],
    ['/tickets/x%2F..%2F..%2Fadmin', 'the path holds an encoded slash (%2F)'],
    ['/tickets/x%5c..%5cadmin', 'the path holds an encoded backslash (%5C)'],
    ['/tickets\\..\\admin', 'the path holds a backslash'],
    ['/tickets//admin', "the path holds an empty segment ('//')"],
    ['/tickets/%00', 'the path holds an encoded NUL (%00)'],
    ['/tickets/%252e%252e/admin', 'the path holds an encoded percent sign (%25), which may be decoded twice'],
  ])('refuses the traversal %j with 400 and forwards nothing', async (path, message) => {
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ path }));
    expect(res.status).toBe(400);
    expect(await bodyJson(res)).toEqual({ error: 'invalid_request', error_description: message });
    expect(upstreamServer.requests).toHaveLength(0);
    expect(events).toEqual([deniedEvent({ path, status: 400, reason: 'invalid-path' })]);
  });

  it('refuses a malformed query and both Content-Length and Transfer-Encoding', async () => {
    const { proxy } = makeProxy({}, goodToken({ scope: 'tickets:write tickets:read' }));
    const q = await proxy.handle(call({ query: 'q=a b' }));
    expect(q.status).toBe(400);
    expect(await bodyJson(q)).toEqual({
      error: 'invalid_request',
      error_description: 'the query holds a space',
    });
    const both = await proxy.handle(
      call({
        method: 'POST',
        path: '/upload',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-length': '3', 'transfer-encoding': 'chunked' },
      }),
    );
    expect(both.status).toBe(400);
    expect(await bodyJson(both)).toEqual({
      error: 'invalid_request',
      error_description: 'send Content-Length or Transfer-Encoding, not both',
    });
    expect(upstreamServer.requests).toHaveLength(0);
  });

  it('answers 404 for an unknown upstream, after the token', async () => {
    const { proxy, verifier } = makeProxy({}, goodToken({ aud: upstreamAudience('nope') }));
    const res = await proxy.handle(call({ upstreamName: 'nope' }));
    expect(res.status).toBe(404);
    expect(await bodyJson(res)).toEqual({
      error: 'not_found',
      error_description: 'no upstream is named "nope"',
    });
    expect(events).toEqual([
      deniedEvent({ upstream: 'nope', path: '/tickets/42', status: 404, reason: 'unknown-upstream' }),
    ]);
    // A name that cannot exist is answered without looking at the token.
    const bad = await proxy.handle(call({ upstreamName: '../tickets' }));
    expect(bad.status).toBe(404);
    expect(await bodyJson(bad)).toEqual({ error: 'not_found', error_description: 'no such upstream' });
    expect(verifier.calls).toHaveLength(1);
  });

  it('refuses a token for another upstream even when verifyToken let it through', async () => {
    const { proxy } = makeProxy({}, goodToken({ aud: ['keyward:upstream:billing'] }));
    const res = await proxy.handle(call());
    expect(res.status).toBe(401);
    const description =
      'the token was not issued for upstream "tickets" (its aud must include "keyward:upstream:tickets")';
    expect(await bodyJson(res)).toEqual({ error: 'invalid_token', error_description: description });
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="invalid_token", error_description="${description.replaceAll('"', "'")}"`,
    );
    expect(events).toEqual([deniedEvent({ path: '/tickets/42', status: 401, reason: 'wrong-audience' })]);
    expect(upstreamServer.requests).toHaveLength(0);
  });
});

describe('the agent token', () => {
  it('asks for a token when none (or another scheme) is sent, without an error code', async () => {
    const { proxy, verifier } = makeProxy();
    for (const headers of [{}, { authorization: 'Basic Zm9vOmJhcg==' }]) {
      const res = await proxy.handle(call({ headers }));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward", DPoP realm="keyward"');
      expect(await bodyJson(res)).toEqual({
        error: 'invalid_request',
        error_description: 'send the Keyward access token as Authorization: Bearer <token> or DPoP <token>',
      });
    }
    const malformed = await proxy.handle(call({ headers: { authorization: 'Bearer two words' } }));
    expect(malformed.status).toBe(400);
    expect(await bodyJson(malformed)).toEqual({
      error: 'invalid_request',
      error_description: 'the Authorization header is malformed',
    });
    expect(verifier.calls).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('tells verifyToken the audience, scheme, proof, method and URL', async () => {
    const { proxy, verifier } = makeProxy();
    await readAll(
      (
        await proxy.handle(
          call({ headers: { authorization: `dpop ${TOKEN}`, dpop: 'the.proof.jwt' }, query: 'a=1' }),
        )
      ).body,
    );
    expect(verifier.calls).toEqual([
      {
        token: TOKEN,
        context: {
          audience: 'keyward:upstream:tickets',
          scheme: 'DPoP',
          dpopProof: 'the.proof.jwt',
          method: 'GET',
          url: 'https://keyward.test/proxy/tickets/tickets/42',
        },
      },
    ]);
  });

  it('passes a token failure through with its status, error and challenge', async () => {
    const { proxy } = makeProxy(
      {},
      {
        [TOKEN]: {
          ok: false,
          status: 401,
          error: 'invalid_token',
          description: 'the access token has expired',
        },
      },
    );
    const res = await proxy.handle(call());
    expect(res.status).toBe(401);
    expect(await bodyJson(res)).toEqual({
      error: 'invalid_token',
      error_description: 'the access token has expired',
    });
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="the access token has expired"',
    );
    expect(upstreamServer.requests).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('answers DPoP proof failures with the DPoP scheme and passes a DPoP-Nonce on', async () => {
    const { proxy } = makeProxy(
      {},
      {
        [TOKEN]: {
          ok: false,
          status: 401,
          error: 'use_dpop_nonce',
          description: 'DPoP proof: this server requires a nonce (DPoP-Nonce)',
          headers: { 'DPoP-Nonce': 'n-123' },
        },
      },
    );
    const res = await proxy.handle(call({ headers: { authorization: `Bearer ${TOKEN}`, dpop: 'p.r.f' } }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'DPoP error="use_dpop_nonce", error_description="DPoP proof: this server requires a nonce (DPoP-Nonce)"',
    );
    expect(res.headers['dpop-nonce']).toBe('n-123');
  });

  it('refuses more than one DPoP proof', async () => {
    const { proxy, verifier } = makeProxy();
    const res = await proxy.handle(
      call({ headers: { authorization: `DPoP ${TOKEN}`, dpop: 'a.b.c, d.e.f' } }),
    );
    expect(res.status).toBe(401);
    expect(await bodyJson(res)).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'send at most one DPoP proof',
    });
    expect(verifier.calls).toHaveLength(0);
  });

  it('answers 503 when the token cannot be checked', async () => {
    const { proxy } = makeProxy({
      verifyToken: async () => {
        throw new Error('revocation store down');
      },
    });
    const res = await proxy.handle(call());
    expect(res.status).toBe(503);
    expect(await bodyJson(res)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the token could not be checked; try again later',
    });
    expect(errors.map((e) => [e.stage, e.upstream, e.jti])).toEqual([['verify', 'tickets', null]]);
  });

  it('works with the real access-token verifier, including DPoP-bound tokens', async () => {
    const keys = await createTestTokenIssuer();
    const { proxy } = makeProxy({ verifyToken: keys.verifyToken });
    const bearer = await keys.mint({ audience: upstreamAudience('tickets'), scope: ['tickets:read'] });

    const ok = await proxy.handle(call({ headers: { authorization: `Bearer ${bearer.token}` } }));
    expect(ok.status).toBe(200);
    await readAll(ok.body);
    expect(upstreamServer.requests[0]!.headers['x-api-key']).toBe(SECRET);
    expect(upstreamServer.requests[0]!.rawHeaders.join('\n')).not.toContain(bearer.token);

    const other = await keys.mint({ audience: upstreamAudience('billing'), scope: ['tickets:read'] });
    const wrongAud = await proxy.handle(call({ headers: { authorization: `Bearer ${other.token}` } }));
    expect(wrongAud.status).toBe(401);
    expect(await bodyJson(wrongAud)).toMatchObject({ error: 'invalid_token' });

    const tampered = `${bearer.token.slice(0, -4)}AAAA`;
    const bad = await proxy.handle(call({ headers: { authorization: `Bearer ${tampered}` } }));
    expect(bad.status).toBe(401);

    const bound = await keys.mint({
      audience: upstreamAudience('tickets'),
      scope: ['tickets:read'],
      dpop: true,
    });
    const asBearer = await proxy.handle(call({ headers: { authorization: `Bearer ${bound.token}` } }));
    expect(asBearer.status).toBe(401);
    expect(await bodyJson(asBearer)).toEqual({
      error: 'invalid_token',
      error_description:
        'this token is bound to a DPoP key; send it as Authorization: DPoP with a DPoP proof',
    });
    const proof = await keys.proof({
      htm: 'GET',
      htu: 'https://keyward.test/proxy/tickets/tickets/42',
      token: bound.token,
    });
    const withProof = await proxy.handle(
      call({ headers: { authorization: `DPoP ${bound.token}`, dpop: proof } }),
    );
    expect(withProof.status).toBe(200);
    await readAll(withProof.body);
    const replay = await proxy.handle(
      call({ headers: { authorization: `DPoP ${bound.token}`, dpop: proof } }),
    );
    expect(replay.status).toBe(401);
    expect(replay.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);

    expect(events.map((e) => [e.type, e.data.jti, e.data.status ?? null, e.data.startSeq ?? null])).toEqual([
      ['proxy.call.started', bearer.jti, null, null],
      ['proxy.call', bearer.jti, 200, 1],
      ['proxy.call.started', bound.jti, null, null],
      ['proxy.call', bound.jti, 200, 3],
    ]);
    const recorded = JSON.stringify(events);
    for (const t of [bearer.token, other.token, bound.token, proof]) expect(recorded).not.toContain(t);
  });
});

describe('upstream failures', () => {
  it('answers 502 when the upstream cannot be reached', async () => {
    register('tickets', `http://127.0.0.1:${await closedPort()}`);
    const { proxy } = makeProxy();
    const res = await proxy.handle(call());
    expect(res.status).toBe(502);
    const text = (await readAll(res.body)).toString();
    expect(JSON.parse(text)).toEqual({
      error: 'bad_gateway',
      error_description: 'upstream "tickets" could not be reached (ECONNREFUSED)',
    });
    expect(text).not.toContain(SECRET);
    expect(events).toEqual(forwarded({ status: 502, outcome: 'upstream-unreachable' }));
  });

  it('answers 504 when the upstream does not answer in time', async () => {
    upstreamServer.setHandler(() => {
      // never answers
    });
    const { proxy } = makeProxy({ timeouts: { headersMs: 200, bodyMs: 200 } });
    const res = await proxy.handle(call({ path: '/slow' }));
    expect(res.status).toBe(504);
    expect(await bodyJson(res)).toEqual({
      error: 'gateway_timeout',
      error_description: 'upstream "tickets" did not answer in time',
    });
    expect(events).toEqual(forwarded({ path: '/slow', status: 504, outcome: 'timeout' }));
  });

  it('cuts the response off when the upstream stalls mid-body, and records a timeout', async () => {
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('x'.repeat(40));
      // ... and never the other 60 bytes
    });
    const { proxy } = makeProxy({ timeouts: { headersMs: 2000, bodyMs: 200 } });
    const res = await proxy.handle(call({ path: '/slow-body' }));
    expect(res.status).toBe(200);
    await expect(readAll(res.body)).rejects.toThrow();
    expect(events).toEqual(forwarded({ path: '/slow-body', outcome: 'timeout', bytesOut: 40 }));
  });

  it('answers 500 and records a refusal when the credential does not open', async () => {
    upstreams.set('tickets', { ...upstreams.get('tickets')!, sealedSecret: vault.seal('billing', SECRET) });
    const { proxy } = makeProxy();
    const res = await proxy.handle(call());
    expect(res.status).toBe(500);
    expect(await bodyJson(res)).toEqual({
      error: 'server_error',
      error_description: 'the credential of upstream "tickets" could not be opened',
    });
    expect(errors.map((e) => [e.stage, e.jti])).toEqual([['vault', 'jti-0001']]);
    expect(events).toEqual([deniedEvent({ path: '/tickets/42', status: 500, reason: 'vault-error' })]);
    expect(upstreamServer.requests).toHaveLength(0);
  });
});

describe('when the call cannot be recorded', () => {
  const failOutcome = (e: NewEvent) => e.type === 'proxy.call';
  const NOT_FORWARDED = {
    error: 'audit_log_unavailable',
    error_description:
      'the call to upstream "tickets" could not be recorded, so it was not forwarded; try again later',
  };

  it('answers 500 without contacting the upstream when the start of the call cannot be recorded', async () => {
    let hits = 0;
    upstreamServer.onRequestStart = () => void hits++;
    failAppend = (e) => e.type === 'proxy.call.started';
    const { proxy } = makeProxy({}, goodToken({ scope: 'tickets:write' }));
    const res = await proxy.handle(
      call({
        method: 'POST',
        path: '/tickets',
        query: 'api_key=in-the-query',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-length': '5' },
        body: Readable.from([Buffer.from('hello')]),
      }),
    );
    expect(res.status).toBe(500);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await bodyJson(res)).toEqual(NOT_FORWARDED);
    expect(errors.map((e) => [e.stage, e.upstream, e.jti, String(e.error)])).toEqual([
      ['audit', 'tickets', 'jti-0001', 'Error: event log unavailable'],
    ]);
    expect(events).toEqual([]);
    // A later call that can be recorded still goes through, so the upstream did answer requests all along.
    failAppend = false;
    const ok = await proxy.handle(call({ method: 'POST', path: '/tickets', query: 'api_key=in-the-query' }));
    expect(ok.status).toBe(200);
    await readAll(ok.body);
    expect(hits).toBe(1);
    expect(upstreamServer.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/api/tickets?api_key=in-the-query'],
    ]);
    // Neither record holds the query: it can carry keys or personal data.
    expect(JSON.stringify(events)).not.toContain('in-the-query');
    expect(events).toEqual(
      forwarded({ method: 'POST', path: '/tickets', scope: 'tickets:write', bytesOut: 11 }),
    );
  });

  it('over HTTP: a POST whose start cannot be recorded gets 500 and never reaches the upstream', async () => {
    let hits = 0;
    upstreamServer.onRequestStart = () => void hits++;
    failAppend = true;
    const { proxy } = makeProxy({}, goodToken({ scope: 'tickets:write' }));
    const front = await startTestProxyServer(proxy);
    cleanups.push(front.close);
    const result = await clientRequest(`${front.url}/proxy/tickets/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: Buffer.from('{"title":"refund"}'),
    });
    expect([result.status, JSON.parse(result.text) as unknown]).toEqual([500, NOT_FORWARDED]);
    expect(hits).toBe(0);
    expect(upstreamServer.requests).toEqual([]);
    expect(errors.map((e) => e.stage)).toEqual(['audit']);
  });

  it('names the start by seq only when the appender returns the record', async () => {
    const appended: NewEvent[] = [];
    const { proxy } = makeProxy({
      appendEvent: async (event) => {
        appended.push(event);
      },
    });
    const res = await proxy.handle(call());
    await readAll(res.body);
    expect(appended.map((e) => [e.type, e.data.startSeq])).toEqual([
      ['proxy.call.started', undefined],
      ['proxy.call', null],
    ]);
  });

  it('withholds a bodyless answer and says so with 502', async () => {
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    failAppend = failOutcome;
    const { proxy } = makeProxy();
    const res = await proxy.handle(call());
    expect(res.status).toBe(502);
    expect(await bodyJson(res)).toEqual({
      error: 'audit_log_unavailable',
      error_description:
        'upstream "tickets" answered, but the call could not be recorded, so the answer is withheld; the upstream may have acted on the request',
    });
    expect(upstreamServer.requests).toHaveLength(1);
    expect(errors.map((e) => [e.stage, e.upstream, e.jti])).toEqual([['audit', 'tickets', 'jti-0001']]);
  });

  it.each([
    ['with a Content-Length, before its last chunk', true],
    ['without one (chunked), before its terminating chunk', false],
  ])('cuts a streamed answer off %s, so the client never sees it complete', async (_, withLength) => {
    upstreamServer.setHandler((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        ...(withLength ? { 'content-length': String(1_000_000) } : {}),
      });
      generatedStream(1_000_000).pipe(res);
    });
    failAppend = failOutcome;
    const { proxy } = makeProxy();
    const front = await startTestProxyServer(proxy);
    cleanups.push(front.close);
    const result = await clientRequest(`${front.url}/proxy/tickets/big`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(result.status).toBe(200);
    expect(result.error).not.toBeNull();
    if (withLength) expect(result.bytes).toBeLessThan(1_000_000);
    else expect(result.headers['transfer-encoding']).toBe('chunked');
    expect(errors.map((e) => e.stage)).toEqual(['audit']);
  });

  it('still answers a refusal when its record fails', async () => {
    failAppend = true;
    const { proxy } = makeProxy();
    const res = await proxy.handle(call({ path: '/admin' }));
    expect(res.status).toBe(403);
    expect(errors.map((e) => e.stage)).toEqual(['audit']);
  });
});

describe('splitChallenges', () => {
  it('splits at commas before a scheme, never inside a quoted description', () => {
    expect(splitChallenges('Bearer realm="keyward", DPoP realm="keyward"')).toEqual([
      'Bearer realm="keyward"',
      'DPoP realm="keyward"',
    ]);
    expect(splitChallenges('Bearer error="invalid_token", error_description="send it as, DPoP x"')).toEqual([
      'Bearer error="invalid_token", error_description="send it as, DPoP x"',
    ]);
    expect(splitChallenges('DPoP')).toEqual(['DPoP']);
    expect(splitChallenges('Bearer, DPoP algs="EdDSA"')).toEqual(['Bearer', 'DPoP algs="EdDSA"']);
  });
});
