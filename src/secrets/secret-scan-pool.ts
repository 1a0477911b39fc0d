/**
 * Spreads the files of a tree over worker threads in batches (by count, and by bytes where the walk knows a file's
 * size), keeping at most two batches in flight per worker so memory stays bounded however large the tree. Falls
 * back to scanning on the calling thread when no worker is wanted or the worker module is not built (running from
 * TypeScript sources).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FileScanResult, ScanFileInput } from './secret-file-scan.js';

/** A file handed to a worker; `size` null when the walk did not stat it (the worker checks it). */
export type PoolFile = ScanFileInput;

/** What a worker is started with. */
export interface WorkerData {
  fingerprintKey: Uint8Array;
  maxFileBytes: number;
}

/** Main thread → worker. */
export interface WorkerRequest {
  id: number;
  files: PoolFile[];
}

/** Worker → main thread. */
export interface WorkerResponse {
  id: number;
  results: Array<FileScanResult | { kind: 'error'; message: string }>;
}

/** The result of one file, or why it failed. */
export type PoolResult = FileScanResult | { kind: 'error'; message: string };

const BATCH_FILES = 128;
const BATCH_BYTES = 4 * 1024 * 1024;

/** The compiled worker module, or null when running from sources. */
export function workerModule(): URL | null {
  const url = new URL('./secret-scan-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/** A pool that scans files on `threads` worker threads. */
export function createScanPool(opts: {
  threads: number;
  fingerprintKey: Buffer;
  module: URL;
  /** Files the walk did not stat that are larger than this are skipped as too large. */
  maxFileBytes: number;
}) {
  const workers: Array<{ worker: Worker; inFlight: number }> = [];
  const pending = new Map<
    number,
    { files: PoolFile[]; resolve: (r: PoolResult[]) => void; reject: (e: unknown) => void }
  >();
  let nextId = 1;
  let failure: unknown = null;
  for (let i = 0; i < opts.threads; i++) {
    const worker = new Worker(opts.module, {
      workerData: {
        fingerprintKey: new Uint8Array(opts.fingerprintKey),
        maxFileBytes: opts.maxFileBytes,
      } satisfies WorkerData,
    });
    const slot = { worker, inFlight: 0 };
    worker.on('message', (res: WorkerResponse) => {
      slot.inFlight--;
      const p = pending.get(res.id);
      pending.delete(res.id);
      p?.resolve(res.results);
    });
    worker.on('error', (err) => {
      failure = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    workers.push(slot);
  }
  const waiters: Array<() => void> = [];
  const idle = (): (typeof workers)[number] | undefined =>
    workers.filter((w) => w.inFlight < 2).sort((a, b) => a.inFlight - b.inFlight)[0];

  return {
    /** Sends a batch (waiting while every worker has two); `done` resolves when a worker has scanned it. */
    async submit(files: PoolFile[]): Promise<{ done: Promise<PoolResult[]> }> {
      let slot = idle();
      while (!slot) {
        await new Promise<void>((r) => waiters.push(r));
        if (failure) throw failure;
        slot = idle();
      }
      const id = nextId++;
      slot.inFlight++;
      const done = new Promise<PoolResult[]>((resolve, reject) =>
        pending.set(id, { files, resolve, reject }),
      );
      slot.worker.postMessage({ id, files } satisfies WorkerRequest);
      return { done: done.finally(() => waiters.shift()?.()) };
    },
    async close(): Promise<void> {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}

/** Groups files into batches of at most BATCH_FILES files or BATCH_BYTES bytes (of the files with a size). */
export function createBatcher(): { add(f: PoolFile): PoolFile[] | null; flush(): PoolFile[] | null } {
  let batch: PoolFile[] = [];
  let bytes = 0;
  return {
    add(f) {
      batch.push(f);
      bytes += f.size ?? 0;
      if (batch.length < BATCH_FILES && bytes < BATCH_BYTES) return null;
      const full = batch;
      batch = [];
      bytes = 0;
      return full;
    },
    flush() {
      if (batch.length === 0) return null;
      const full = batch;
      batch = [];
      bytes = 0;
      return full;
    },
  };
}
