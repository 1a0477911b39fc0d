/**
 * A scanning worker thread: builds the scanner once from `workerData` (the fingerprint key; the file size limit
 * it checks files the walk did not stat against) and scans the batches of files the main thread sends, answering
 * with each file's result. Values stay inside the process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BUILTIN_SECRET_RULES } from './rules/index.js';
import { createSecretScanner } from './secret-scanner.js';
import { scanFile, type FileScanResult } from './secret-file-scan.js';
import { hmacFingerprint } from './secret-fingerprint.js';
import type { WorkerData, WorkerRequest, WorkerResponse } from './secret-scan-pool.js';

const data = workerData as WorkerData;
const scanner = createSecretScanner({
  rules: BUILTIN_SECRET_RULES,
  fingerprint: hmacFingerprint(Buffer.from(data.fingerprintKey)),
});
scanner.prime();

parentPort!.on('message', (req: WorkerRequest) => {
  void (async () => {
    const results: Array<FileScanResult | { kind: 'error'; message: string }> = [];
    for (const file of req.files) {
      try {
        results.push(await scanFile(scanner, file, undefined, data.maxFileBytes));
      } catch (err) {
        results.push({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    }
    const res: WorkerResponse = { id: req.id, results };
    parentPort!.postMessage(res);
  })();
});
