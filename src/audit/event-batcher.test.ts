import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import type { EventRecord, NewEvent } from '../core/types.js';
import { makeSqliteHarness } from '../store/store-conformance.js';
import { createEventBatcher, verifyEventLog, type EventAppender } from './index.js';

const ev = (n: number): NewEvent => ({
  time: '2026-01-01T00:00:00.000Z',
  type: 'test.event',
  actor: 'tester',
  subject: null,
  data: { n },
});

/** An appender that records each call and can be told to fail. */
function countingAppender(inner: EventAppender): EventAppender & { calls: number[]; failNext: boolean } {
  const a = {
    calls: [] as number[],
    failNext: false,
    appendEvents(events: NewEvent[]): Promise<EventRecord[]> {
      a.calls.push(events.length);
      if (a.failNext) {
        a.failNext = false;
        return Promise.reject(new Error('disk full'));
      }
      return inner.appendEvents(events);
    },
  };
  return a;
}

describe('event batcher', () => {
  it('writes appends made in the same turn in one transaction and gives each caller its own records', async () => {
    const h = await makeSqliteHarness();
    try {
      await h.store.migrate();
      const store = countingAppender(h.store);
      const log = createEventBatcher(store);
      const results = await Promise.all([
        log.append([ev(1)]),
        log.append([ev(2), ev(3)]),
        log.append([ev(4)]),
      ]);
      expect(store.calls).toEqual([4]);
      expect(results.map((r) => r.map((e) => (e.data as { n: number }).n))).toEqual([[1], [2, 3], [4]]);
      expect(results.map((r) => r.map((e) => e.seq))).toEqual([[1], [2, 3], [4]]);
      expect((await verifyEventLog(h.store)).ok).toBe(true);
    } finally {
      await h.dispose();
    }
  });

  it('collects appends made while a write is under way into the next transaction', async () => {
    const h = await makeSqliteHarness();
    try {
      await h.store.migrate();
      const store = countingAppender(h.store);
      const log = createEventBatcher(store);
      const first = log.append([ev(1)]);
      // Let the first batch start writing, then append three more before it finished.
      await new Promise<void>((r) => setImmediate(r));
      const later = [log.append([ev(2)]), log.append([ev(3)]), log.append([ev(4)])];
      await Promise.all([first, ...later]);
      expect(store.calls).toEqual([1, 3]);
      const seqs = (await Promise.all(later)).map((r) => r[0]!.seq);
      expect(seqs).toEqual([2, 3, 4]);
    } finally {
      await h.dispose();
    }
  });

  it('splits at maxBatchEvents without splitting one caller’s events', async () => {
    const h = await makeSqliteHarness();
    try {
      await h.store.migrate();
      const store = countingAppender(h.store);
      const log = createEventBatcher(store, { maxBatchEvents: 3 });
      await Promise.all([
        log.append([ev(1), ev(2)]),
        log.append([ev(3), ev(4)]),
        log.append([ev(5), ev(6), ev(7), ev(8)]),
        log.append([ev(9)]),
      ]);
      expect(store.calls).toEqual([2, 2, 4, 1]);
      expect((await verifyEventLog(h.store)).ok).toBe(true);
    } finally {
      await h.dispose();
    }
  });

  it('rejects every caller of a failed transaction and nobody else', async () => {
    const h = await makeSqliteHarness();
    try {
      await h.store.migrate();
      const store = countingAppender(h.store);
      const log = createEventBatcher(store);
      store.failNext = true;
      const failed = await Promise.allSettled([log.append([ev(1)]), log.append([ev(2)])]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(((failed[0] as PromiseRejectedResult).reason as Error).message).toBe('disk full');
      const [after] = await log.append([ev(3)]);
      expect(after!.seq).toBe(1);
      expect(store.calls).toEqual([2, 1]);
    } finally {
      await h.dispose();
    }
  });

  it('refuses an invalid event at once without failing the batch it would have joined', async () => {
    const h = await makeSqliteHarness();
    try {
      await h.store.migrate();
      const log = createEventBatcher(h.store);
      const bad = { ...ev(2), data: { when: new Date(0) } } as unknown as NewEvent;
      const [good, refused] = await Promise.allSettled([log.append([ev(1)]), log.append([bad])]);
      expect(good.status).toBe('fulfilled');
      expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
      await log.drain();
      expect((await verifyEventLog(h.store)).checked).toBe(1);
    } finally {
      await h.dispose();
    }
  });
});
