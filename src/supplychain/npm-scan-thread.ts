/**
 * Runs a gate scan on a worker thread with a larger young generation. Parsing allocates heavily (an AST per
 * file): with V8's default 16 MiB semi-spaces a quarter of the time goes to scavenges, with 64 MiB far less
 * (bench/npm: 51 → 67 packages/s on one thread here). The flag cannot be changed in a running isolate, but a
 * worker's can be set when it starts. From the TypeScript sources (no compiled worker) the scan runs in-process.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ValidationError, type ErrorDetail } from '../core/errors.js';
import { scanNpmInputs, type NpmScanOptions } from './npm-gate-service.js';
import type { NpmScanReport } from './npm-report.js';

/** What the worker needs: everything as plain data (the checkers are loaded in the worker). */
export interface IsolatedScanRequest {
  paths: string[];
  cwd: string;
  dataDir: string | null;
  fetch: boolean;
  home: string;
  env: Record<string, string | undefined>;
}

/** Young-generation size for the scan's worker, in MiB. */
export const SCAN_YOUNG_GENERATION_MB = 128;

function compiledWorker(): URL | null {
  const url = new URL('./npm-scan-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/**
 * Scans `req.paths` on a worker thread (or in-process from sources, with `fallback`'s checkers).
 * @example
 * const report = await scanNpmInputsIsolated({ paths: ['.'], cwd, dataDir, fetch: false, home, env }, opts);
 */
export async function scanNpmInputsIsolated(
  req: IsolatedScanRequest,
  fallback: () => NpmScanOptions,
): Promise<NpmScanReport> {
  const module = compiledWorker();
  if (!module) return scanNpmInputs(req.paths, fallback());
  return new Promise<NpmScanReport>((resolve, reject) => {
    const worker = new Worker(module, {
      workerData: req,
      resourceLimits: { maxYoungGenerationSizeMb: SCAN_YOUNG_GENERATION_MB },
    });
    let settled = false;
    worker.once(
      'message',
      (
        m:
          | { ok: true; report: NpmScanReport }
          | { ok: false; validation: boolean; message: string; details: ErrorDetail[] },
      ) => {
        settled = true;
        if (m.ok) resolve(m.report);
        else
          reject(
            m.validation ? new ValidationError(m.message, { details: m.details }) : new Error(m.message),
          );
        void worker.terminate();
      },
    );
    worker.once('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the npm scan worker stopped (exit ${code}) before answering`));
      settled = true;
    });
  });
}
