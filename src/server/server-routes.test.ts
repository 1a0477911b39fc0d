import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { IDENTITY_KINDS, type Finding, type Identity } from '../core/types.js';
import { emptyBatch, type InventoryBatch } from '../core/inventory-batch.js';
import { sha256Hex } from '../core/fingerprint.js';
import { POSTURE_RULES, type ImportResult } from '../inventory/index.js';
import { createTestServer, TEST_TIME, type TestServer } from './test-support/test-server.js';
import { testFinding } from './test-support/dashboard-fixtures.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Sends an authenticated request with a fixed request id. */
async function call(
  ts: TestServer,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return ts.server.inject({
    method,
    url,
    headers: { ...ts.auth, 'x-request-id': 'req-1', ...headers },
    ...(payload === undefined ? {} : { payload: payload as string | object }),
  });
}

/** The 400 body for validation errors. */
function invalid(details: Array<{ path: string; message: string }>) {
  const first = details[0]!;
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return {
    code: 'KW_VALIDATION',
    message: `invalid request: ${first.path}: ${first.message}${more}`,
    details,
    requestId: 'req-1',
  };
}

/** What the API returns for a new identity created with defaults. */
function expectedIdentity(over: Partial<Identity> & Pick<Identity, 'id' | 'name' | 'kind'>): Identity {
  return {
    provider: 'keyward',
    externalId: over.name,
    environment: null,
    owner: null,
    sponsor: null,
    description: null,
    tags: [],
    attributes: {},
    createdAt: TEST_TIME,
    updatedAt: TEST_TIME,
    lastSeenAt: null,
    riskScore: null,
    ...over,
  };
}

/** One identity with two credentials and two grants, plus a resource and two people. */
function seedBatch(): InventoryBatch {
  const b = emptyBatch();
  const ref = { provider: 'aws', externalId: 'arn:aws:iam::1:role/deployer' };
  b.identities.push(
    { ...ref, name: 'deployer', kind: 'service-account', environment: 'prod', owner: 'ann@example.com' },
    { provider: 'github', externalId: 'acme/ci', name: 'ci', kind: 'ci-pipeline', environment: 'dev' },
  );
  b.credentials.push(
    {
      identity: ref,
      type: 'access-key',
      provider: 'aws',
      fingerprint: 'a'.repeat(64),
      fingerprintSource: 'reference',
      preview: 'AKIA…WXYZ',
      externalId: 'AKIAEXAMPLEWXYZ',
    },
    {
      identity: { provider: 'github', externalId: 'acme/ci' },
      type: 'pat',
      provider: 'github',
      fingerprint: 'b'.repeat(64),
      fingerprintSource: 'value',
      preview: 'ghp_…a1B2',
    },
  );
  b.grants.push(
    {
      identity: ref,
      key: 'admin',
      actions: ['*'],
      resources: ['*'],
      source: 'AdministratorAccess',
      admin: true,
    },
    {
      identity: { provider: 'github', externalId: 'acme/ci' },
      key: 'repo',
      actions: ['contents:write'],
      resources: ['github:acme/api'],
      source: 'installation',
    },
  );
  b.resources.push(
    { provider: 'aws', type: 'aws:s3-bucket', name: 'arn:aws:s3:::data', environment: 'prod' },
    { provider: 'github', type: 'github:repository', name: 'github:acme/api' },
  );
  b.people.push(
    { email: 'ann@example.com', name: 'Ann', status: 'active' },
    { email: 'bob@example.com', name: 'Bob', status: 'left', leftAt: '2025-01-01T00:00:00.000Z' },
  );
  return b;
}

async function seed(ts: TestServer): Promise<void> {
  await ts.app.store.applyInventoryBatch(seedBatch(), {
    time: TEST_TIME,
    actor: 'test',
    source: { kind: 'test' },
  });
}

const finding = testFinding;

describe('identities', () => {
  it('creates an identity with defaults (provider keyward, externalId = name) and a Location header', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/identities', {
      name: 'billing-agent',
      kind: 'ai-agent',
      owner: 'ann@example.com',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json() as Identity;
    expect(body.id).toMatch(/^idn_[0-9a-z]{16}$/);
    expect(body).toEqual(
      expectedIdentity({
        id: body.id,
        name: 'billing-agent',
        kind: 'ai-agent',
        owner: 'ann@example.com',
        riskScore: 0,
      }),
    );
    expect(res.headers.location).toBe(`/api/v1/identities/${body.id}`);
    expect(await t.app.store.getIdentity(body.id)).toEqual(body);
  });

  it('creates an identity with every field', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/identities', {
      name: 'sync-bot',
      kind: 'bot',
      owner: 'bob@example.com',
      provider: 'slack',
      externalId: 'B012345',
      environment: 'prod',
      sponsor: 'cfo@example.com',
      description: 'Syncs invoices',
      tags: ['finance', 'tier-1'],
      attributes: { workspace: 'acme' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json() as Identity;
    expect(body).toEqual(
      expectedIdentity({
        id: body.id,
        name: 'sync-bot',
        kind: 'bot',
        owner: 'bob@example.com',
        provider: 'slack',
        externalId: 'B012345',
        environment: 'prod',
        sponsor: 'cfo@example.com',
        description: 'Syncs invoices',
        tags: ['finance', 'tier-1'],
        attributes: { workspace: 'acme' },
        // Creation runs the posture rules: an owned identity without credentials scores 0.
        riskScore: 0,
      }),
    );
  });

  it('requires an owner when the identity is created through the API', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/identities', { name: 'x', kind: 'bot' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(invalid([{ path: 'body.owner', message: 'is required' }]));
  });

  it('rejects unknown fields, a bad kind, blank strings and bad tags, naming each field', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/identities', {
      name: '  ',
      kind: 'robot',
      owner: 'o',
      tags: ['ok', ''],
      provider: 'Bad Provider',
      extra: 1,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      invalid([
        { path: 'body.name', message: 'must not be empty' },
        {
          path: 'body.kind',
          message: `Invalid option: expected one of ${IDENTITY_KINDS.map((k) => `"${k}"`).join('|')}`,
        },
        { path: 'body.provider', message: 'must be lowercase letters, digits, `.`, `_` or `-` (at most 64)' },
        { path: 'body.tags.1', message: 'must not be empty' },
        { path: 'body.extra', message: 'unknown field' },
      ]),
    );
  });

  it('rejects control characters (NUL cannot be stored in PostgreSQL text) with 400, naming the field', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/identities', {
      name: 'a\u0000b',
      kind: 'bot',
      owner: 'o@x.example',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      invalid([{ path: 'body.name', message: 'must not contain control characters' }]),
    );
    expect((await t.app.store.stats()).identities).toBe(0);
  });

  it('rejects a body that is not an object', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/identities', '[1,2]', { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      invalid([{ path: 'body', message: 'Invalid input: expected object, received array' }]),
    );
  });

  it('answers a duplicate provider + externalId with 409', async () => {
    t = await createTestServer();
    const input = { name: 'dup', kind: 'bot', owner: 'o' };
    expect((await call(t, 'POST', '/api/v1/identities', input)).statusCode).toBe(201);
    const res = await call(t, 'POST', '/api/v1/identities', input);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      code: 'KW_CONFLICT',
      message: 'an identity keyward:dup already exists',
      details: [{ path: 'externalId', message: 'already exists for this provider' }],
      requestId: 'req-1',
    });
  });

  it('lists identities by name with paging', async () => {
    t = await createTestServer();
    const b = await t.addIdentity({ name: 'b' });
    const a = await t.addIdentity({ name: 'a' });
    const c = await t.addIdentity({ name: 'c' });
    const all = await call(t, 'GET', '/api/v1/identities');
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ items: [a, b, c], total: 3, limit: 100, offset: 0 });
    const page = await call(t, 'GET', '/api/v1/identities?limit=1&offset=1');
    expect(page.json()).toEqual({ items: [b], total: 3, limit: 1, offset: 1 });
  });

  it('filters identities by kind, provider, environment, owner, tag, q and minRisk, and sorts by risk', async () => {
    t = await createTestServer();
    const agent = await t.addIdentity({
      name: 'agent-1',
      kind: 'ai-agent',
      environment: 'prod',
      owner: 'Ann@Example.com',
      tags: ['pci'],
    });
    const bot = await t.addIdentity({ name: 'bot-1', kind: 'bot', provider: 'slack', environment: 'dev' });
    const ci = await t.addIdentity({ name: 'ci-main', kind: 'ci-pipeline', externalId: 'acme/AGENT-runner' });
    await t.app.store.replaceFindings(
      [],
      new Map([
        [agent.id, 80],
        [bot.id, 20],
        [ci.id, 50],
      ]),
      TEST_TIME,
    );
    const ids = async (query: string) =>
      ((await call(t!, 'GET', `/api/v1/identities?${query}`)).json() as { items: Identity[] }).items.map(
        (i) => i.name,
      );
    expect(await ids('kind=ai-agent')).toEqual(['agent-1']);
    expect(await ids('provider=slack')).toEqual(['bot-1']);
    expect(await ids('environment=dev')).toEqual(['bot-1']);
    expect(await ids('owner=ann%40example.com')).toEqual(['agent-1']);
    expect(await ids('tag=pci')).toEqual(['agent-1']);
    expect(await ids('q=agent')).toEqual(['agent-1', 'ci-main']);
    expect(await ids('minRisk=50')).toEqual(['agent-1', 'ci-main']);
    expect(await ids('sort=risk')).toEqual(['agent-1', 'ci-main', 'bot-1']);
    expect(await ids('sort=name')).toEqual(['agent-1', 'bot-1', 'ci-main']);
  });

  it('answers bad query parameters with 400 naming each one', async () => {
    t = await createTestServer();
    const res = await call(
      t,
      'GET',
      '/api/v1/identities?limit=0&offset=-1&minRisk=101&sort=age&kind=robot&colour=red',
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      invalid([
        {
          path: 'query.kind',
          message: `Invalid option: expected one of ${IDENTITY_KINDS.map((k) => `"${k}"`).join('|')}`,
        },
        { path: 'query.minRisk', message: 'must be at most 100' },
        { path: 'query.sort', message: 'Invalid option: expected one of "name"|"risk"' },
        { path: 'query.limit', message: 'must be at least 1' },
        { path: 'query.offset', message: 'must be at least 0' },
        { path: 'query.colour', message: 'unknown field' },
      ]),
    );
    const word = await call(t, 'GET', '/api/v1/identities?limit=ten');
    expect(word.json()).toEqual(invalid([{ path: 'query.limit', message: 'must be a whole number' }]));
    const big = await call(t, 'GET', '/api/v1/identities?limit=1001');
    expect(big.json()).toEqual(invalid([{ path: 'query.limit', message: 'must be at most 1000' }]));
    const twice = await call(t, 'GET', '/api/v1/identities?kind=bot&kind=app');
    expect(twice.json()).toEqual(
      invalid([
        {
          path: 'query.kind',
          message: `Invalid option: expected one of ${IDENTITY_KINDS.map((k) => `"${k}"`).join('|')}`,
        },
      ]),
    );
  });

  it('returns the detail of an identity by id or by unique name', async () => {
    t = await createTestServer();
    await seed(t);
    const [deployer] = await t.app.store.findIdentitiesByName('deployer');
    const expected = await t.app.inventory.getIdentityDetail(deployer!.id);
    const byId = await call(t, 'GET', `/api/v1/identities/${deployer!.id}`);
    expect(byId.statusCode).toBe(200);
    expect(byId.json()).toEqual(JSON.parse(JSON.stringify(expected)));
    const body = byId.json();
    expect(body.identity).toEqual(deployer);
    expect(body.credentials.map((c: { preview: string }) => c.preview)).toEqual(['AKIA…WXYZ']);
    expect(body.grants.map((g: { key: string }) => g.key)).toEqual(['admin']);
    expect(Object.keys(body)).toEqual(['identity', 'credentials', 'grants', 'findings', 'risk']);
    const byName = await call(t, 'GET', '/api/v1/identities/deployer');
    expect(byName.json()).toEqual(body);
  });

  it('answers an unknown identity with 404 and an ambiguous name with 400', async () => {
    t = await createTestServer();
    const res = await call(t, 'GET', '/api/v1/identities/idn_nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      code: 'KW_NOT_FOUND',
      message: 'no identity with id or name "idn_nope"',
      details: [],
      requestId: 'req-1',
    });
    const one = await t.addIdentity({ name: 'twin', provider: 'aws' });
    const two = await t.addIdentity({ name: 'twin', provider: 'gcp' });
    const amb = await call(t, 'GET', '/api/v1/identities/twin');
    expect(amb.statusCode).toBe(400);
    expect(amb.json()).toEqual({
      code: 'KW_VALIDATION',
      message: '"twin" names 2 identities; use one of their ids',
      details: [
        { path: one.id, message: 'aws:twin' },
        { path: two.id, message: 'gcp:twin' },
      ],
      requestId: 'req-1',
    });
  });

  it('patches fields, replacing tags and attributes', async () => {
    t = await createTestServer();
    const created = await t.addIdentity({ name: 'p', owner: 'ann', tags: ['a'], attributes: { x: 1 } });
    const res = await call(t, 'PATCH', '/api/v1/identities/p', {
      owner: 'bob',
      environment: 'staging',
      description: null,
      tags: ['b'],
      attributes: { y: 2 },
    });
    expect(res.statusCode).toBe(200);
    const stored = await t.app.store.getIdentity(created.id);
    expect(res.json()).toEqual(stored);
    expect(stored).toMatchObject({
      owner: 'bob',
      environment: 'staging',
      description: null,
      tags: ['b'],
      attributes: { y: 2 },
    });
  });

  it('rejects an empty patch, clearing the owner, and unknown fields', async () => {
    t = await createTestServer();
    await t.addIdentity({ name: 'p' });
    const empty = await call(t, 'PATCH', '/api/v1/identities/p', {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual(invalid([{ path: 'body', message: 'send at least one field to change' }]));
    const clear = await call(t, 'PATCH', '/api/v1/identities/p', { owner: null, riskScore: 0 });
    expect(clear.json()).toEqual(
      invalid([
        { path: 'body.owner', message: 'Invalid input: expected string, received null' },
        { path: 'body.riskScore', message: 'unknown field' },
      ]),
    );
    const missing = await call(t, 'PATCH', '/api/v1/identities/idn_nope', { owner: 'x' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('KW_NOT_FOUND');
  });

  it('deletes an identity with 204 and an empty body', async () => {
    t = await createTestServer();
    const created = await t.addIdentity({ name: 'gone' });
    const res = await call(t, 'DELETE', `/api/v1/identities/${created.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await t.app.store.getIdentity(created.id)).toBeNull();
    const again = await call(t, 'DELETE', `/api/v1/identities/${created.id}`);
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({
      code: 'KW_NOT_FOUND',
      message: `no identity with id or name "${created.id}"`,
      details: [],
      requestId: 'req-1',
    });
  });

  it('returns the reachability graph of an identity', async () => {
    t = await createTestServer();
    await seed(t);
    const [deployer] = await t.app.store.findIdentitiesByName('deployer');
    const res = await call(t, 'GET', '/api/v1/identities/deployer/graph');
    expect(res.statusCode).toBe(200);
    const graph = res.json();
    expect(graph).toEqual(JSON.parse(JSON.stringify(await t.app.inventory.graph(deployer!.id))));
    expect(graph.identityId).toBe(deployer!.id);
    expect(
      graph.nodes
        .filter((n: { type: string }) => n.type === 'credential')
        .map((n: { preview: string }) => n.preview),
    ).toEqual(['AKIA…WXYZ']);
    expect(
      graph.nodes.filter((n: { type: string }) => n.type === 'grant').map((n: { label: string }) => n.label),
    ).toEqual(['AdministratorAccess']);
    expect(new Set(graph.edges.map((e: { type: string }) => e.type))).toEqual(
      new Set(['holds', 'granted', 'allows']),
    );
    const missing = await call(t, 'GET', '/api/v1/identities/nobody/graph');
    expect(missing.statusCode).toBe(404);
  });
});

describe('credentials, grants, resources, people', () => {
  it('lists credentials with identityId, type and fingerprint filters', async () => {
    t = await createTestServer();
    await seed(t);
    const all = (await call(t, 'GET', '/api/v1/credentials')).json();
    expect(all.total).toBe(2);
    expect(all.items).toEqual((await t.app.store.listCredentials()).items);
    const pat = await call(t, 'GET', '/api/v1/credentials?type=pat');
    expect(pat.json().items.map((c: { preview: string }) => c.preview)).toEqual(['ghp_…a1B2']);
    const fp = await call(t, 'GET', `/api/v1/credentials?fingerprint=${'A'.repeat(64)}`);
    expect(fp.json().items.map((c: { preview: string }) => c.preview)).toEqual(['AKIA…WXYZ']);
    const [ci] = await t.app.store.findIdentitiesByName('ci');
    const byIdentity = await call(t, 'GET', `/api/v1/credentials?identityId=${ci!.id}`);
    expect(byIdentity.json()).toMatchObject({ total: 1, limit: 100, offset: 0 });
    const bad = await call(t, 'GET', '/api/v1/credentials?fingerprint=xyz&type=token');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.map((d: { path: string }) => d.path)).toEqual([
      'query.type',
      'query.fingerprint',
    ]);
    expect(bad.json().details[1]).toEqual({
      path: 'query.fingerprint',
      message: 'must be 64 hex characters',
    });
  });

  it('returns one credential, or 404', async () => {
    t = await createTestServer();
    await seed(t);
    const [first] = (await t.app.store.listCredentials()).items;
    const res = await call(t, 'GET', `/api/v1/credentials/${first!.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(first);
    const missing = await call(t, 'GET', '/api/v1/credentials/crd_nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      code: 'KW_NOT_FOUND',
      message: 'no credential with id "crd_nope"',
      details: [],
      requestId: 'req-1',
    });
  });

  it('lists grants, resources and people with their filters', async () => {
    t = await createTestServer();
    await seed(t);
    const grants = await call(t, 'GET', '/api/v1/grants');
    expect(grants.json()).toEqual({ ...(await t.app.store.listGrants()), limit: 100, offset: 0 });
    const [deployer] = await t.app.store.findIdentitiesByName('deployer');
    const own = await call(t, 'GET', `/api/v1/grants?identityId=${deployer!.id}`);
    expect(own.json().items.map((g: { source: string }) => g.source)).toEqual(['AdministratorAccess']);

    const resources = await call(t, 'GET', '/api/v1/resources?provider=aws');
    expect(resources.json().items.map((r: { name: string }) => r.name)).toEqual(['arn:aws:s3:::data']);
    const byType = await call(t, 'GET', '/api/v1/resources?type=github%3Arepository');
    expect(byType.json().items.map((r: { name: string }) => r.name)).toEqual(['github:acme/api']);

    const people = await call(t, 'GET', '/api/v1/people');
    expect(people.json()).toMatchObject({ total: 2, limit: 100, offset: 0 });
    const left = await call(t, 'GET', '/api/v1/people?status=left');
    expect(left.json().items.map((p: { email: string }) => p.email)).toEqual(['bob@example.com']);
    const bad = await call(t, 'GET', '/api/v1/people?status=gone');
    expect(bad.json()).toEqual(
      invalid([
        { path: 'query.status', message: 'Invalid option: expected one of "active"|"suspended"|"left"' },
      ]),
    );
  });
});

describe('findings and rules', () => {
  it('lists findings most severe first with minSeverity, owasp, identityId and ruleId filters', async () => {
    t = await createTestServer();
    const a = await t.addIdentity({ name: 'a' });
    const b = await t.addIdentity({ name: 'b' });
    const f1 = finding({
      id: 'fnd_1',
      identityId: a.id,
      severity: 'low',
      owasp: 'NHI1',
      ruleId: 'NHI1-stale',
    });
    const f2 = finding({
      id: 'fnd_2',
      identityId: a.id,
      severity: 'critical',
      owasp: 'NHI2',
      ruleId: 'NHI2-leak',
    });
    const f3 = finding({ id: 'fnd_3', identityId: b.id });
    await t.app.store.replaceFindings([f1, f2, f3], new Map(), TEST_TIME);
    const all = await call(t, 'GET', '/api/v1/findings');
    expect(all.statusCode).toBe(200);
    const open = { status: 'open', statusReason: null, statusBy: null, statusAt: null };
    expect(all.json()).toEqual({
      items: [f2, f3, f1].map((f) => ({ ...f, ...open })),
      total: 3,
      limit: 100,
      offset: 0,
    });
    const ids = async (q: string) =>
      ((await call(t!, 'GET', `/api/v1/findings?${q}`)).json() as { items: Finding[] }).items.map(
        (f) => f.id,
      );
    expect(await ids('minSeverity=high')).toEqual(['fnd_2', 'fnd_3']);
    expect(await ids('owasp=NHI1')).toEqual(['fnd_1']);
    expect(await ids(`identityId=${b.id}`)).toEqual(['fnd_3']);
    expect(await ids('ruleId=NHI2-leak')).toEqual(['fnd_2']);
    expect(await ids('limit=1&offset=2')).toEqual(['fnd_1']);
    const bad = await call(t, 'GET', '/api/v1/findings?minSeverity=severe&owasp=NHI11');
    expect(bad.json().details.map((d: { path: string }) => d.path)).toEqual([
      'query.minSeverity',
      'query.owasp',
    ]);
  });

  it('accepts, resolves and reopens a finding with a reason, filters by status, and logs each change', async () => {
    t = await createTestServer();
    const a = await t.addIdentity({ name: 'a' });
    const f1 = finding({ id: 'fnd_1', identityId: a.id, owasp: 'NHI7', ruleId: 'NHI7-long-lived' });
    const f2 = finding({ id: 'fnd_2', identityId: a.id, severity: 'low' });
    await t.app.store.replaceFindings([f1, f2], new Map(), TEST_TIME);
    const before = (await t.app.store.readEvents(0, 1000)).length;

    const res = await call(t, 'POST', '/api/v1/findings/fnd_1/status', {
      status: 'accepted',
      reason: 'test account, no production access',
    });
    expect(res.statusCode).toBe(200);
    const accepted = {
      ...f1,
      status: 'accepted',
      statusReason: 'test account, no production access',
      statusBy: 'api:admin',
      statusAt: TEST_TIME,
    };
    expect(res.json()).toEqual(accepted);
    // The same status again changes nothing.
    const again = await call(t, 'POST', '/api/v1/findings/fnd_1/status', { status: 'accepted', reason: 'x' });
    expect([again.statusCode, again.json()]).toEqual([200, accepted]);
    await call(t, 'POST', '/api/v1/findings/fnd_2/status', { status: 'resolved', reason: 'key deleted' });
    const ids = async (q: string) =>
      ((await call(t!, 'GET', `/api/v1/findings?${q}`)).json() as { items: Finding[] }).items.map(
        (f) => f.id,
      );
    expect(await ids('status=accepted')).toEqual(['fnd_1']);
    expect(await ids('status=resolved')).toEqual(['fnd_2']);
    expect(await ids('status=open')).toEqual([]);
    const reopened = await call(t, 'POST', '/api/v1/findings/fnd_2/status', {
      status: 'open',
      reason: 'the key is back',
    });
    expect(reopened.json()).toMatchObject({ status: 'open', statusReason: 'the key is back' });
    // Identity detail carries the status too.
    const detail = (await call(t, 'GET', `/api/v1/identities/${a.id}`)).json() as { findings: unknown[] };
    expect(detail.findings).toContainEqual(accepted);

    const logged = (await t.app.store.readEvents(0, 1000)).slice(before);
    expect(logged.map((e) => [e.type, e.actor, e.subject, e.data])).toEqual([
      [
        'finding.accepted',
        'api:admin',
        a.id,
        {
          findingId: 'fnd_1',
          ruleId: 'NHI7-long-lived',
          owasp: 'NHI7',
          reason: 'test account, no production access',
        },
      ],
      [
        'finding.resolved',
        'api:admin',
        a.id,
        { findingId: 'fnd_2', ruleId: 'NHI7-long-lived', owasp: 'NHI7', reason: 'key deleted' },
      ],
      [
        'finding.reopened',
        'api:admin',
        a.id,
        { findingId: 'fnd_2', ruleId: 'NHI7-long-lived', owasp: 'NHI7', reason: 'the key is back' },
      ],
    ]);
  });

  it('answers a status change of an unknown finding with 404 and a bad body with 400 naming the field', async () => {
    t = await createTestServer();
    const a = await t.addIdentity({ name: 'a' });
    await t.app.store.replaceFindings([finding({ id: 'fnd_1', identityId: a.id })], new Map(), TEST_TIME);
    const missing = await call(t, 'POST', '/api/v1/findings/nope/status', {
      status: 'accepted',
      reason: 'r',
    });
    expect(missing.statusCode).toBe(404);
    const paths = async (payload: unknown) => {
      const r = await call(t!, 'POST', '/api/v1/findings/fnd_1/status', payload);
      expect(r.statusCode).toBe(400);
      return (r.json() as { details: Array<{ path: string }> }).details.map((d) => d.path);
    };
    expect(await paths({ status: 'closed', reason: 'r' })).toEqual(['body.status']);
    expect(await paths({ status: 'accepted' })).toEqual(['body.reason']);
    expect(await paths({ status: 'accepted', reason: '   ' })).toEqual(['body.reason']);
    expect(await paths({ status: 'accepted', reason: 'x'.repeat(501) })).toEqual(['body.reason']);
    expect(await paths({ status: 'accepted', reason: 'r', extra: 1 })).toEqual(['body.extra']);
    expect((await call(t, 'GET', '/api/v1/findings?status=done')).statusCode).toBe(400);
    expect((await t.app.store.getFinding('fnd_1'))!.status).toBe('open');
    const anonymous = await t.server.inject({
      method: 'POST',
      url: '/api/v1/findings/fnd_1/status',
      payload: { status: 'accepted', reason: 'r' },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('refreshes findings', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/findings/refresh');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ open: 0, created: 0, resolved: 0 });
  });

  it('lists the posture rules', async () => {
    t = await createTestServer();
    const res = await call(t, 'GET', '/api/v1/rules/posture');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: JSON.parse(JSON.stringify(POSTURE_RULES.slice(0, 100))),
      total: POSTURE_RULES.length,
      limit: 100,
      offset: 0,
    });
  });
});

describe('event log', () => {
  it('pages through the event log with after and limit', async () => {
    t = await createTestServer();
    for (const name of ['e1', 'e2', 'e3'])
      await call(t, 'POST', '/api/v1/identities', { name, kind: 'bot', owner: 'o' });
    const events = await t.app.store.readEvents(0, 100);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    const first = await call(t, 'GET', '/api/v1/events?limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ items: events.slice(0, 2), total: 3, limit: 2, offset: 0, next: 2 });
    const rest = await call(t, 'GET', '/api/v1/events?after=2&limit=2');
    expect(rest.json()).toEqual({ items: events.slice(2), total: 3, limit: 2, offset: 2, next: null });
    expect(events[0]).toMatchObject({ type: 'identity.created', actor: 'api:admin' });
    const bad = await call(t, 'GET', '/api/v1/events?after=-1');
    expect(bad.json()).toEqual(invalid([{ path: 'query.after', message: 'must be at least 0' }]));
  });
});

describe('event log by subject', () => {
  it("lists one identity's events newest first, paging with before, and counts them", async () => {
    t = await createTestServer();
    const a = await t.addIdentity({ name: 'a' });
    const b = await t.addIdentity({ name: 'b' });
    for (const name of ['a1', 'a2', 'a3'])
      await call(t, 'PATCH', `/api/v1/identities/${a.id}`, { description: name });
    await call(t, 'PATCH', `/api/v1/identities/${b.id}`, { description: 'b1' });
    const aEvents = (await t.app.store.readEvents(0, 100)).filter((e) => e.subject === a.id);
    expect(aEvents).toHaveLength(4);
    const first = await call(t, 'GET', `/api/v1/events?subject=${a.id}&order=desc&limit=3`);
    expect(first.statusCode).toBe(200);
    const newest = [...aEvents].reverse();
    expect(first.json()).toEqual({
      items: newest.slice(0, 3),
      total: 4,
      limit: 3,
      offset: 0,
      next: newest[2]!.seq,
    });
    const rest = await call(
      t,
      'GET',
      `/api/v1/events?subject=${a.id}&order=desc&limit=3&before=${newest[2]!.seq}`,
    );
    expect(rest.json()).toEqual({ items: newest.slice(3), total: 4, limit: 3, offset: 0, next: null });
    const asc = await call(t, 'GET', `/api/v1/events?subject=${a.id}&limit=10`);
    expect(asc.json()).toEqual({ items: aEvents, total: 4, limit: 10, offset: 0, next: null });
    const bad = await call(t, 'GET', '/api/v1/events?order=sideways&before=0');
    expect((bad.json() as { details: Array<{ path: string }> }).details.map((d) => d.path)).toEqual([
      'query.before',
      'query.order',
    ]);
  });
});

describe('audit verify', () => {
  it('reports an intact chain, then the first edited record', async () => {
    t = await createTestServer();
    for (const name of ['v1', 'v2', 'v3'])
      await call(t, 'POST', '/api/v1/identities', { name, kind: 'bot', owner: 'o' });
    const events = await t.app.store.readEvents(0, 100);
    const ok = await call(t, 'GET', '/api/v1/audit/verify');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ok: true, checked: 3, lastSeq: 3, lastHash: events[2]!.hash });

    const db = new Database(join(t.dataDir, 'keyward.db'));
    try {
      db.prepare('UPDATE events SET actor = ? WHERE seq = 2').run('someone-else');
    } finally {
      db.close();
    }
    const broken = await call(t, 'GET', '/api/v1/audit/verify');
    expect(broken.statusCode).toBe(200);
    expect(broken.json()).toEqual({
      ok: false,
      checked: 1,
      problem: {
        seq: 2,
        kind: 'changed',
        message: 'record 2 does not match its hash: its content or hash was edited',
      },
    });
  });

  it('requires the token and takes no query', async () => {
    t = await createTestServer();
    expect((await t.server.inject({ method: 'GET', url: '/api/v1/audit/verify' })).statusCode).toBe(401);
    const res = await call(t, 'GET', '/api/v1/audit/verify?deep=1');
    expect(res.json()).toEqual(invalid([{ path: 'query.deep', message: 'unknown field' }]));
  });
});

describe('imports', () => {
  const fakeResult = (kind: ImportResult['kind'], file: string, content: Buffer): ImportResult => ({
    kind,
    file,
    sha256: sha256Hex(content),
    bytes: content.length,
    changes: {
      identities: { created: 1, updated: 0, unchanged: 0 },
      credentials: { created: 0, updated: 0, unchanged: 0 },
      grants: { created: 0, updated: 0, unchanged: 0 },
      resources: { created: 0, updated: 0, unchanged: 0 },
      people: { created: 0, updated: 0, unchanged: 0 },
      eventSeq: 1,
    },
    findings: { open: 0, created: 0, resolved: 0 },
  });

  /** A server whose importFile records what it received. */
  async function withFakeImport() {
    const received: Array<{ kind: string; fileName: string; content: Buffer; actor: string }> = [];
    const ts = await createTestServer({
      config: { maxImportBytes: 1024 },
      patchApp: (app) => ({
        ...app,
        inventory: {
          ...app.inventory,
          importFile: async (args) => {
            received.push(args);
            return fakeResult(args.kind, args.fileName, args.content);
          },
        },
      }),
    });
    return { ts, received };
  }

  it('passes the raw body to the importer for every accepted content type and answers 201', async () => {
    const { ts, received } = await withFakeImport();
    t = ts;
    const cases: Array<[string, string]> = [
      ['application/octet-stream', 'A=1\n'],
      ['text/plain; charset=utf-8', 'B=2\n'],
      ['text/csv', 'email,name\nann@example.com,Ann\n'],
      ['application/json', '{"not": "parsed", '],
    ];
    for (const [type, content] of cases) {
      const res = await call(t, 'POST', '/api/v1/imports/dotenv?filename=deploy%2F.env', content, {
        'content-type': type,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual(fakeResult('dotenv', 'deploy/.env', Buffer.from(content)));
    }
    expect(received.map((r) => r.content.toString('utf8'))).toEqual(cases.map(([, c]) => c));
    expect(
      received.every((r) => Buffer.isBuffer(r.content) && r.actor === 'api:admin' && r.kind === 'dotenv'),
    ).toBe(true);
  });

  it('validates ?cluster= and rejects it for an importer that does not take it', async () => {
    t = await createTestServer();
    const bad = await call(t, 'POST', '/api/v1/imports/kubernetes?filename=k.json&cluster=EU%20West', '{}', {
      'content-type': 'application/json',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual(
      invalid([
        { path: 'query.cluster', message: 'must be 1–63 lowercase letters, digits, ".", "_" or "-"' },
      ]),
    );
    const wrongKind = await call(t, 'POST', '/api/v1/imports/dotenv?filename=.env&cluster=eu', 'A=1', {
      'content-type': 'text/plain',
    });
    expect(wrongKind.statusCode).toBe(400);
    expect(wrongKind.json()).toMatchObject({
      code: 'KW_VALIDATION',
      message: 'the dotenv importer does not take the option "cluster"',
    });
  });

  it('requires ?filename= and a known kind', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/imports/dotenv', 'A=1', { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(invalid([{ path: 'query.filename', message: 'is required' }]));
    const blank = await call(t, 'POST', '/api/v1/imports/dotenv?filename=', 'A=1', {
      'content-type': 'text/plain',
    });
    expect(blank.json()).toEqual(
      invalid([
        {
          path: 'query.filename',
          message: 'is required: the name of the file, as it appears in findings and locations',
        },
      ]),
    );
    const ctrl = await call(t, 'POST', '/api/v1/imports/dotenv?filename=a%0Ab', 'A=1', {
      'content-type': 'text/plain',
    });
    expect(ctrl.json()).toEqual(
      invalid([{ path: 'query.filename', message: 'must not contain control characters' }]),
    );
    const kind = await call(t, 'POST', '/api/v1/imports/excel?filename=x.xlsx', 'A=1', {
      'content-type': 'text/plain',
    });
    expect(kind.json()).toEqual(
      invalid([
        {
          path: 'params.kind',
          message: 'Invalid option: expected one of "mcp"|"dotenv"|"aws"|"kubernetes"|"github"|"directory"',
        },
      ]),
    );
  });

  it('rejects an empty body with KW_INVALID_IMPORT', async () => {
    t = await createTestServer();
    const variants: Array<Record<string, string>> = [{}, { 'content-type': 'application/octet-stream' }];
    for (const headers of variants) {
      const res = await call(t, 'POST', '/api/v1/imports/dotenv?filename=.env', undefined, headers);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        code: 'KW_INVALID_IMPORT',
        message: 'the request body is empty: send the file as the body',
        details: [{ path: 'body', message: 'empty file' }],
        requestId: 'req-1',
      });
    }
  });

  it('answers a file over maxImportBytes with 413, while a JSON route keeps bodyLimitBytes', async () => {
    const { ts, received } = await withFakeImport();
    t = ts;
    const res = await call(t, 'POST', '/api/v1/imports/dotenv?filename=.env', 'A'.repeat(1025), {
      'content-type': 'application/octet-stream',
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      code: 'KW_PAYLOAD_TOO_LARGE',
      message: 'the file is larger than the import limit of 1024 bytes (maxImportBytes)',
      details: [{ path: 'body', message: 'too large' }],
      requestId: 'req-1',
    });
    expect(received).toEqual([]);
    const ok = await call(t, 'POST', '/api/v1/imports/dotenv?filename=.env', 'A'.repeat(1024), {
      'content-type': 'application/octet-stream',
    });
    expect(ok.statusCode).toBe(201);
  });

  it('answers an unsupported content type with 415', async () => {
    t = await createTestServer();
    const res = await call(t, 'POST', '/api/v1/imports/dotenv?filename=.env', 'A=1', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      code: 'KW_VALIDATION',
      message:
        'unsupported content type: send the file with Content-Type application/octet-stream, application/json or text/*',
      details: [{ path: 'headers.content-type', message: 'unsupported media type' }],
      requestId: 'req-1',
    });
  });

  it('imports a real .env file, storing fingerprints and never the value', async () => {
    t = await createTestServer();
    const secret = 'sk-FAKE-0123456789abcdefghijklmn';
    const content = `STRIPE_SECRET_KEY=${secret}\nDEBUG=true\n`;
    const res = await call(t, 'POST', '/api/v1/imports/dotenv?filename=deploy%2F.env', content, {
      'content-type': 'text/plain',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json() as ImportResult;
    const findings = (await t.app.store.listFindings()).total;
    const events = await t.app.store.readEvents(0, 100);
    expect(body).toEqual({
      kind: 'dotenv',
      file: 'deploy/.env',
      sha256: sha256Hex(content),
      bytes: Buffer.byteLength(content),
      changes: {
        identities: { created: 1, updated: 0, unchanged: 0 },
        credentials: { created: 1, updated: 0, unchanged: 0 },
        grants: { created: 0, updated: 0, unchanged: 0 },
        resources: { created: 0, updated: 0, unchanged: 0 },
        people: { created: 0, updated: 0, unchanged: 0 },
        eventSeq: events.at(-1)!.seq,
      },
      findings: { open: findings, created: findings, resolved: 0 },
    });
    const creds = await call(t, 'GET', '/api/v1/credentials');
    expect(creds.json().items).toEqual([
      expect.objectContaining({
        name: 'STRIPE_SECRET_KEY',
        preview: 'sk-F…klmn',
        fingerprint: t.app.fingerprinter.fingerprint(secret),
        locations: [
          expect.objectContaining({ kind: 'file', path: 'deploy/.env', line: 1, key: 'STRIPE_SECRET_KEY' }),
        ],
      }),
    ]);
    for (const r of [
      res,
      creds,
      await call(t, 'GET', '/api/v1/findings'),
      await call(t, 'GET', '/api/v1/events'),
    ]) {
      expect(r.body).not.toContain(secret);
    }
    expect(events.at(-1)).toMatchObject({ actor: 'api:admin' });
  });

  it('answers an invalid file with 400 KW_INVALID_IMPORT and stores nothing', async () => {
    t = await createTestServer();
    const before = await t.app.store.stats();
    const res = await call(t, 'POST', '/api/v1/imports/aws?filename=iam.json', '{"x": 1}', {
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('KW_INVALID_IMPORT');
    expect(body.message).toMatch(/^iam\.json: /);
    expect(body.details[0].path).toBe('iam.json');
    expect(body.requestId).toBe('req-1');
    expect(await t.app.store.stats()).toEqual(before);
  });
});
