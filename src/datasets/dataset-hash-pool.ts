/**
 * Spreads file hashing over worker threads: batches bounded by file count and bytes, at most two batches in flight
 * per worker. Mirrors src/secrets/secret-scan-pool.ts: the worker is the compiled module beside this file, so the
 * pool is only used from dist/ (from TypeScript sources the module is absent and hashing stays on the caller).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashOutcome, HashRequest, HashResponse } from './dataset-hash-worker.js';

const BATCH_FILES = 256;
const BATCH_BYTES = 64 * 1024 * 1024;

/** The compiled hashing worker beside this module, or null when running from TypeScript sources. */
export function hashWorkerModule(): URL | null {
  const url = new URL('./dataset-hash-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/** A pool of `threads` hashing workers. */
export function createHashPool(opts: { threads: number; module: URL; onBytes?: (n: number) => void }) {
  const slots: Array<{ worker: Worker; inFlight: number }> = [];
  const pending = new Map<number, { resolve: (r: HashOutcome[]) => void; reject: (e: unknown) => void }>();
  let failure: unknown = null;
  const waiters: Array<() => void> = [];
  for (let i = 0; i < opts.threads; i++) {
    const worker = new Worker(opts.module);
    const slot = { worker, inFlight: 0 };
    worker.on('message', (res: HashResponse) => {
      if (res.kind === 'progress') {
        opts.onBytes?.(res.bytes);
        return;
      }
      slot.inFlight--;
      const p = pending.get(res.id);
      pending.delete(res.id);
      p?.resolve(res.results);
      waiters.shift()?.();
    });
    worker.on('error', (err) => {
      failure = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      for (const w of waiters.splice(0)) w();
    });
    slots.push(slot);
  }
  let nextId = 1;
  const idle = () => slots.filter((s) => s.inFlight < 2).sort((a, b) => a.inFlight - b.inFlight)[0];

  async function submit(paths: string[]): Promise<{ done: Promise<HashOutcome[]> }> {
    let slot = idle();
    while (!slot) {
      await new Promise<void>((r) => waiters.push(r));
      if (failure) throw failure;
      slot = idle();
    }
    if (failure) throw failure;
    const id = nextId++;
    slot.inFlight++;
    const done = new Promise<HashOutcome[]>((resolve, reject) => pending.set(id, { resolve, reject }));
    slot.worker.postMessage({ id, paths } satisfies HashRequest);
    return { done: quiet(done) };
  }

  return {
    /** Hashes every path (sizes are not known up front, so batches are bounded by count only). */
    async hashAll(paths: readonly string[], sizes?: readonly number[]): Promise<HashOutcome[]> {
      const batches: Array<Promise<HashOutcome[]>> = [];
      let batch: string[] = [];
      let bytes = 0;
      for (let i = 0; i < paths.length; i++) {
        batch.push(paths[i]!);
        bytes += sizes?.[i] ?? 0;
        if (batch.length >= BATCH_FILES || bytes >= BATCH_BYTES) {
          batches.push((await submit(batch)).done);
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) batches.push((await submit(batch)).done);
      return (await Promise.all(batches)).flat();
    },
    async close(): Promise<void> {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** Marks a rejection as handled now (it is rethrown by Promise.all later) so a failed batch is not reported as unhandled. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
