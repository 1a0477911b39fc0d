import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './server.js';
import { createTestServer, TEST_TIME, type TestServer } from './test-support/test-server.js';

const POLICY = {
  agentType: 'tickets-agent',
  owner: 'ops@example.com',
  allow: [{ resource: 'keyward:upstream:tickets', scopes: ['tickets:read'] }],
};
const UPSTREAM_SECRET = 'tk_live_0123456789abcdef';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A local upstream that records what it receives; `/tickets/slow` sends one chunk and then waits for good. */
async function startUpstream(): Promise<{
  url: string;
  requests: Array<{ url: string; method: string; headers: IncomingHttpHeaders; body: string }>;
  slowClosed: Promise<void>;
  close(): Promise<void>;
}> {
  const requests: Array<{ url: string; method: string; headers: IncomingHttpHeaders; body: string }> = [];
  let onSlowClosed: () => void = () => undefined;
  const slowClosed = new Promise<void>((resolve) => {
    onSlowClosed = resolve;
  });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        url: req.url ?? '',
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (req.url === '/tickets/slow') {
        res.on('close', () => onSlowClosed());
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    slowClosed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

describe('broker OAuth endpoints and proxy over HTTP', () => {
  let t: TestServer;
  let running: RunningServer;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let clientId: string;
  let clientSecret: string;

  beforeAll(async () => {
    t = await createTestServer();
    await t.app.broker.ensureSigningKeys();
    upstream = await startUpstream();
    await t.app.broker.applyAgentType({ value: POLICY }, 'test');
    await t.app.broker.saveUpstream(
      {
        name: 'tickets',
        baseUrl: upstream.url,
        auth: { kind: 'bearer' },
        secret: UPSTREAM_SECRET,
        routes: [{ scope: 'tickets:read', methods: ['GET', 'POST'], paths: ['/tickets/*'] }],
      },
      'test',
    );
    const reg = await t.app.broker.registerAgent(
      'tickets-agent',
      { name: 'triage', withSecret: true },
      'test',
    );
    clientId = reg.clientId;
    clientSecret = reg.clientSecret!;
    running = await startServer(t.app, { host: '127.0.0.1', port: 0, logger: false });
  });
  afterAll(async () => {
    console.log('c0');
    await running?.close();
    console.log('c1');
    await upstream?.close();
    console.log('c2');
    await t?.close();
  });

  const tokenRequest = (body: string, headers: Record<string, string> = {}) =>
    t.server.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basic(clientId, clientSecret), ...headers },
      payload: body,
    });

  const issueToken = async (): Promise<string> => {
    const res = await tokenRequest(
      'grant_type=client_credentials&scope=tickets%3Aread&resource=keyward%3Aupstream%3Atickets',
    );
    expect(res.statusCode).toBe(200);
    return (res.json() as { access_token: string }).access_token;
  };

  it('serves RFC 8414 metadata and the JWKS', async () => {
    const meta = await t.server.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(meta.statusCode).toBe(200);
    const issuer = t.app.broker.issuer;
    expect(meta.json()).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
    });
    const jwks = await t.server.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    const keys = (jwks.json() as { keys: Array<Record<string, unknown>> }).keys;
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).not.toHaveProperty('d');
  });

  it('serves RFC 9728 metadata for the proxy upstream and 404 for unknown resources', async () => {
    const res = await t.server.inject({
      method: 'GET',
      url: '/.well-known/oauth-protected-resource/proxy/tickets',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      resource: `${t.app.broker.issuer}/proxy/tickets`,
      authorization_servers: [t.app.broker.issuer],
    });
    const unknown = await t.server.inject({
      method: 'GET',
      url: '/.well-known/oauth-protected-resource/proxy/nothing-here',
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('a client_credentials grant with oauth4webapi against the running server; the token verifies against the served JWKS', async () => {
    const issuer = t.app.broker.issuer;
    const as: oauth.AuthorizationServer = {
      issuer,
      token_endpoint: `${running.url}/oauth/token`,
      jwks_uri: `${running.url}/.well-known/jwks.json`,
    };
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(clientSecret),
      new URLSearchParams({ scope: 'tickets:read', resource: 'keyward:upstream:tickets' }),
      { [oauth.allowInsecureRequests]: true },
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type.toLowerCase()).toBe('bearer');
    expect(result.scope).toBe('tickets:read');

    const jwks = createRemoteJWKSet(new URL(`${running.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(result.access_token, jwks, {
      issuer,
      audience: 'keyward:upstream:tickets',
      currentDate: new Date(Date.parse(TEST_TIME) + 1000),
    });
    expect(payload).toMatchObject({ client_id: clientId, scope: 'tickets:read' });
  });

  it('refuses an unsupported grant type with unsupported_grant_type', async () => {
    const res = await tokenRequest('grant_type=password&username=a&password=b');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'unsupported_grant_type' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a wrong client secret with 401 invalid_client and a WWW-Authenticate challenge', async () => {
    const res = await tokenRequest('grant_type=client_credentials&scope=tickets%3Aread', {
      authorization: basic(clientId, 'wrong'),
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_client' });
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it('answers malformed forms, duplicate parameters, wrong content types and oversize bodies with invalid_request', async () => {
    const cases = [
      await tokenRequest('grant_type=client_credentials&scope=%zz'),
      await tokenRequest('grant_type=client_credentials&grant_type=client_credentials'),
      await tokenRequest('{"grant_type":"client_credentials"}', { 'content-type': 'application/json' }),
      await tokenRequest(`grant_type=client_credentials&pad=${'a'.repeat(70 * 1024)}`),
      await t.server.inject({ method: 'POST', url: '/oauth/token' }),
    ];
    for (const res of cases) {
      expect(res.statusCode).toBe(400);
      expect(Object.keys(res.json() as object).sort()).toEqual(['error', 'error_description']);
      expect(res.json()).toMatchObject({ error: 'invalid_request' });
      expect(res.body).not.toContain(' at ');
    }
  });

  it('introspects with client auth or the admin token, refuses it without either, and revokes (RFC 7009)', async () => {
    const token = await issueToken();
    const body = `token=${encodeURIComponent(token)}`;
    const byClient = await t.server.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...FORM, authorization: basic(clientId, clientSecret) },
      payload: body,
    });
    expect(byClient.statusCode).toBe(200);
    expect(byClient.json()).toMatchObject({ active: true, client_id: clientId, scope: 'tickets:read' });

    const byAdmin = await t.server.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...FORM, ...t.auth },
      payload: body,
    });
    expect(byAdmin.json()).toMatchObject({ active: true });

    const anonymous = await t.server.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: FORM,
      payload: body,
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: 'invalid_client' });

    const badAdmin = await t.server.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...FORM, authorization: 'Bearer not-the-admin-token' },
      payload: body,
    });
    expect(badAdmin.statusCode).toBe(401);

    const revoke = (payload: string) =>
      t.server.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: { ...FORM, authorization: basic(clientId, clientSecret) },
        payload,
      });
    expect((await revoke(body)).statusCode).toBe(200);
    expect((await revoke('token=not-a-token-we-know')).statusCode).toBe(200);
    const after = await t.server.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...FORM, ...t.auth },
      payload: body,
    });
    expect(after.json()).toEqual({ active: false });
  });

  it('forwards a proxied call with the upstream credential injected and the agent token stripped', async () => {
    const token = await issueToken();
    const res = await fetch(`${running.url}/proxy/tickets/tickets/42?fields=a%2Cb`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"ok":true}');
    expect(res.headers.get('cache-control')).toBe('max-age=60');
    const seen = upstream.requests.at(-1)!;
    expect(seen.url).toBe('/tickets/42?fields=a%2Cb');
    expect(seen.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
    expect(JSON.stringify(seen.headers)).not.toContain(token);

    const denied = await fetch(`${running.url}/proxy/tickets/admin`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(denied.status).toBe(403);
    await denied.text();
    const anonymous = await fetch(`${running.url}/proxy/tickets/tickets/1`, { method: 'POST', body: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    await anonymous.text();
  });

  it('answers a request Fastify refuses before the proxy in the proxy format', async () => {
    const res = await t.server.inject({
      method: 'POST',
      url: '/proxy/tickets/tickets/1',
      headers: { 'content-type': '' },
      payload: 'abc',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'the request is malformed' });
  });

  it('streams a request body to the upstream byte for byte, without parsing it', async () => {
    const token = await issueToken();
    const body = '{"not": valid json';
    const res = await fetch(`${running.url}/proxy/tickets/tickets/new`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    const seen = upstream.requests.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', url: '/tickets/new', body });
    expect(seen.headers['content-type']).toBe('application/json');
  });

  it('aborts the upstream call when the agent disconnects', async () => {
    const token = await issueToken();
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        `${running.url}/proxy/tickets/tickets/slow`,
        { headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.once('data', (chunk: Buffer) => {
            // The agent goes away in the middle of the answer.
            req.destroy();
            resolve(chunk.toString());
          });
        },
      );
      req.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
      });
      req.end();
    });
    expect(first).toBe('first chunk\n');
    await expect(
      Promise.race([
        upstream.slowClosed.then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still open'), 3000)),
      ]),
    ).resolves.toBe('closed');
  });
});
