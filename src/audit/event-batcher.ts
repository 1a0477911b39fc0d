/**
 * Group commit for the event log. Requests that each append a few events (a token issuance, a refusal) would
 * otherwise pay one store transaction apiece; the batcher collects the appends made while a write is under way
 * and writes them together in the next transaction. Every caller still learns whether *its* events were
 * written: its promise resolves only after the transaction holding them committed, and rejects when that
 * transaction failed, so "no token without its log record" holds as before.
 *
 * Within a batch the callers' events keep the order of their `append` calls; each caller's events stay
 * contiguous. One write is in flight at a time, so batches land in the order they were formed.
 */
import type { EventRecord, NewEvent } from '../core/types.js';
import { checkEvents, type EventAppender } from './audit-log.js';

/** What the batcher does with the events it collected. */
export interface EventBatcherOptions {
  /** Most events in one transaction; a larger queue is written in several (default 1,000). */
  maxBatchEvents?: number;
}

/** An appender that shares transactions between concurrent callers. */
export interface EventBatcher {
  /** Appends the events (all or none, checked as `appendEvents` checks them); resolves once committed. */
  append(events: NewEvent[]): Promise<EventRecord[]>;
  /** Resolves when everything appended so far was written or failed. */
  drain(): Promise<void>;
}

interface Pending {
  events: NewEvent[];
  resolve: (records: EventRecord[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Creates a batcher over a store's `appendEvents`.
 * @example
 * const log = createEventBatcher(store);
 * await log.append([{ time, type: 'broker.token.issued', actor, subject, data }]);
 */
export function createEventBatcher(store: EventAppender, options: EventBatcherOptions = {}): EventBatcher {
  const maxBatch = Math.max(1, options.maxBatchEvents ?? 1000);
  let queue: Pending[] = [];
  let writing: Promise<void> | null = null;

  const takeBatch = (): Pending[] => {
    let count = 0;
    let n = 0;
    // A caller's events are never split; a single caller larger than the limit gets a batch of its own.
    while (n < queue.length && (n === 0 || count + queue[n]!.events.length <= maxBatch)) {
      count += queue[n]!.events.length;
      n++;
    }
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    return batch;
  };

  const writeBatch = async (batch: Pending[]): Promise<void> => {
    try {
      const records = await store.appendEvents(batch.flatMap((p) => p.events));
      let at = 0;
      for (const p of batch) {
        p.resolve(records.slice(at, at + p.events.length));
        at += p.events.length;
      }
    } catch (err) {
      // The transaction failed as a whole: nobody's events were written.
      for (const p of batch) p.reject(err);
    }
  };

  const run = async (): Promise<void> => {
    // Let the appends of requests handled in the same turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (queue.length > 0) await writeBatch(takeBatch());
    writing = null;
  };

  return {
    append(events: NewEvent[]): Promise<EventRecord[]> {
      // Checked here, so one caller's bad event cannot fail the others' batch.
      try {
        checkEvents(events);
      } catch (err) {
        return Promise.reject(err);
      }
      if (events.length === 0) return Promise.resolve([]);
      const done = new Promise<EventRecord[]>((resolve, reject) => {
        queue.push({ events, resolve, reject });
      });
      writing ??= run();
      return done;
    },

    async drain(): Promise<void> {
      while (writing) await writing;
    },
  };
}
