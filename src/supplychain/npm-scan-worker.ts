/**
 * Worker-thread entry for `scanNpmInputsIsolated`: runs one scan and posts the report (plain data) back, or the
 * error that stopped it (a usage error keeps its message and details).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ValidationError } from '../core/errors.js';
import { createNpmAnalyseContext, createRegistryClient, scanNpmInputs } from './index.js';
import type { IsolatedScanRequest } from './npm-scan-thread.js';

const req = workerData as IsolatedScanRequest;
try {
  const report = await scanNpmInputs(req.paths, {
    ctx: createNpmAnalyseContext(req.dataDir ? { dataDir: req.dataDir } : {}),
    cwd: req.cwd,
    fetch: req.fetch,
    ...(req.fetch ? { registry: createRegistryClient({ cwd: req.cwd, home: req.home, env: req.env }) } : {}),
  });
  parentPort!.postMessage({ ok: true, report });
} catch (err) {
  parentPort!.postMessage({
    ok: false,
    validation: err instanceof ValidationError,
    message: err instanceof Error ? err.message : String(err),
    details: err instanceof ValidationError ? err.details : [],
  });
}
