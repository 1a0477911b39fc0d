import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { GENESIS_HASH, hashEvent } from '../core/event-hash.js';
import type { NewEvent } from '../core/types.js';
import type { Store } from '../store/index.js';
import {
  assertPostgresReachable,
  DEFAULT_TEST_DATABASE_URL,
  makePostgresHarness,
  makeSqliteHarness,
  type MakeStore,
  type StoreHarness,
} from '../store/store-conformance.js';
import { appendEvent, appendEvents, readEventStream, verifyEventLog } from './index.js';

const url = process.env.KEYWARD_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;

const ev = (n: number): NewEvent => ({
  time: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
  type: 'test.event',
  actor: 'tester',
  subject: n % 2 ? `idn_${n}` : null,
  data: { n, note: `event ${n}` },
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function caught(p: Promise<unknown>): Promise<ValidationError> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return err as ValidationError;
}

function auditSuite(name: string, makeStore: MakeStore, setup?: () => Promise<void>): void {
  describe(`audit log on ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    if (setup) beforeAll(setup);
    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
      await store.migrate();
    });
    afterEach(async () => {
      await h.dispose();
    });

    /** Appends n events one call at a time (so the chain also spans calls). */
    const seed = async (n: number): Promise<void> => {
      await appendEvents(store, [ev(1), ev(2)]);
      for (let i = 3; i <= n; i++) await appendEvent(store, ev(i));
    };
    const swapSeq = async (a: number, b: number): Promise<void> => {
      await h.raw(`UPDATE events SET seq = -1 WHERE seq = ${a}`);
      await h.raw(`UPDATE events SET seq = ${a} WHERE seq = ${b}`);
      await h.raw(`UPDATE events SET seq = ${b} WHERE seq = -1`);
    };

    describe('appending', () => {
      it('appendEvent returns the stored record with seq and hashes', async () => {
        const a = await appendEvent(store, ev(1));
        const b = await appendEvent(store, ev(2));
        expect([a.seq, b.seq]).toEqual([1, 2]);
        expect(a).toMatchObject({ ...ev(1), prevHash: GENESIS_HASH });
        expect(b.prevHash).toBe(a.hash);
        const { hash, ...body } = b;
        expect(hash).toBe(hashEvent(body));
        expect(await store.readEvents(0, 10)).toEqual([a, b]);
      });

      it('appendEvents appends in order, and [] appends nothing', async () => {
        expect(await appendEvents(store, [])).toEqual([]);
        const out = await appendEvents(store, [ev(1), ev(2), ev(3)]);
        expect(out.map((e) => [e.seq, e.data.n])).toEqual([
          [1, 1],
          [2, 2],
          [3, 3],
        ]);
      });

      it('rejects an invalid event with the field path, and appends none of the batch', async () => {
        await appendEvent(store, ev(1));
        const e1 = await caught(appendEvent(store, { ...ev(2), type: 'NoDots' }));
        expect(e1.code).toBe('KW_VALIDATION');
        expect(e1.details.map((d) => d.path)).toEqual(['event.type']);
        const e2 = await caught(
          appendEvents(store, [
            ev(2),
            {
              ...ev(3),
              time: 'yesterday',
              actor: '',
              data: { at: new Date(0), n: Number.NaN, l: [undefined] },
            },
          ]),
        );
        expect(e2.details.map((d) => d.path)).toEqual([
          'events[1].time',
          'events[1].actor',
          'events[1].data.at',
          'events[1].data.n',
          'events[1].data.l[0]',
        ]);
        expect(e2.message).toBe(
          'cannot append the events: events[1].time must be an ISO-8601 timestamp such as 2026-01-01T00:00:00.000Z',
        );
        const e3 = await caught(appendEvent(store, { ...ev(2), subject: 'a\nb', data: [] as never }));
        expect(e3.details.map((d) => d.path)).toEqual(['event.subject', 'event.data']);
        expect((await store.stats()).events).toBe(1);
      });
    });

    describe('readEventStream', () => {
      it('yields every record after afterSeq, in order, across batch boundaries', async () => {
        await seed(7);
        const all = await store.readEvents(0, 100);
        expect(await collect(readEventStream(store, { batchSize: 2 }))).toEqual(all);
        expect(
          (await collect(readEventStream(store, { afterSeq: 3, batchSize: 2 }))).map((e) => e.seq),
        ).toEqual([4, 5, 6, 7]);
        expect(
          (await collect(readEventStream(store, { afterSeq: 5, batchSize: 1 }))).map((e) => e.seq),
        ).toEqual([6, 7]);
        expect(await collect(readEventStream(store, { afterSeq: 7 }))).toEqual([]);
        expect((await collect(readEventStream(store))).length).toBe(7);
      });

      it('rejects bad options', async () => {
        for (const [o, path] of [
          [{ batchSize: 0 }, 'batchSize'],
          [{ batchSize: 10_001 }, 'batchSize'],
          [{ batchSize: 1.5 }, 'batchSize'],
          [{ afterSeq: -1 }, 'afterSeq'],
        ] as const) {
          const err = await caught(collect(readEventStream(store, o)));
          expect(err.details.map((d) => d.path)).toEqual([path]);
        }
      });
    });

    describe('verifyEventLog', () => {
      it('accepts an empty log', async () => {
        expect(await verifyEventLog(store)).toEqual({
          ok: true,
          checked: 0,
          lastSeq: 0,
          lastHash: GENESIS_HASH,
        });
      });

      it('accepts an intact log, including batch and identity events', async () => {
        await seed(5);
        await store.applyInventoryBatch(
          {
            identities: [{ provider: 'aws', externalId: 'role/a', name: 'a', kind: 'bot' }],
            credentials: [],
            grants: [],
            resources: [],
            people: [],
          },
          { time: '2026-01-02T00:00:00.000Z', actor: 'test', source: { kind: 'test' } },
        );
        const last = (await store.readEvents(0, 100)).at(-1)!;
        expect(await verifyEventLog(store, { batchSize: 2 })).toEqual({
          ok: true,
          checked: 7,
          lastSeq: 7,
          lastHash: last.hash,
        });
      });

      it('an edited data column: changed at that seq', async () => {
        await seed(6);
        await h.raw(`UPDATE events SET data = '{"n":99}' WHERE seq = 4`);
        expect(await verifyEventLog(store, { batchSize: 2 })).toEqual({
          ok: false,
          checked: 3,
          problem: {
            seq: 4,
            kind: 'changed',
            message: 'record 4 does not match its hash: its content or hash was edited',
          },
        });
      });

      it('data that is no longer JSON: changed, not a crash', async () => {
        await seed(3);
        await h.raw(`UPDATE events SET data = 'not json' WHERE seq = 1`);
        expect(await verifyEventLog(store)).toMatchObject({
          ok: false,
          checked: 0,
          problem: { seq: 1, kind: 'changed' },
        });
      });

      it('an edited stored hash: changed at that seq', async () => {
        await seed(4);
        await h.raw(`UPDATE events SET hash = '${'a'.repeat(64)}' WHERE seq = 2`);
        expect(await verifyEventLog(store)).toMatchObject({
          ok: false,
          checked: 1,
          problem: { seq: 2, kind: 'changed' },
        });
      });

      it('an edited prevHash pointing nowhere: changed at that seq', async () => {
        await seed(4);
        await h.raw(`UPDATE events SET prev_hash = '${'b'.repeat(64)}' WHERE seq = 3`);
        expect(await verifyEventLog(store)).toMatchObject({
          ok: false,
          checked: 2,
          problem: { seq: 3, kind: 'changed' },
        });
      });

      it('a record rewritten with a recomputed hash: changed at that seq (seen from the next record)', async () => {
        await seed(5);
        const [r3] = await store.readEvents(2, 1);
        const forged = { ...r3!, data: { n: 3, note: 'forged' } };
        const { hash: _old, ...body } = forged;
        await h.raw(
          `UPDATE events SET data = '${JSON.stringify(forged.data)}', hash = '${hashEvent(body)}' WHERE seq = 3`,
        );
        expect(await verifyEventLog(store)).toEqual({
          ok: false,
          checked: 2,
          problem: {
            seq: 3,
            kind: 'changed',
            message:
              'record 3 is not the record that record 4 was chained to: it was rewritten with a recomputed hash',
          },
        });
      });

      it('a deleted row: missing at its seq', async () => {
        await seed(6);
        await h.raw('DELETE FROM events WHERE seq = 4');
        expect(await verifyEventLog(store, { batchSize: 3 })).toEqual({
          ok: false,
          checked: 3,
          problem: { seq: 4, kind: 'missing', message: 'record 4 is missing: record 5 follows record 3' },
        });
      });

      it('deleted first rows: missing at seq 1', async () => {
        await seed(4);
        await h.raw('DELETE FROM events WHERE seq <= 2');
        expect(await verifyEventLog(store)).toEqual({
          ok: false,
          checked: 0,
          problem: {
            seq: 1,
            kind: 'missing',
            message: 'records 1–2 are missing: the log starts at record 3',
          },
        });
      });

      it('a deleted row with the later rows renumbered to hide the gap: missing at the seq it had', async () => {
        await seed(6);
        await h.raw('DELETE FROM events WHERE seq = 3');
        await h.raw('UPDATE events SET seq = -seq WHERE seq > 3');
        await h.raw('UPDATE events SET seq = -seq - 1 WHERE seq < 0');
        expect((await store.readEvents(0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(await verifyEventLog(store)).toEqual({
          ok: false,
          checked: 2,
          problem: {
            seq: 3,
            kind: 'missing',
            message:
              'record 3 was written as record 4; the record before it was deleted and later records renumbered',
          },
        });
      });

      it('two rows with swapped seq: reordered at the first of them', async () => {
        await seed(7);
        await swapSeq(3, 6);
        expect(await verifyEventLog(store, { batchSize: 2 })).toEqual({
          ok: false,
          checked: 2,
          problem: {
            seq: 3,
            kind: 'reordered',
            message:
              'record 3 was written after the record now at seq 5, not after record 2: records were swapped or moved',
          },
        });
      });

      it('two adjacent rows swapped: reordered at the first of them', async () => {
        await seed(5);
        await swapSeq(4, 5);
        expect(await verifyEventLog(store)).toMatchObject({
          ok: false,
          checked: 3,
          problem: { seq: 4, kind: 'reordered' },
        });
      });

      it('the first two rows swapped: reordered at seq 1', async () => {
        await seed(3);
        await swapSeq(1, 2);
        expect(await verifyEventLog(store)).toMatchObject({
          ok: false,
          checked: 0,
          problem: { seq: 1, kind: 'reordered' },
        });
      });

      it('reports only the first problem when there are several', async () => {
        await seed(8);
        await h.raw('DELETE FROM events WHERE seq = 7');
        await h.raw(`UPDATE events SET actor = 'someone else' WHERE seq = 5`);
        expect(await verifyEventLog(store)).toMatchObject({
          ok: false,
          checked: 4,
          problem: { seq: 5, kind: 'changed' },
        });
      });

      it('a deleted newest row leaves a shorter valid chain (truncation needs an external copy of lastHash)', async () => {
        await seed(4);
        const third = (await store.readEvents(2, 1))[0]!;
        await h.raw('DELETE FROM events WHERE seq = 4');
        expect(await verifyEventLog(store)).toEqual({
          ok: true,
          checked: 3,
          lastSeq: 3,
          lastHash: third.hash,
        });
      });

      it('with an anchor kept from an earlier run, a truncated end is missing', async () => {
        await seed(4);
        const before = await verifyEventLog(store);
        if (!before.ok) throw new Error('seeded log should verify');
        const anchor = { seq: before.lastSeq, hash: before.lastHash };
        expect(await verifyEventLog(store, { anchor })).toMatchObject({ ok: true, lastSeq: 4 });
        await h.raw('DELETE FROM events WHERE seq = 4');
        expect(await verifyEventLog(store, { anchor })).toMatchObject({
          ok: false,
          checked: 3,
          problem: { seq: 4, kind: 'missing' },
        });
      });

      it('with an anchor, a log rewritten from the anchored record on is changed there', async () => {
        await seed(3);
        const before = await verifyEventLog(store);
        if (!before.ok) throw new Error('seeded log should verify');
        // Drop the last record and append a different one: the new chain is valid, but not the anchored one.
        await h.raw('DELETE FROM events WHERE seq = 3');
        await store.appendEvents([
          { time: '2026-01-01T00:00:00.000Z', type: 'forged', actor: 'x', subject: null, data: {} },
        ]);
        expect((await verifyEventLog(store)).ok).toBe(true);
        expect(await verifyEventLog(store, { anchor: { seq: 3, hash: before.lastHash } })).toMatchObject({
          ok: false,
          checked: 2,
          problem: { seq: 3, kind: 'changed' },
        });
      });

      it('rejects a malformed anchor', async () => {
        await expect(verifyEventLog(store, { anchor: { seq: 0, hash: 'abc' } })).rejects.toThrow(
          /anchor must be a record seq/,
        );
      });
    });
  });
}

auditSuite('sqlite', makeSqliteHarness);
auditSuite('postgres', makePostgresHarness(url), () => assertPostgresReachable(url));
