import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ForbiddenError, StoreError } from '../core/errors.js';
import { GENERIC_MESSAGES } from './server-errors.js';
import { startServer } from './server.js';
import { createTestServer, type TestServer } from './test-support/test-server.js';

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** Collects pino's JSON lines. */
function logSink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('public routes', () => {
  it('GET /healthz answers 200 with security headers and a generated request id', async () => {
    t = await createTestServer();
    const res = await t.server.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers).toMatchObject(SECURITY_HEADERS);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a well-formed x-request-id and replaces a malformed one', async () => {
    t = await createTestServer();
    const ok = await t.server.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(ok.headers['x-request-id']).toBe('abc-123');
    const bad = await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities',
      headers: { 'x-request-id': 'has spaces\tand tabs' },
    });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.json().requestId).toBe(bad.headers['x-request-id']);
  });

  it('GET /readyz answers 200 while the store answers and 503 KW_STORE once it is closed', async () => {
    t = await createTestServer();
    const up = await t.server.inject({ method: 'GET', url: '/readyz' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ status: 'ready', store: 'sqlite' });

    await t.app.store.close();
    const down = await t.server.inject({ method: 'GET', url: '/readyz', headers: { 'x-request-id': 'r1' } });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({
      code: 'KW_STORE',
      message: GENERIC_MESSAGES.store,
      details: [],
      requestId: 'r1',
    });
  });

  it('answers unknown routes with 404 in the error shape, without echoing the query', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'GET',
      url: '/api/v1/nothing?secret=x',
      headers: { 'x-request-id': 'r2' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers).toMatchObject(SECURITY_HEADERS);
    expect(res.json()).toEqual({
      code: 'KW_NOT_FOUND',
      message: 'no route GET /api/v1/nothing; the API is described at /api/openapi.json',
      details: [],
      requestId: 'r2',
    });
  });

  it('answers a URL the router cannot decode in the format of the path: RFC for broker paths, else KW_VALIDATION', async () => {
    t = await createTestServer();
    for (const url of ['/proxy/tickets/items/%zz', '/proxy/tickets/items/%FF%FE', '/oauth/token%zz']) {
      const res = await t.server.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers).toMatchObject({ ...SECURITY_HEADERS, pragma: 'no-cache' });
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'the request is malformed' });
    }
    const api = await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities/%zz',
      headers: { authorization: `Bearer ${t.token}`, 'x-request-id': 'r3' },
    });
    expect(api.statusCode).toBe(400);
    expect(api.headers).toMatchObject(SECURITY_HEADERS);
    expect(api.json()).toMatchObject({ code: 'KW_VALIDATION', details: [], requestId: 'r3' });
  });

  it('serves the OpenAPI document without a token', async () => {
    t = await createTestServer();
    const res = await t.server.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'Keyward API' } });
  });
});

describe('authentication', () => {
  it('rejects a request without a token with 401 and a Bearer challenge', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities',
      headers: { 'x-request-id': 'a1' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward"');
    expect(res.headers).toMatchObject(SECURITY_HEADERS);
    expect(res.json()).toEqual({
      code: 'KW_UNAUTHORIZED',
      message:
        'missing bearer token: send "Authorization: Bearer <admin token>" (the token is in <dataDir>/admin.token)',
      details: [],
      requestId: 'a1',
    });
  });

  it('rejects a wrong token with 401 invalid_token', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities',
      headers: { authorization: `Bearer ${t.token}x`, 'x-request-id': 'a2' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward", error="invalid_token"');
    expect(res.json()).toEqual({
      code: 'KW_UNAUTHORIZED',
      message: 'invalid bearer token',
      details: [],
      requestId: 'a2',
    });
  });

  it('rejects another scheme with 401', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities',
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${t.token}`).toString('base64')}`,
        'x-request-id': 'a3',
      },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward"');
    expect(res.json()).toEqual({
      code: 'KW_UNAUTHORIZED',
      message: 'the Authorization header must be "Bearer <admin token>"',
      details: [],
      requestId: 'a3',
    });
  });

  it('checks the token before reading the body (no 413 for an unauthenticated request)', async () => {
    t = await createTestServer({ config: { bodyLimitBytes: 64 } });
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(200) }),
    });
    expect(res.statusCode).toBe(401);
  });

  it('protects the HEAD twins of GET routes too', async () => {
    t = await createTestServer();
    const res = await t.server.inject({ method: 'HEAD', url: '/api/v1/identities' });
    expect(res.statusCode).toBe(401);
    const ok = await t.server.inject({ method: 'HEAD', url: '/api/v1/identities', headers: t.auth });
    expect(ok.statusCode).toBe(200);
  });

  it('accepts the admin token with a case-insensitive scheme', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities',
      headers: { authorization: `bearer ${t.token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('request bodies', () => {
  it('answers malformed JSON with 400 and a message saying where', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: { ...t.auth, 'content-type': 'application/json', 'x-request-id': 'b1' },
      payload: '{"name": "a",\n "kind": }',
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('KW_VALIDATION');
    expect(body.message).toMatch(/^the request body is not valid JSON: /);
    expect(body.message).not.toContain('"name"');
    expect(body.details).toEqual([{ path: 'body', message: 'malformed JSON' }]);
    expect(body.requestId).toBe('b1');
  });

  it('answers truncated JSON with 400', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: { ...t.auth, 'content-type': 'application/json', 'x-request-id': 'b2' },
      payload: '{"name": "a"',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'KW_VALIDATION',
      message: 'the request body is not valid JSON: it ends too early',
      details: [{ path: 'body', message: 'malformed JSON' }],
      requestId: 'b2',
    });
  });

  it('says where the JSON breaks by line and column', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: { ...t.auth, 'content-type': 'application/json', 'x-request-id': 'b8' },
      payload: '{\n  "a": 1\n  "b": 2\n}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'KW_VALIDATION',
      message:
        "the request body is not valid JSON: expected ',' or '}' after property value (line 3, column 3)",
      details: [{ path: 'body', message: 'malformed JSON' }],
      requestId: 'b8',
    });
  });

  it('answers an empty JSON body with 400', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: { ...t.auth, 'content-type': 'application/json', 'x-request-id': 'b3' },
      payload: '',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'KW_VALIDATION',
      message:
        'the request body is empty but Content-Type is application/json; send a JSON object or drop the header',
      details: [{ path: 'body', message: 'empty' }],
      requestId: 'b3',
    });
  });

  it('rejects a __proto__ key', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: { ...t.auth, 'content-type': 'application/json', 'x-request-id': 'b4' },
      payload: '{"name":"a","kind":"bot","owner":"o","attributes":{"__proto__":{"admin":true}}}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'KW_VALIDATION',
      message: 'the request body must not contain a "__proto__" key',
      details: [{ path: 'body', message: '"__proto__" is not allowed' }],
      requestId: 'b4',
    });
  });

  it('answers a JSON body over bodyLimitBytes with 413', async () => {
    t = await createTestServer({ config: { bodyLimitBytes: 256 } });
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: { ...t.auth, 'x-request-id': 'b5' },
      payload: { name: 'n', kind: 'bot', owner: 'o', description: 'x'.repeat(300) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      code: 'KW_PAYLOAD_TOO_LARGE',
      message: 'the request body is larger than the server accepts (bodyLimitBytes)',
      details: [{ path: 'body', message: 'too large' }],
      requestId: 'b5',
    });
  });

  it('answers a non-JSON content type on a JSON route with 415', async () => {
    t = await createTestServer();
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await t.server.inject({
        method: 'POST',
        url: '/api/v1/identities',
        headers: { ...t.auth, 'content-type': type, 'x-request-id': 'b6' },
        payload: 'name=a',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({
        code: 'KW_VALIDATION',
        message: 'unsupported content type: send JSON with Content-Type: application/json',
        details: [{ path: 'headers.content-type', message: 'unsupported media type' }],
        requestId: 'b6',
      });
    }
  });

  it('rejects a body on a route that takes none', async () => {
    t = await createTestServer();
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/findings/refresh',
      headers: { ...t.auth, 'x-request-id': 'b7' },
      payload: { force: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'KW_VALIDATION',
      message: 'invalid request: body: this route takes no request body',
      details: [{ path: 'body', message: 'this route takes no request body' }],
      requestId: 'b7',
    });
  });
});

describe('error mapping', () => {
  it('answers a crash inside a handler with 500 and a generic message; the stack goes to the log only', async () => {
    const logs = logSink();
    t = await createTestServer({
      server: { logger: { stream: logs.stream, level: 'info' } },
      patchApp: (app) => ({
        ...app,
        inventory: {
          ...app.inventory,
          refreshFindings: async () => {
            throw new TypeError('boom: cannot read properties of undefined');
          },
        },
      }),
    });
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/findings/refresh',
      headers: { ...t.auth, 'x-request-id': 'c1' },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      code: 'KW_INTERNAL',
      message: GENERIC_MESSAGES.internal,
      details: [],
      requestId: 'c1',
    });
    expect(res.body).not.toContain('boom');
    expect(res.body).not.toContain('server-routes');
    expect(logs.text()).toContain('boom: cannot read properties of undefined');
    expect(logs.text()).toContain('"stack"');
    expect(logs.text()).toContain('"reqId":"c1"');
  });

  it('maps a StoreError to 503 KW_STORE without the driver message', async () => {
    t = await createTestServer({
      patchApp: (app) => ({
        ...app,
        store: {
          ...app.store,
          listIdentities: async () => {
            throw new StoreError(
              'SQLite store failed to list identities: SQLITE_BUSY: SELECT * FROM identities',
            );
          },
        },
      }),
    });
    const res = await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities',
      headers: { ...t.auth, 'x-request-id': 'c2' },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      code: 'KW_STORE',
      message: GENERIC_MESSAGES.store,
      details: [],
      requestId: 'c2',
    });
  });

  it('maps a ForbiddenError to 403 KW_FORBIDDEN', async () => {
    t = await createTestServer({
      patchApp: (app) => ({
        ...app,
        inventory: {
          ...app.inventory,
          refreshFindings: async () => {
            throw new ForbiddenError('refreshing findings is disabled on this replica');
          },
        },
      }),
    });
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/findings/refresh',
      headers: { ...t.auth, 'x-request-id': 'c3' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      code: 'KW_FORBIDDEN',
      message: 'refreshing findings is disabled on this replica',
      details: [],
      requestId: 'c3',
    });
  });
});

describe('logging', () => {
  it('never logs the admin token, the Authorization header or request bodies', async () => {
    const logs = logSink();
    t = await createTestServer({ server: { logger: { stream: logs.stream, level: 'trace' } } });
    await t.server.inject({
      method: 'POST',
      url: '/api/v1/identities',
      headers: t.auth,
      payload: { name: 'logged-name', kind: 'bot', owner: 'o', description: 'BODY-MARKER-123' },
    });
    await t.server.inject({
      method: 'POST',
      url: '/api/v1/imports/dotenv?filename=.env',
      headers: { ...t.auth, 'content-type': 'text/plain' },
      payload: 'OPENAI_API_KEY=sk-FILE-MARKER-456',
    });
    await t.server.inject({
      method: 'GET',
      url: '/api/v1/identities',
      headers: { authorization: 'Bearer WRONG-789' },
    });
    const text = logs.text();
    expect(text).toContain('incoming request');
    expect(text).not.toContain(t.token);
    expect(text).not.toContain('WRONG-789');
    expect(text).not.toContain('BODY-MARKER-123');
    expect(text).not.toContain('FILE-MARKER-456');
  });
});

describe('startServer', () => {
  it('listens on a free port and returns the real URL', async () => {
    t = await createTestServer();
    const running = await startServer(t.app, { host: '127.0.0.1', port: 0, logger: false });
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(running.url).not.toBe('http://127.0.0.1:0');
      const res = await fetch(`${running.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      const api = await fetch(`${running.url}/api/v1/identities?limit=1`, { headers: t.auth });
      expect(api.status).toBe(200);
      expect(await api.json()).toEqual({ items: [], total: 0, limit: 1, offset: 0 });
    } finally {
      await running.close();
    }
  });
});
