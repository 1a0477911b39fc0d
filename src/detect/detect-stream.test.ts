import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSqliteHarness, type StoreHarness } from '../store/store-conformance.js';
import { detectConfigSchema } from './detect-config.js';
import { createDetectionService, LOG_CHECKPOINT, type DetectionService } from './detect-stream.js';

const DPOP_REPLAYED = 'a54b031a-69b5-5152-9172-58e0a6b96687';
const fixture = (rule: string) =>
  readFileSync(new URL(`../../rules/keyward/fixtures/${rule}/positive.ndjson`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

async function until<T>(probe: () => Promise<T | null | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('continuous detection', () => {
  let h: StoreHarness | undefined;
  const services: DetectionService[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    await h?.dispose();
    h = undefined;
  });

  async function receiver(): Promise<{ url: string; bodies: Array<{ alert: { ruleId: string } }> }> {
    const bodies: Array<{ alert: { ruleId: string } }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body) as { alert: { ruleId: string } });
        res.end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
  }

  async function start(webhookUrl?: string) {
    h ??= await makeSqliteHarness();
    await h.store.migrate();
    const service = createDetectionService({
      store: h.store,
      config: detectConfigSchema.parse({
        logPollIntervalMs: 50,
        ...(webhookUrl ? { webhooks: [{ name: 'siem', url: webhookUrl }] } : {}),
      }),
      clock: { now: () => new Date() },
      onError: (err) => {
        throw err;
      },
    });
    services.push(service);
    const rules = await service.start();
    return { service, rules, store: h.store };
  }

  it('runs the built-in pack over the event log as it grows, stores alerts once and sends them to webhooks', async () => {
    const hook = await receiver();
    const { service, rules, store } = await start(hook.url);
    expect(rules.errors).toEqual([]);
    expect(rules.detections.length).toBeGreaterThan(30);
    const records = fixture('keyward-dpop-proof-replayed').map(
      (l) =>
        JSON.parse(l) as {
          time: string;
          type: string;
          actor: string;
          subject: string | null;
          data: Record<string, unknown>;
        },
    );
    await store.appendEvents(
      records.map(({ time, type, actor, subject, data }) => ({ time, type, actor, subject, data })),
    );
    const alerts = await until(async () => {
      const page = await store.listAlerts({ ruleId: DPOP_REPLAYED });
      return page.total > 0 && page;
    });
    expect(alerts.items[0]).toMatchObject({ ruleId: DPOP_REPLAYED, level: 'high', source: 'stream' });
    await until(async () => hook.bodies.length > 0);
    expect(hook.bodies.map((b) => b.alert.ruleId)).toContain(DPOP_REPLAYED);
    const seq = service.status().logSeq;
    expect(seq).toBe((await store.readEvents(0, 1000)).at(-1)!.seq);
    expect(await store.getSetting(LOG_CHECKPOINT)).toBe(String(seq));
  });

  it('evaluates posted records, reports bad lines by number, and never stores an alert twice', async () => {
    const { service, store } = await start();
    const lines = fixture('aws-nhi-key-browser-user-agent');
    const first = await service.ingest(lines, 'cloudtrail');
    expect(first).toEqual({ accepted: lines.length, broken: [], brokenCount: 0 });
    const stored = (await store.listAlerts()).total;
    expect(stored).toBeGreaterThan(0);
    const again = await service.ingest(['{"not":', '', ...lines, '{"eventName":"x"}'], 'cloudtrail');
    expect(again.accepted).toBe(lines.length);
    expect(again.broken).toEqual([
      { line: 1, reason: 'not JSON' },
      { line: lines.length + 3, reason: expect.stringMatching(/timestamp/) },
    ]);
    expect((await store.listAlerts()).total).toBe(stored);
  });

  it('resumes the log from its checkpoint after a restart', async () => {
    const first = await start();
    await first.store.appendEvents([
      { time: new Date().toISOString(), type: 'test.event', actor: 'a', subject: null, data: {} },
    ]);
    await until(async () => first.service.status().logSeq === 1);
    await first.service.stop();
    services.splice(0);
    const second = await start();
    expect(second.service.status().logSeq).toBe(1);
  });
});
