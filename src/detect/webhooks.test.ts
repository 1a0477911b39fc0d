import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from './detect-types.js';
import { makeSqliteHarness, type StoreHarness } from '../store/store-conformance.js';
import { createAlertDeliverer, webhookTargetSchema, type WebhookTarget } from './webhooks.js';

const T0 = Date.parse('2026-11-01T10:00:00.000Z');

const alert = (id: string, level: Alert['level'] = 'high'): Alert => ({
  id,
  ruleId: 'kw-denied-then-success',
  ruleTitle: 'Denied token requests then a success',
  level,
  tags: ['attack.t1110'],
  groupKey: { clientId: 'kwc_abc' },
  windowStart: T0 - 60_000,
  windowEnd: T0,
  eventIds: ['e1', 'e2'],
  eventCount: 2,
  summary: '12 denied token requests then a success for client kwc_abc',
});

/** A webhook receiver answering the scripted statuses in turn (then 200), recording bodies. */
async function receiver(
  statuses: number[] = [],
): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/SECRET-PATH-123`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('alert webhooks', () => {
  let h: StoreHarness | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await h?.dispose();
  });

  async function setup(targets: WebhookTarget[], alerts: Alert[]) {
    h = await makeSqliteHarness();
    await h.store.migrate();
    let now = T0;
    const clock = { now: () => new Date(now) };
    await h.store.saveAlerts(alerts, {
      source: 'stream',
      time: new Date(T0).toISOString(),
      targets: targets.map((t) => t.name),
    });
    const errors: string[] = [];
    const deliverer = createAlertDeliverer({
      store: h.store,
      targets,
      clock,
      maxAttempts: 3,
      onError: (err) => errors.push((err as Error).message),
    });
    return { deliverer, errors, advance: (ms: number) => void (now += ms), store: h.store };
  }

  const target = (name: string, url: string, format: 'json' | 'slack' = 'json', minLevel = 'low') =>
    webhookTargetSchema.parse({ name, url, format, minLevel });

  it('sends the alert with its OCSF finding as JSON, and a Slack message, once', async () => {
    const json = await receiver();
    const slack = await receiver();
    closers.push(json.close, slack.close);
    const { deliverer } = await setup(
      [target('siem', json.url), target('slack', slack.url, 'slack')],
      [alert('a1')],
    );
    expect(await deliverer.runOnce()).toEqual({ sent: 2, retry: 0, failed: 0 });
    expect(json.bodies).toEqual([
      {
        alert: expect.objectContaining({ id: 'a1', source: 'stream', groupKey: { clientId: 'kwc_abc' } }),
        finding: expect.objectContaining({
          class_uid: 2004,
          finding_info: expect.objectContaining({ uid: 'a1' }),
        }),
      },
    ]);
    expect(slack.bodies).toEqual([
      {
        text: '[HIGH] Denied token requests then a success: 12 denied token requests then a success for client kwc_abc (2026-11-01T10:00:00.000Z, alert a1)',
      },
    ]);
    expect(await deliverer.runOnce()).toEqual({ sent: 0, retry: 0, failed: 0 });
  });

  it('retries a 503 with exponential backoff and gives up after maxAttempts; a 400 is given up at once', async () => {
    const flaky = await receiver([503, 503, 503]);
    const refusing = await receiver([400]);
    closers.push(flaky.close, refusing.close);
    const { deliverer, errors, advance } = await setup(
      [target('flaky', flaky.url), target('refusing', refusing.url)],
      [alert('a1')],
    );
    expect(await deliverer.runOnce()).toEqual({ sent: 0, retry: 1, failed: 1 });
    advance(1999);
    expect(await deliverer.runOnce()).toEqual({ sent: 0, retry: 0, failed: 0 });
    advance(1);
    expect(await deliverer.runOnce()).toEqual({ sent: 0, retry: 1, failed: 0 });
    // Second retry after 4 s, the third attempt is the last.
    advance(4000);
    expect(await deliverer.runOnce()).toEqual({ sent: 0, retry: 0, failed: 1 });
    expect(flaky.bodies).toHaveLength(3);
    expect(refusing.bodies).toHaveLength(1);
    expect(errors).toEqual([
      'webhook flaky: HTTP 503',
      'webhook refusing: HTTP 400',
      'webhook flaky: HTTP 503',
      'webhook flaky: HTTP 503',
    ]);
  });

  it('retries when the receiver cannot be reached, without ever naming its URL', async () => {
    const gone = await receiver();
    await gone.close();
    const { deliverer, errors } = await setup([target('gone', gone.url)], [alert('a1')]);
    expect(await deliverer.runOnce()).toEqual({ sent: 0, retry: 1, failed: 0 });
    expect(errors).toEqual(['webhook gone: could not connect']);
    expect(errors.join()).not.toContain('SECRET-PATH');
  });

  it('settles alerts below a target’s minLevel without sending them', async () => {
    const r = await receiver();
    closers.push(r.close);
    const { deliverer } = await setup(
      [target('pager', r.url, 'json', 'high')],
      [alert('low1', 'medium'), alert('hi1', 'critical')],
    );
    expect(await deliverer.runOnce()).toEqual({ sent: 2, retry: 0, failed: 0 });
    expect(r.bodies.map((b) => (b as { alert: { id: string } }).alert.id)).toEqual(['hi1']);
  });

  it('refuses a bad webhook definition with the field named', () => {
    const r = webhookTargetSchema.safeParse({ name: 'Bad Name', url: 'ftp://x', format: 'xml' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['format', 'name', 'url']);
  });
});
