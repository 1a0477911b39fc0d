/**
 * Worker threads for dataset scans: each worker scans one whole file at a time (streaming it itself) and reports
 * progress as it reads. Used when more than one worker is asked for and the compiled worker module exists; from
 * TypeScript sources (tests) files are scanned on the calling thread instead.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DatasetFile } from './scan-walk.js';
import type { DatasetFileReport } from './scan-types.js';
import type { DatasetFormat } from './readers-types.js';

/** Main thread → worker: scan this file. */
export interface DatasetWorkerRequest {
  file: DatasetFile;
  format: DatasetFormat;
  maxSamples: number;
}

/** Worker → main thread: bytes read since the last message, then the file's report or its error. */
export type DatasetWorkerMessage =
  | { kind: 'progress'; delta: number }
  | { kind: 'done'; report: DatasetFileReport }
  | { kind: 'error'; message: string };

/** The compiled worker module, or null when running from sources. */
export function datasetWorkerModule(): URL | null {
  const url = new URL('./scan-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/** A worker that scans one file at a time. */
export interface DatasetWorker {
  scan(req: DatasetWorkerRequest, progress: (delta: number) => void): Promise<DatasetFileReport>;
  close(): Promise<void>;
}

/** Starts a worker whose scanner fingerprints under `fingerprintKey` (so fingerprints agree across workers). */
export function startDatasetWorker(module: URL, fingerprintKey: Buffer): DatasetWorker {
  const worker = new Worker(module, { workerData: { fingerprintKey: new Uint8Array(fingerprintKey) } });
  let current: {
    resolve: (r: DatasetFileReport) => void;
    reject: (e: unknown) => void;
    progress: (d: number) => void;
  } | null = null;
  worker.on('message', (msg: DatasetWorkerMessage) => {
    if (!current) return;
    if (msg.kind === 'progress') current.progress(msg.delta);
    else {
      const c = current;
      current = null;
      if (msg.kind === 'done') c.resolve(msg.report);
      else c.reject(new Error(msg.message));
    }
  });
  let dead: unknown = null;
  const fail = (err: unknown): void => {
    dead = err;
    current?.reject(err);
    current = null;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`dataset scan worker exited (code ${code})`)));
  return {
    scan(req, progress) {
      return new Promise((resolve, reject) => {
        if (dead) {
          reject(dead instanceof Error ? dead : new Error(String(dead)));
          return;
        }
        current = { resolve, reject, progress };
        worker.postMessage(req);
      });
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
