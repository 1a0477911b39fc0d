import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../server/test-support/test-server.js';
import { loadDemoActivity, type DemoActivityResult } from './demo-activity.js';

describe('demo activity (serve --demo)', () => {
  let t: TestServer;
  let result: DemoActivityResult;
  beforeAll(async () => {
    t = await createTestServer();
    await t.app.inventory.loadDemo('cli');
    result = await loadDemoActivity(t.app, 'cli');
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  const get = async (url: string) => {
    const res = await t.server.inject({ method: 'GET', url, headers: t.auth });
    expect(res.statusCode, url).toBe(200);
    return res.json() as Record<string, unknown> & { items: Array<Record<string, unknown>>; total: number };
  };

  it('adds agents, tokens, approvals, alerts, accepted findings and scans', () => {
    expect(result).toEqual({
      agents: 2,
      tokens: 24,
      approvals: { pending: 3, decided: 1 },
      alerts: { stored: 6, acknowledged: 2 },
      acceptedFindings: 3,
      scans: { npm: 1, secrets: 1, datasets: 3 },
    });
  });

  it('gives the overview something in every part', async () => {
    const o = (await get('/api/v1/overview')) as unknown as {
      postureScore: number;
      counts: Record<string, number>;
      findingsByOwasp: Array<Record<string, number>>;
      alertsOverTime: Array<{ total: number }>;
      riskiestIdentities: unknown[];
      credentialsDue: Array<{ due: string }>;
    };
    expect(o.postureScore).toBeGreaterThan(0);
    expect(o.postureScore).toBeLessThan(100);
    expect(o.counts.identities).toBe(50);
    expect(o.counts.openFindings).toBeGreaterThan(0);
    expect(o.counts.openAlerts).toBe(4);
    expect(o.counts.pendingApprovals).toBe(3);
    expect(o.alertsOverTime.reduce((n, d) => n + d.total, 0)).toBe(6);
    expect(o.riskiestIdentities).toHaveLength(10);
    expect(new Set(o.credentialsDue.map((c) => c.due))).toEqual(
      new Set(['expired', 'expiring', 'rotation-overdue']),
    );
  });

  it('has an accepted finding, pending approvals, unacknowledged alerts with events, and npm resources', async () => {
    expect((await get('/api/v1/findings?status=accepted')).total).toBe(result.acceptedFindings);
    expect((await get('/api/v1/broker/approvals?status=pending')).total).toBe(3);
    const open = await get('/api/v1/detect/alerts?acknowledged=false');
    expect(open.total).toBe(4);
    const detail = await get(`/api/v1/detect/alerts/${String(open.items[0]!.id)}`);
    expect((detail.events as unknown[]).length).toBe(2);
    expect((await get('/api/v1/resources?provider=npm')).total).toBe(3);
    const events = (await t.app.store.readEvents(0, 10_000)).map((e) => e.type);
    for (const type of [
      'npm.scan.completed',
      'npm.package.flagged',
      'dataset.signed',
      'dataset.verified',
      'dataset.scanned',
    ])
      expect(events, type).toContain(type);
    const tokens = (await get('/api/v1/identities/support-agent/tokens')) as unknown as {
      agentIds: string[];
      tokensIssued: number;
      scopesGranted: string[];
      recent: unknown[];
    };
    expect(tokens.agentIds).toHaveLength(1);
    expect(tokens.tokensIssued).toBe(12);
    expect(tokens.scopesGranted).toEqual(['invoices:read', 'invoices:refund', 'issues:write', 'repo:read']);
    expect(tokens.recent).toHaveLength(12);
    const scans = (await get('/api/v1/scans/latest')) as unknown as Record<
      string,
      { kind: string } | null
    > & {
      recent: unknown[];
    };
    expect([scans.npm?.kind, scans.secrets?.kind, scans.datasets?.kind]).toEqual([
      'npm',
      'secrets',
      'datasets',
    ]);
    expect((scans.secrets as unknown as { target: string }).target).toBe('services/');
    expect(scans.recent).toHaveLength(4);
    // Never a client secret in the log.
    expect(JSON.stringify(await t.app.store.readEvents(0, 10_000))).not.toMatch(/kws_/);
  });
});
