/** A dataset-scan worker thread: builds the scanner once from `workerData` and scans the files it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { BUILTIN_SECRET_RULES, createSecretScanner, hmacFingerprint } from '../secrets/index.js';
import { errorMessage, scanDatasetFile } from './scan.js';
import type { DatasetWorkerMessage, DatasetWorkerRequest } from './scan-pool.js';

const data = workerData as { fingerprintKey: Uint8Array };
const scanner = createSecretScanner({
  rules: BUILTIN_SECRET_RULES,
  fingerprint: hmacFingerprint(Buffer.from(data.fingerprintKey)),
});
const post = (msg: DatasetWorkerMessage): void => parentPort!.postMessage(msg);

parentPort!.on('message', (req: DatasetWorkerRequest) => {
  scanDatasetFile(req.file, req.format, scanner, req.maxSamples, (delta) =>
    post({ kind: 'progress', delta }),
  ).then(
    (report) => post({ kind: 'done', report }),
    (err: unknown) => post({ kind: 'error', message: errorMessage(err) }),
  );
});
