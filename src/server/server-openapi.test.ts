import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from './index.js';
import { toOpenApiPath } from './server-openapi.js';
import { API_ROUTES } from './server-routes.js';
import { STREAM_API_ROUTES } from './stream-routes.js';
import { createTestServer, type TestServer } from './test-support/test-server.js';

interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
  };
}
interface Operation {
  operationId: string;
  security: Array<Record<string, unknown>>;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
}

/** Every (method, path) Fastify has registered, read from its route tree (HEAD twins left out). */
function registeredRoutes(tree: string): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method && method !== 'HEAD') out.push({ method, path });
    }
  }
  return out;
}

/** Paths of the broker's OAuth, discovery and proxy endpoints (RFC formats, outside the OpenAPI document). */
function isBrokerProtocolPath(path: string): boolean {
  return path.startsWith('/oauth/') || path.startsWith('/.well-known/') || path.startsWith('/proxy/');
}

/** Follows every `$ref` in a value and returns the ones that point nowhere. */
function danglingRefs(doc: Doc): string[] {
  const bad: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') {
          const [, section, name] = /^#\/components\/(schemas|responses)\/(.+)$/.exec(x) ?? [];
          const target = section
            ? (doc.components as Record<string, Record<string, unknown>>)[section]?.[name!]
            : undefined;
          if (!target) bad.push(x);
        } else walk(x);
      }
    }
  };
  walk(doc);
  return bad;
}

describe('buildOpenApiDocument', () => {
  let t: TestServer;
  beforeAll(async () => {
    // Without the dashboard: its page and files (web-ui.ts) are not API; docs/dashboard.md describes them.
    t = await createTestServer({ server: { webRoot: false } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is an OpenAPI 3.1 document with info, paths, components and the bearer scheme', () => {
    const doc = buildOpenApiDocument() as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Keyward API', version: '1.0.0' });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'The admin token written to <dataDir>/admin.token on first start',
      },
    });
    expect(doc.components.schemas.Error).toMatchObject({
      type: 'object',
      required: ['code', 'message', 'details', 'requestId'],
    });
    expect(danglingRefs(doc)).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });

  it('documents every registered route, and documents nothing that is not registered', () => {
    const doc = buildOpenApiDocument() as Doc;
    // The broker's OAuth, discovery and proxy endpoints speak RFC formats; docs/http-api.md describes them.
    const registered = registeredRoutes(t.server.printRoutes({ commonPrefix: false })).filter(
      (r) => !isBrokerProtocolPath(r.path),
    );
    // The route table, and the stream (a raw route: it answers server-sent events).
    expect(registered.filter((r) => r.path.startsWith('/api/v1/')).length).toBe(
      [...API_ROUTES, ...STREAM_API_ROUTES].filter((r) => r.path.startsWith('/api/v1/')).length,
    );
    for (const r of registered) {
      expect(
        doc.paths[toOpenApiPath(r.path)]?.[r.method.toLowerCase()],
        `${r.method} ${r.path}`,
      ).toBeDefined();
    }
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.sort()).toEqual(registered.map((r) => `${r.method} ${toOpenApiPath(r.path)}`).sort());
  });

  it('requires the bearer token on every /api/v1 operation and on no public one', () => {
    const doc = buildOpenApiDocument() as Doc;
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        if (path.startsWith('/api/v1/')) {
          expect(op.security).toEqual([{ bearerAuth: [] }]);
          expect(op.responses['401']).toEqual({ $ref: '#/components/responses/Unauthorized' });
        } else {
          expect(op.security).toEqual([]);
        }
        expect(op.responses['500']).toEqual({ $ref: '#/components/responses/InternalError' });
      }
    }
  });

  it('generates parameters and bodies from the validation schemas', () => {
    const doc = buildOpenApiDocument() as Doc;
    const list = doc.paths['/api/v1/identities']!.get!;
    expect(list.parameters!.find((p) => p.name === 'limit')).toEqual({
      name: 'limit',
      in: 'query',
      required: false,
      description: 'Page size, 1–1000 (default 100)',
      schema: { type: 'integer', minimum: 1, maximum: 1000 },
    });
    expect(list.parameters!.find((p) => p.name === 'kind')!.schema.enum).toContain('ai-agent');
    expect(list.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/IdentityPage',
    });

    const create = doc.paths['/api/v1/identities']!.post!;
    expect(create.requestBody!.content['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/CreateIdentity',
    });
    expect(doc.components.schemas.CreateIdentity).toMatchObject({
      type: 'object',
      required: ['name', 'kind', 'owner'],
      additionalProperties: false,
    });
    expect(Object.keys(create.responses).sort()).toEqual([
      '201',
      '400',
      '401',
      '409',
      '413',
      '415',
      '500',
      '503',
    ]);

    const detail = doc.paths['/api/v1/identities/{id}']!.get!;
    expect(detail.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(detail.responses['404']).toEqual({ $ref: '#/components/responses/NotFound' });

    const imp = doc.paths['/api/v1/imports/{kind}']!.post!;
    expect(Object.keys(imp.requestBody!.content).sort()).toEqual([
      'application/json',
      'application/octet-stream',
      'text/*',
    ]);
    expect(imp.parameters!.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      'path:kind:true',
      'query:filename:true',
      'query:cluster:false',
    ]);

    const putType = doc.paths['/api/v1/broker/agent-types/{id}']!.put!;
    expect(putType.operationId).toBe('putAgentType');
    expect(putType.security).toEqual([{ bearerAuth: [] }]);
    expect(putType.parameters!.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      'path:id:true',
      'query:filename:false',
    ]);
    expect(Object.keys(putType.requestBody!.content).sort()).toEqual([
      'application/json',
      'application/octet-stream',
      'text/*',
    ]);
    expect(Object.keys(putType.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '404',
      '413',
      '415',
      '500',
      '503',
    ]);

    const metrics = doc.paths['/metrics']!.get!;
    expect(Object.keys(metrics.responses['200']!.content!)).toEqual(['text/plain']);
  });

  it('is the document served at GET /api/openapi.json', async () => {
    const res = await t.server.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(buildOpenApiDocument());
  });

  it('returns a fresh copy each time (callers cannot change the cached document)', () => {
    const a = buildOpenApiDocument() as Doc;
    a.info.title = 'changed';
    expect((buildOpenApiDocument() as Doc).info.title).toBe('Keyward API');
  });

  it('every broker protocol endpoint is listed in docs/http-api.md', () => {
    const doc = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');
    const registered = registeredRoutes(t.server.printRoutes({ commonPrefix: false })).filter((r) =>
      isBrokerProtocolPath(r.path),
    );
    expect(registered.length).toBeGreaterThan(5);
    for (const r of registered) {
      // printRoutes shows `/a/*` as `/a` with a `*` child.
      const path = r.path
        .replace(/([^/])\*$/, '$1/*')
        .replace(/:([A-Za-z0-9_]+)/g, '{$1}')
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(doc, `${r.method} ${r.path}`).toMatch(
        new RegExp(`\\|[^|\\n]*\\b${r.method}\\b[^|\\n]*\\|\\s*\`${path}\`\\s*\\|`),
      );
    }
  });

  it('every route is listed in docs/http-api.md', () => {
    const doc = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');
    for (const r of [...API_ROUTES, ...STREAM_API_ROUTES]) {
      const path = toOpenApiPath(r.path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(doc, `${r.method} ${r.path}`).toMatch(
        new RegExp(`\\|\\s*${r.method}\\s*\\|\\s*\`${path}\`\\s*\\|`),
      );
    }
  });
});

describe('the stream in the OpenAPI document', () => {
  it('is a text/event-stream GET with the after parameter and the bearer token', () => {
    const doc = buildOpenApiDocument() as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const op = doc.paths['/api/v1/stream']!.get!;
    expect(op.operationId).toBe('streamUpdates');
    expect(op.security).toEqual([{ bearerAuth: [] }]);
    expect((op.responses as Record<string, unknown>)['200']).toEqual({
      description: 'The event stream',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    });
    expect((op.parameters as Array<{ name: string; in: string }>).map((p) => [p.name, p.in])).toEqual([
      ['after', 'query'],
    ]);
    // The acknowledgement's body may be left out.
    const ack = doc.paths['/api/v1/detect/alerts/{id}/ack']!.post!;
    expect((ack.requestBody as { required: boolean }).required).toBe(false);
  });
});
