import { afterEach, describe, expect, it } from 'vitest';
import type { StoredFinding } from '../core/types.js';
import type { FindingFilter, Page, StoreStats } from '../store/index.js';
import { createMetrics, PROMETHEUS_CONTENT_TYPE } from './server-metrics.js';
import { createTestServer, TEST_TIME, type TestServer } from './test-support/test-server.js';

const STATS: StoreStats = {
  identities: 3,
  credentials: 2,
  grants: 1,
  resources: 0,
  people: 0,
  findings: 4,
  events: 9,
};

/** A store fake counting its calls: 1 critical, 2 high, 1 low finding. */
function fakeStore() {
  const counts = { info: 0, low: 1, medium: 0, high: 2, critical: 1 };
  const order = ['info', 'low', 'medium', 'high', 'critical'] as const;
  const calls = { stats: 0, listFindings: 0 };
  let down = false;
  return {
    calls,
    setDown: (d: boolean) => void (down = d),
    store: {
      stats: async (): Promise<StoreStats> => {
        calls.stats++;
        if (down) throw new Error('store down');
        return STATS;
      },
      listFindings: async (f?: FindingFilter): Promise<Page<StoredFinding>> => {
        calls.listFindings++;
        const from = order.indexOf(f?.minSeverity ?? 'info');
        const total = order.slice(from).reduce((n, s) => n + counts[s], 0);
        return { items: [], total, limit: 1, offset: 0 };
      },
    },
  };
}

describe('createMetrics', () => {
  it('renders counters, a cumulative histogram and store gauges in text format 0.0.4', async () => {
    const fake = fakeStore();
    const m = createMetrics({ store: fake.store, now: () => 0 });
    m.observeRequest('GET', '/api/v1/identities', 200, 0.003);
    m.observeRequest('GET', '/api/v1/identities', 200, 0.2);
    m.observeRequest('POST', '/api/v1/identities', 400, 20);
    const text = await m.render();
    const lines = text.split('\n');
    expect(text.endsWith('\n')).toBe(true);
    expect(lines).toContain('# TYPE keyward_http_requests_total counter');
    expect(lines).toContain(
      'keyward_http_requests_total{method="GET",route="/api/v1/identities",status="200"} 2',
    );
    expect(lines).toContain(
      'keyward_http_requests_total{method="POST",route="/api/v1/identities",status="400"} 1',
    );
    expect(lines).toContain('# TYPE keyward_http_request_duration_seconds histogram');
    const get = 'method="GET",route="/api/v1/identities",status="200"';
    expect(lines).toContain(`keyward_http_request_duration_seconds_bucket{${get},le="0.005"} 1`);
    expect(lines).toContain(`keyward_http_request_duration_seconds_bucket{${get},le="0.1"} 1`);
    expect(lines).toContain(`keyward_http_request_duration_seconds_bucket{${get},le="0.25"} 2`);
    expect(lines).toContain(`keyward_http_request_duration_seconds_bucket{${get},le="+Inf"} 2`);
    expect(lines).toContain(`keyward_http_request_duration_seconds_sum{${get}} 0.203`);
    expect(lines).toContain(`keyward_http_request_duration_seconds_count{${get}} 2`);
    const post = 'method="POST",route="/api/v1/identities",status="400"';
    expect(lines).toContain(`keyward_http_request_duration_seconds_bucket{${post},le="10"} 0`);
    expect(lines).toContain(`keyward_http_request_duration_seconds_bucket{${post},le="+Inf"} 1`);
    expect(lines).toContain('keyward_store_up 1');
    expect(lines).toContain('# TYPE keyward_inventory_rows gauge');
    expect(lines).toContain('keyward_inventory_rows{table="identities"} 3');
    expect(lines).toContain('keyward_inventory_rows{table="events"} 9');
    expect(lines).toContain('# TYPE keyward_findings_open gauge');
    expect(lines.filter((l) => l.startsWith('keyward_findings_open{'))).toEqual([
      'keyward_findings_open{severity="info"} 0',
      'keyward_findings_open{severity="low"} 1',
      'keyward_findings_open{severity="medium"} 0',
      'keyward_findings_open{severity="high"} 2',
      'keyward_findings_open{severity="critical"} 1',
    ]);
  });

  it('escapes label values', async () => {
    const m = createMetrics({ store: fakeStore().store });
    m.observeRequest('GET', 'a"b\\c\nd', 200, 0);
    expect(await m.render()).toContain(
      'keyward_http_requests_total{method="GET",route="a\\"b\\\\c\\nd",status="200"} 1',
    );
  });

  it('caches store-derived gauges for cacheMs', async () => {
    const fake = fakeStore();
    let now = 1_000;
    const m = createMetrics({ store: fake.store, now: () => now, cacheMs: 5_000 });
    await m.render();
    await Promise.all([m.render(), m.render()]);
    now += 4_999;
    await m.render();
    expect(fake.calls.stats).toBe(1);
    now += 1;
    await m.render();
    expect(fake.calls.stats).toBe(2);
  });

  it('reports keyward_store_up 0 and omits store gauges when the store fails', async () => {
    const fake = fakeStore();
    fake.setDown(true);
    const text = await createMetrics({ store: fake.store }).render();
    expect(text).toContain('keyward_store_up 0\n');
    expect(text).not.toContain('keyward_inventory_rows');
    expect(text).not.toContain('keyward_findings_open');
  });
});

describe('GET /metrics', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('serves Prometheus text without a token, counting requests by route template', async () => {
    t = await createTestServer();
    const a = await t.addIdentity({ name: 'a' });
    await t.app.store.replaceFindings(
      [
        {
          id: 'fnd_1',
          ruleId: 'r',
          owasp: 'NHI1',
          severity: 'medium',
          title: 't',
          message: 'm',
          remediation: 'r',
          identityId: a.id,
          credentialId: null,
          evidence: {},
          firstSeenAt: TEST_TIME,
          lastSeenAt: TEST_TIME,
        },
      ],
      new Map(),
      TEST_TIME,
    );
    await t.server.inject({ method: 'GET', url: `/api/v1/identities/${a.id}`, headers: t.auth });
    await t.server.inject({ method: 'GET', url: '/api/v1/identities' });
    await t.server.inject({ method: 'GET', url: '/no/such/route' });
    const res = await t.server.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    const lines = res.body.split('\n');
    expect(lines).toContain(
      'keyward_http_requests_total{method="GET",route="/api/v1/identities/:id",status="200"} 1',
    );
    expect(lines).toContain(
      'keyward_http_requests_total{method="GET",route="/api/v1/identities",status="401"} 1',
    );
    expect(lines).toContain('keyward_http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(lines).toContain('keyward_inventory_rows{table="identities"} 1');
    expect(lines).toContain('keyward_findings_open{severity="medium"} 1');
    expect(lines).toContain('keyward_store_up 1');
    expect(res.body).not.toContain(a.id);
  });
});
