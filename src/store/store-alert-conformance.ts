/**
 * The alert store's contract, run against both adapters (sqlite-store.test.ts and postgres-store.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../detect/detect-types.js';
import type { MakeStore, StoreHarness } from './store-conformance.js';

const T = '2026-11-01T10:00:00.000Z';
const T2 = '2026-11-01T11:00:00.000Z';
const NOT_ACKED = { acknowledgedAt: null, acknowledgedBy: null, ackNote: null };

function alert(n: number, overrides: Partial<Alert> = {}): Alert {
  return {
    id: `al_${n}`,
    ruleId: n % 2 ? 'rule-odd' : 'rule-even',
    ruleTitle: `Rule ${n % 2 ? 'odd' : 'even'}`,
    level: n % 2 ? 'high' : 'low',
    tags: ['attack.t1078'],
    groupKey: n % 3 ? { key: `k${n}` } : null,
    windowStart: Date.parse(T) + n * 1000,
    windowEnd: Date.parse(T) + n * 1000 + 500,
    eventIds: [`e${n}a`, `e${n}b`],
    eventCount: 2,
    summary: `summary ${n}`,
    ...overrides,
  };
}

export function runAlertStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`alert store on ${name}`, () => {
    let h: StoreHarness | undefined;
    afterEach(async () => {
      await h?.dispose();
      h = undefined;
    });
    const open = async () => {
      h = await makeStore();
      await h.store.migrate();
      return h.store;
    };

    it('stores new alerts once, reads them back exactly, and lists newest first with filters', async () => {
      const store = await open();
      const ctx = { source: 'batch' as const, time: T, targets: [] };
      expect(await store.saveAlerts([alert(1), alert(2), alert(3)], ctx)).toEqual(['al_1', 'al_2', 'al_3']);
      // A replay stores nothing again.
      expect(await store.saveAlerts([alert(2), alert(4)], ctx)).toEqual(['al_4']);
      expect(await store.getAlert('al_3')).toEqual({
        ...alert(3),
        source: 'batch',
        createdAt: T,
        ...NOT_ACKED,
      });
      expect(await store.getAlert('al_9')).toBeNull();
      const all = await store.listAlerts();
      expect(all.total).toBe(4);
      expect(all.items.map((a) => a.id)).toEqual(['al_4', 'al_3', 'al_2', 'al_1']);
      expect((await store.listAlerts({ ruleId: 'rule-odd' })).items.map((a) => a.id)).toEqual([
        'al_3',
        'al_1',
      ]);
      expect((await store.listAlerts({ level: 'low' })).items.map((a) => a.id)).toEqual(['al_4', 'al_2']);
      const since = new Date(Date.parse(T) + 3000).toISOString();
      expect((await store.listAlerts({ since })).items.map((a) => a.id)).toEqual(['al_4', 'al_3']);
      expect((await store.listAlerts({ limit: 1, offset: 1 })).items.map((a) => a.id)).toEqual(['al_3']);
    });

    it('acknowledges once with a note and an event; again returns it unchanged; unknown is NotFoundError', async () => {
      const store = await open();
      await store.saveAlerts([alert(1), alert(2)], { source: 'stream', time: T, targets: [] });
      const acked = await store.acknowledgeAlert('al_1', '  looked at it  ', {
        time: T2,
        actor: 'api:admin',
      });
      expect(acked).toEqual({
        ...alert(1),
        source: 'stream',
        createdAt: T,
        acknowledgedAt: T2,
        acknowledgedBy: 'api:admin',
        ackNote: 'looked at it',
      });
      expect(await store.getAlert('al_1')).toEqual(acked);
      // Idempotent: the second acknowledgement changes and logs nothing.
      expect(await store.acknowledgeAlert('al_1', 'other', { time: T, actor: 'someone' })).toEqual(acked);
      const blank = await store.acknowledgeAlert('al_2', null, { time: T2, actor: 'api:admin' });
      expect([blank.acknowledgedAt, blank.ackNote]).toEqual([T2, null]);
      const events = await store.readEvents(0, 100);
      expect(events.map((e) => [e.type, e.actor, e.subject, e.time, e.data])).toEqual([
        [
          'alert.acknowledged',
          'api:admin',
          null,
          T2,
          { alertId: 'al_1', ruleId: 'rule-odd', level: 'high', note: 'looked at it' },
        ],
        [
          'alert.acknowledged',
          'api:admin',
          null,
          T2,
          { alertId: 'al_2', ruleId: 'rule-even', level: 'low', note: null },
        ],
      ]);
      await expect(
        store.acknowledgeAlert('al_9', null, { time: T2, actor: 'api:admin' }),
      ).rejects.toMatchObject({
        code: 'KW_NOT_FOUND',
      });
      await store.saveAlerts([alert(3)], { source: 'stream', time: T2, targets: [] });
      await expect(
        store.acknowledgeAlert('al_3', 'x'.repeat(501), { time: T2, actor: 'a' }),
      ).rejects.toMatchObject({
        code: 'KW_VALIDATION',
      });
      expect((await store.getAlert('al_3'))!.acknowledgedAt).toBeNull();
      expect((await store.listAlerts({ acknowledged: true })).items.map((a) => a.id)).toEqual([
        'al_2',
        'al_1',
      ]);
      expect((await store.listAlerts({ acknowledged: false })).items.map((a) => a.id)).toEqual(['al_3']);
      expect((await store.listAlerts({ createdSince: T2 })).items.map((a) => a.id)).toEqual(['al_3']);
    });

    it('counts alerts per UTC day and level from a time on', async () => {
      const store = await open();
      const day = (d: string, h: number) => Date.parse(`${d}T00:00:00.000Z`) + h * 3_600_000;
      await store.saveAlerts(
        [
          alert(1, { windowEnd: day('2026-10-30', 23) }),
          alert(2, { windowEnd: day('2026-10-31', 1), level: 'high' }),
          alert(3, { windowEnd: day('2026-10-31', 23), level: 'high' }),
          alert(4, { windowEnd: day('2026-10-31', 5), level: 'informational' }),
          alert(5, { windowEnd: day('2026-11-01', 0) }),
        ],
        { source: 'batch', time: T, targets: [] },
      );
      expect(await store.alertCountsByDay(day('2026-10-31', 0))).toEqual([
        { day: '2026-10-31', level: 'high', count: 2 },
        { day: '2026-10-31', level: 'informational', count: 1 },
        { day: '2026-11-01', level: 'high', count: 1 },
      ]);
      expect(await store.alertCountsByDay(day('2026-12-01', 0))).toEqual([]);
    });

    it('queues a delivery per target for new alerts; claims lease them; outcomes settle them', async () => {
      const store = await open();
      await store.saveAlerts([alert(1), alert(2)], { source: 'stream', time: T, targets: ['slack', 'siem'] });
      // A replayed alert queues nothing new.
      await store.saveAlerts([alert(1)], { source: 'stream', time: T, targets: ['slack', 'siem'] });
      const claimed = await store.claimDeliveries(T, 30_000, 10, ['slack', 'siem']);
      expect(claimed.map((d) => [d.alertId, d.target, d.attempts])).toEqual([
        ['al_1', 'siem', 1],
        ['al_1', 'slack', 1],
        ['al_2', 'siem', 1],
        ['al_2', 'slack', 1],
      ]);
      expect(claimed[0]!.alert).toEqual({ ...alert(1), source: 'stream', createdAt: T, ...NOT_ACKED });
      // Leased: not due again until the lease ends.
      expect(await store.claimDeliveries(T, 30_000, 10, ['slack', 'siem'])).toEqual([]);
      await store.finishDelivery('al_1', 'siem', { ok: true, time: T });
      const retryAt = new Date(Date.parse(T) + 5000).toISOString();
      await store.finishDelivery('al_1', 'slack', { ok: false, error: 'HTTP 503', retryAt });
      await store.finishDelivery('al_2', 'siem', { ok: false, error: 'HTTP 400', retryAt: null });
      const later = new Date(Date.parse(T) + 31_000).toISOString();
      const again = await store.claimDeliveries(later, 30_000, 10, ['slack', 'siem']);
      // Delivered and given-up ones are done; the retried one is due, and al_2/slack's lease ran out.
      expect(again.map((d) => [d.alertId, d.target, d.attempts])).toEqual([
        ['al_1', 'slack', 2],
        ['al_2', 'slack', 2],
      ]);
      expect(await store.claimDeliveries(later, 30_000, 1, ['slack', 'siem'])).toEqual([]);
    });

    it('claims only deliveries to the targets the caller knows', async () => {
      const store = await open();
      await store.saveAlerts([alert(1)], { source: 'stream', time: T, targets: ['slack', 'siem'] });
      expect((await store.claimDeliveries(T, 1000, 10, ['siem'])).map((d) => d.target)).toEqual(['siem']);
      expect(await store.claimDeliveries(T, 1000, 10, [])).toEqual([]);
      expect((await store.claimDeliveries(T, 1000, 10, ['slack', 'other'])).map((d) => d.target)).toEqual([
        'slack',
      ]);
    });

    it('claims at most the limit, oldest due first', async () => {
      const store = await open();
      await store.saveAlerts([alert(1), alert(2), alert(3)], { source: 'stream', time: T, targets: ['a'] });
      expect((await store.claimDeliveries(T, 1000, 2, ['a'])).map((d) => d.alertId)).toEqual([
        'al_1',
        'al_2',
      ]);
      expect((await store.claimDeliveries(T, 1000, 2, ['a'])).map((d) => d.alertId)).toEqual(['al_3']);
    });
  });
}
