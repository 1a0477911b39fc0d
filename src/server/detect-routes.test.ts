import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from './test-support/test-server.js';

const BROWSER_ON_KEY = readFileSync(
  new URL('../../rules/keyward/fixtures/aws-nhi-key-browser-user-agent/positive.ndjson', import.meta.url),
  'utf8',
);

describe('detection API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer({ startDetection: true });
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (url: string, payload: string) =>
    t.server.inject({
      method: 'POST',
      url,
      headers: { ...t.auth, 'content-type': 'application/x-ndjson' },
      payload,
    });

  it('evaluates posted CloudTrail records and lists the alerts they raised, newest first', async () => {
    const res = await post(
      '/api/v1/detect/events?format=cloudtrail',
      `${BROWSER_ON_KEY.trimEnd()}\n{"broken":\n`,
    );
    expect(res.statusCode).toBe(200);
    const lines = BROWSER_ON_KEY.split('\n').filter((l) => l.trim() !== '').length;
    expect(res.json()).toEqual({
      accepted: lines,
      broken: [{ line: lines + 1, reason: 'not JSON' }],
      brokenCount: 1,
    });
    const list = await t.server.inject({
      method: 'GET',
      url: '/api/v1/detect/alerts?level=high',
      headers: t.auth,
    });
    expect(list.statusCode).toBe(200);
    const page = list.json() as {
      total: number;
      items: Array<{ id: string; ruleTitle: string; source: string }>;
    };
    expect(page.total).toBeGreaterThan(0);
    expect(page.items[0]!.source).toBe('stream');
    const one = await t.server.inject({
      method: 'GET',
      url: `/api/v1/detect/alerts/${page.items[0]!.id}`,
      headers: t.auth,
    });
    expect(one.json()).toMatchObject({ id: page.items[0]!.id, ruleTitle: page.items[0]!.ruleTitle });
    const missing = await t.server.inject({
      method: 'GET',
      url: '/api/v1/detect/alerts/nope',
      headers: t.auth,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('reports the loaded rules and refuses bad requests with the field named', async () => {
    const status = await t.server.inject({ method: 'GET', url: '/api/v1/detect/status', headers: t.auth });
    expect(status.json()).toMatchObject({ running: true, rules: { errors: [] }, report: { ok: true } });
    const noFormat = await post('/api/v1/detect/events', '{}');
    expect(noFormat.statusCode).toBe(400);
    expect(JSON.stringify(noFormat.json())).toContain('query.format');
    const empty = await post('/api/v1/detect/events?format=cloudtrail', '');
    expect(empty.statusCode).toBe(400);
    const badLevel = await t.server.inject({
      method: 'GET',
      url: '/api/v1/detect/alerts?level=severe',
      headers: t.auth,
    });
    expect(badLevel.statusCode).toBe(400);
    const anonymous = await t.server.inject({ method: 'GET', url: '/api/v1/detect/alerts' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('detection API body limit', () => {
  it('answers 413 for a body over detect.ingestMaxBytes, before reading it into detection', async () => {
    const t = await createTestServer({ startDetection: true, config: { detect: { ingestMaxBytes: 2048 } } });
    try {
      const res = await t.server.inject({
        method: 'POST',
        url: '/api/v1/detect/events?format=cloudtrail',
        headers: { ...t.auth, 'content-type': 'application/x-ndjson' },
        payload: `${'{"eventName":"x"}\n'.repeat(200)}`,
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ code: 'KW_PAYLOAD_TOO_LARGE' });
      expect(t.app.detection.status().ingested).toBe(0);
    } finally {
      await t.close();
    }
  });
});
