import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, TEST_TIME, type TestServer } from './test-support/test-server.js';

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

describe('alert acknowledgement and detail events', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  const alert = (id: string, eventIds: string[]) => ({
    id,
    ruleId: 'r1',
    ruleTitle: 'Rule one',
    level: 'high' as const,
    tags: [],
    groupKey: null,
    windowStart: Date.parse(TEST_TIME) - 1000,
    windowEnd: Date.parse(TEST_TIME),
    eventIds,
    eventCount: eventIds.length,
    summary: `summary of ${id}`,
  });
  const ack = (id: string, payload?: object) =>
    t.server.inject({
      method: 'POST',
      url: `/api/v1/detect/alerts/${id}/ack`,
      headers: t.auth,
      ...(payload ? { payload } : {}),
    });

  it('acknowledges once (idempotent), filters by acknowledged, and returns the events found in the log', async () => {
    const logged = await t.app.store.appendEvents([
      { time: TEST_TIME, type: 'test.one', actor: 'tester', subject: null, data: { n: 1 } },
    ]);
    await t.app.store.saveAlerts([alert('al_a', [logged[0]!.id, 'from-a-file']), alert('al_b', [])], {
      source: 'batch',
      time: TEST_TIME,
      targets: [],
    });

    const detail = await t.server.inject({
      method: 'GET',
      url: '/api/v1/detect/alerts/al_a',
      headers: t.auth,
    });
    expect(detail.json()).toEqual({
      ...alert('al_a', [logged[0]!.id, 'from-a-file']),
      source: 'batch',
      createdAt: TEST_TIME,
      acknowledgedAt: null,
      acknowledgedBy: null,
      ackNote: null,
      events: logged,
    });

    const first = await ack('al_a', { note: 'known scanner' });
    expect(first.statusCode).toBe(200);
    const acked = first.json() as Record<string, unknown>;
    expect([acked.acknowledgedAt, acked.acknowledgedBy, acked.ackNote]).toEqual([
      TEST_TIME,
      'api:admin',
      'known scanner',
    ]);
    const again = await ack('al_a', { note: 'other' });
    expect([again.statusCode, again.json()]).toEqual([200, acked]);
    // No body at all is an acknowledgement without a note.
    const bare = await ack('al_b');
    expect([bare.statusCode, (bare.json() as { ackNote: unknown }).ackNote]).toEqual([200, null]);

    const list = async (q: string) =>
      (
        (
          await t.server.inject({ method: 'GET', url: `/api/v1/detect/alerts${q}`, headers: t.auth })
        ).json() as {
          items: Array<{ id: string }>;
        }
      ).items.map((a) => a.id);
    expect(await list('?acknowledged=true')).toEqual(['al_a', 'al_b']);
    expect(await list('?acknowledged=false')).toEqual([]);

    const events = await t.app.store.readEvents(0, 100);
    expect(events.filter((e) => e.type === 'alert.acknowledged').map((e) => e.data.alertId)).toEqual([
      'al_a',
      'al_b',
    ]);
  });

  it('answers 404 for an unknown alert, 400 for a long note, an unknown field or a bad filter, 401 without a token', async () => {
    expect((await ack('nope', { note: 'x' })).statusCode).toBe(404);
    const long = await ack('al_a', { note: 'x'.repeat(501) });
    expect(long.statusCode).toBe(400);
    expect(JSON.stringify(long.json())).toContain('body.note');
    expect((await ack('al_a', { notes: 'x' })).statusCode).toBe(400);
    const badFilter = await t.server.inject({
      method: 'GET',
      url: '/api/v1/detect/alerts?acknowledged=yes',
      headers: t.auth,
    });
    expect(badFilter.statusCode).toBe(400);
    const anonymous = await t.server.inject({ method: 'POST', url: '/api/v1/detect/alerts/al_a/ack' });
    expect(anonymous.statusCode).toBe(401);
  });
});
