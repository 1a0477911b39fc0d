import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../core/types.js';
import { emptyBatch } from '../core/inventory-batch.js';
import { seedAgent, seedApproval, testFinding } from './test-support/dashboard-fixtures.js';
import { createTestServer, TEST_TIME, type TestServer } from './test-support/test-server.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const DAY = 86_400_000;
const daysAgo = (n: number): string => new Date(Date.parse(TEST_TIME) - n * DAY).toISOString();

const finding = (over: Partial<Finding> & Pick<Finding, 'id' | 'identityId'>): Finding =>
  testFinding({ ruleId: 'r', ...over });

const get = (ts: TestServer, url: string) => ts.server.inject({ method: 'GET', url, headers: ts.auth });

describe('GET /api/v1/overview', () => {
  it('answers zeros and a full score on an empty installation, with every category and day present', async () => {
    t = await createTestServer();
    const res = await get(t, '/api/v1/overview');
    expect(res.statusCode).toBe(200);
    const body = res.json() as Record<string, unknown> & {
      findingsByOwasp: Array<{ owasp: string; title: string }>;
      alertsOverTime: Array<{ day: string; total: number }>;
    };
    expect(body.postureScore).toBe(100);
    expect(body.counts).toEqual({
      identities: 0,
      credentials: 0,
      openFindings: 0,
      openAlerts: 0,
      pendingApprovals: 0,
    });
    expect(body.findingsByOwasp.map((o) => o.owasp)).toEqual([
      'NHI1',
      'NHI2',
      'NHI3',
      'NHI4',
      'NHI5',
      'NHI6',
      'NHI7',
      'NHI8',
      'NHI9',
      'NHI10',
    ]);
    expect(body.findingsByOwasp[1]).toEqual({
      owasp: 'NHI2',
      title: 'Secret Leakage',
      critical: 0,
      high: 0,
      medium: 0,
      low: 0,
      info: 0,
    });
    expect(body.alertsOverTime).toHaveLength(30);
    expect(body.alertsOverTime[0]).toEqual({
      day: '2025-05-03',
      total: 0,
      critical: 0,
      high: 0,
      medium: 0,
      low: 0,
      informational: 0,
    });
    expect(body.alertsOverTime.at(-1)!.day).toBe('2025-06-01');
    expect(body.identitiesByRisk).toEqual({ critical: 0, high: 0, medium: 0, low: 0, none: 0 });
    expect(body.riskiestIdentities).toEqual([]);
    expect(body.credentialsDue).toEqual([]);
    expect((await t.server.inject({ method: 'GET', url: '/api/v1/overview' })).statusCode).toBe(401);
    expect((await get(t, '/api/v1/overview?x=1')).statusCode).toBe(400);
  });

  it('scores open findings per identity, counts, bands, alerts per day and credentials due', async () => {
    t = await createTestServer();
    const b = emptyBatch();
    const a = { provider: 'aws', externalId: 'role/a' };
    b.identities.push(
      { ...a, name: 'alpha', kind: 'service-account', environment: 'prod', owner: 'ann@example.com' },
      { provider: 'aws', externalId: 'role/b', name: 'beta', kind: 'ai-agent' },
      { provider: 'aws', externalId: 'role/c', name: 'gamma', kind: 'bot' },
    );
    const cred = (label: string, over: Record<string, unknown>) => ({
      identity: a,
      type: 'access-key' as const,
      provider: 'aws',
      fingerprint: label.repeat(64).slice(0, 64),
      fingerprintSource: 'reference' as const,
      preview: `AKIA…${label.toUpperCase()}`,
      ...over,
    });
    b.credentials.push(
      cred('a', { expiresAt: daysAgo(12) }),
      cred('b', { expiresAt: daysAgo(-4), createdAt: daysAgo(400) }),
      cred('c', { createdAt: daysAgo(151) }),
      cred('d', { createdAt: daysAgo(10) }),
      cred('e', { expiresAt: daysAgo(30), status: 'inactive' }),
    );
    await t.app.store.applyInventoryBatch(b, { time: TEST_TIME, actor: 'test', source: { kind: 'test' } });
    const ids = Object.fromEntries((await t.app.store.listIdentities()).items.map((i) => [i.name, i.id]));
    await t.app.store.replaceFindings(
      [
        finding({ id: 'f1', identityId: ids.alpha!, owasp: 'NHI2', severity: 'critical' }),
        finding({ id: 'f2', identityId: ids.alpha!, owasp: 'NHI7', severity: 'high' }),
        finding({ id: 'f3', identityId: ids.beta!, owasp: 'NHI7', severity: 'medium' }),
        finding({ id: 'f4', identityId: ids.beta!, owasp: 'NHI1', severity: 'low' }),
      ],
      new Map([
        [ids.alpha!, 85],
        [ids.beta!, 45],
      ]),
      TEST_TIME,
    );
    await t.app.store.setFindingStatus(
      'f3',
      { status: 'accepted', reason: 'ok' },
      { time: TEST_TIME, actor: 'x' },
    );
    const alert = (id: string, level: 'high' | 'low', windowEnd: number) => ({
      id,
      ruleId: 'r',
      ruleTitle: 'R',
      level,
      tags: [],
      groupKey: null,
      windowStart: windowEnd - 1000,
      windowEnd,
      eventIds: [],
      eventCount: 0,
      summary: id,
    });
    const now = Date.parse(TEST_TIME);
    await t.app.store.saveAlerts(
      [
        alert('al_1', 'high', now),
        alert('al_2', 'low', now - 2 * DAY),
        alert('al_3', 'high', now - 40 * DAY),
      ],
      { source: 'batch', time: TEST_TIME, targets: [] },
    );
    await t.app.store.acknowledgeAlert('al_2', null, { time: TEST_TIME, actor: 'x' });
    const agentId = await seedAgent(t.app.store, TEST_TIME);
    await seedApproval(t.app.store, agentId, TEST_TIME);

    const body = (await get(t, '/api/v1/overview')).json() as Record<string, unknown> & {
      alertsOverTime: Array<{ day: string; total: number; high: number; low: number }>;
      findingsByOwasp: Array<{ owasp: string }>;
    };
    // alpha 40 + 25 = 65, beta 4 (the medium one is accepted), gamma 0: 100 - 69 / 3 = 77.
    expect(body.postureScore).toBe(77);
    expect(body.counts).toEqual({
      identities: 3,
      credentials: 5,
      openFindings: 3,
      openAlerts: 2,
      pendingApprovals: 1,
    });
    expect(body.findingsBySeverity).toEqual({ critical: 1, high: 1, medium: 0, low: 1, info: 0 });
    expect(body.findingsByOwasp.find((o) => o.owasp === 'NHI7')).toEqual({
      owasp: 'NHI7',
      title: 'Long-Lived Secrets',
      critical: 0,
      high: 1,
      medium: 0,
      low: 0,
      info: 0,
    });
    expect(body.identitiesByRisk).toEqual({ critical: 1, high: 0, medium: 1, low: 0, none: 1 });
    const days = body.alertsOverTime.filter((d) => d.total > 0);
    expect(days.map((d) => [d.day, d.total, d.high, d.low])).toEqual([
      ['2025-05-30', 1, 0, 1],
      ['2025-06-01', 1, 1, 0],
    ]);
    expect(body.riskiestIdentities).toEqual([
      {
        id: ids.alpha,
        name: 'alpha',
        kind: 'service-account',
        provider: 'aws',
        environment: 'prod',
        owner: 'ann@example.com',
        riskScore: 85,
        openFindings: 2,
      },
      {
        id: ids.beta,
        name: 'beta',
        kind: 'ai-agent',
        provider: 'aws',
        environment: null,
        owner: null,
        riskScore: 45,
        openFindings: 1,
      },
    ]);
    const due = body.credentialsDue as Array<Record<string, unknown>>;
    expect(due.map((d) => [d.preview, d.due, d.days])).toEqual([
      ['AKIA…A', 'expired', 12],
      ['AKIA…B', 'expiring', 4],
      ['AKIA…C', 'rotation-overdue', 61],
    ]);
    expect(Object.keys(due[0]!)).toEqual([
      'id',
      'identityId',
      'identityName',
      'type',
      'preview',
      'expiresAt',
      'lastRotatedAt',
      'due',
      'days',
    ]);
    expect(due[0]).toMatchObject({ identityId: ids.alpha, identityName: 'alpha', type: 'access-key' });
  });
});

describe('GET /api/v1/identities/{id}/tokens', () => {
  const tokenEvent = (agentId: string, jti: string, time: string, scopes: string[], exp = true) => ({
    time,
    type: 'broker.token.issued',
    actor: agentId,
    subject: agentId,
    data: {
      jti,
      agentId,
      scopes,
      resource: 'https://api.example.test',
      ...(exp ? { exp: new Date(Date.parse(time) + 300_000).toISOString() } : {}),
    },
  });

  it('links agents by agent type name, agent name or attributes.brokerAgentIds, and summarises their tokens', async () => {
    t = await createTestServer();
    const byType = await t.addIdentity({ name: 'support-agent', kind: 'ai-agent' });
    const byAttribute = await t.addIdentity({ name: 'svc', attributes: { brokerAgentIds: ['placeholder'] } });
    const unlinked = await t.addIdentity({ name: 'lonely' });
    const worker = await seedAgent(t.app.store, TEST_TIME, 'worker-1');
    const other = await seedAgent(t.app.store, TEST_TIME, 'worker-2');
    await t.app.store.updateIdentity(
      byAttribute.id,
      { attributes: { brokerAgentIds: [other] } },
      { time: TEST_TIME, actor: 'test' },
    );
    await t.app.store.appendEvents([
      tokenEvent(worker, 'old', daysAgo(40), ['tickets:read']),
      tokenEvent(worker, 'j1', daysAgo(2), ['tickets:read']),
      tokenEvent(other, 'j2', daysAgo(1), ['tickets:write', 'tickets:read'], false),
      tokenEvent(worker, 'j3', daysAgo(0.5), ['tickets:read']),
    ]);

    const res = await get(t, `/api/v1/identities/${byType.id}/tokens`);
    expect(res.statusCode).toBe(200);
    // Both agents are of the type named like the identity.
    expect(res.json()).toEqual({
      agentIds: [worker, other],
      tokensIssued: 3,
      scopesGranted: ['tickets:read'],
      scopesUsed: ['tickets:read', 'tickets:write'],
      recent: [
        {
          time: daysAgo(0.5),
          jti: 'j3',
          scope: 'tickets:read',
          audience: 'https://api.example.test',
          expiresAt: new Date(Date.parse(daysAgo(0.5)) + 300_000).toISOString(),
        },
        {
          time: daysAgo(1),
          jti: 'j2',
          scope: 'tickets:write tickets:read',
          audience: 'https://api.example.test',
        },
        {
          time: daysAgo(2),
          jti: 'j1',
          scope: 'tickets:read',
          audience: 'https://api.example.test',
          expiresAt: new Date(Date.parse(daysAgo(2)) + 300_000).toISOString(),
        },
      ],
    });
    const viaAttribute = (await get(t, '/api/v1/identities/svc/tokens')).json() as {
      agentIds: string[];
      tokensIssued: number;
    };
    expect([viaAttribute.agentIds, viaAttribute.tokensIssued]).toEqual([[other], 1]);
    expect((await get(t, `/api/v1/identities/${unlinked.id}/tokens`)).json()).toEqual({
      agentIds: [],
      tokensIssued: 0,
      scopesGranted: [],
      scopesUsed: [],
      recent: [],
    });
    expect((await get(t, '/api/v1/identities/nope/tokens')).statusCode).toBe(404);
    expect(
      (await t.server.inject({ method: 'GET', url: `/api/v1/identities/${unlinked.id}/tokens` })).statusCode,
    ).toBe(401);
  });
});

describe('GET /api/v1/scans/latest', () => {
  it('answers nulls and no recent scans when nothing was recorded', async () => {
    t = await createTestServer();
    const res = await get(t, '/api/v1/scans/latest');
    expect([res.statusCode, res.json()]).toEqual([
      200,
      { npm: null, secrets: null, datasets: null, recent: [] },
    ]);
  });

  it('reads the newest npm run with its flagged packages, secret scan and dataset run from the event log', async () => {
    t = await createTestServer();
    const ev = (
      type: string,
      time: string,
      data: Record<string, unknown>,
      subject: string | null = null,
    ) => ({
      time,
      type,
      actor: 'ci',
      subject,
      data,
    });
    await t.app.store.appendEvents([
      ev('npm.scan.completed', daysAgo(3), { inputs: [{ path: 'old/package-lock.json' }], packages: 1 }),
      ev('dataset.verified', daysAgo(2), { dataset: 'tickets', result: 'ok' }, 'dataset:tickets'),
      ev('npm.scan.completed', daysAgo(1), {
        inputs: [
          { path: 'web/package-lock.json', kind: 'lockfile', packages: 2 },
          { path: 'api/package-lock.json' },
        ],
        packages: 2,
        levels: { high: 1 },
      }),
      ev('npm.package.flagged', daysAgo(1), {
        package: 'expresss',
        level: 'high',
        findings: [{ ruleId: 'r', line: 2 }],
      }),
      ev('npm.package.flagged', daysAgo(0.5), { package: 'later-run', level: 'high' }),
      ev(
        'dataset.scanned',
        daysAgo(0.9),
        { dataset: 'tickets', result: 'failed', findings: 1 },
        'dataset:tickets',
      ),
    ]);
    await t.app.inventory.importBatch(emptyBatch(), 'ann', {
      kind: 'secret-scan',
      findings: 0,
      target: 'src',
    });
    await t.app.inventory.importBatch(emptyBatch(), 'ann', { kind: 'aws' });

    const body = (await get(t, '/api/v1/scans/latest')).json() as {
      npm: Record<string, unknown>;
      secrets: Record<string, unknown>;
      datasets: Record<string, unknown>;
      recent: Array<{ kind: string; type: string; target: string | null }>;
    };
    expect(body.npm).toMatchObject({
      time: daysAgo(1),
      actor: 'ci',
      kind: 'npm',
      type: 'npm.scan.completed',
      target: 'web/package-lock.json, api/package-lock.json',
      result: {
        packages: 2,
        levels: { high: 1 },
        flagged: [{ package: 'expresss', level: 'high', findings: [{ ruleId: 'r', line: 2 }] }],
      },
    });
    expect(body.secrets).toMatchObject({
      actor: 'ann',
      kind: 'secrets',
      type: 'inventory.batch.applied',
      target: 'src',
      result: { source: { kind: 'secret-scan', findings: 0, target: 'src' } },
    });
    expect(body.datasets).toMatchObject({
      kind: 'datasets',
      type: 'dataset.scanned',
      target: 'tickets',
      result: { dataset: 'tickets', result: 'failed', findings: 1 },
    });
    expect(body.recent.map((s) => [s.kind, s.type, s.target])).toEqual([
      ['secrets', 'inventory.batch.applied', 'src'],
      ['datasets', 'dataset.scanned', 'tickets'],
      ['npm', 'npm.scan.completed', 'web/package-lock.json, api/package-lock.json'],
      ['datasets', 'dataset.verified', 'tickets'],
      ['npm', 'npm.scan.completed', 'old/package-lock.json'],
    ]);
  });
});
