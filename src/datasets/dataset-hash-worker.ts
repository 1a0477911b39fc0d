/**
 * A hashing worker thread: receives batches of absolute file paths and answers with each file's size and SHA-256.
 * Self-contained (node built-ins only) so it runs as compiled JavaScript from dist/ and, in tests, as a transpiled
 * copy. Reads are synchronous: a worker thread has nothing else to do, and small files hash much faster without a
 * round trip through the libuv pool per call.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

/** Main thread → worker: hash these files. */
export interface HashRequest {
  id: number;
  paths: string[];
}

/** One file's outcome: its digest, or the error code and message of the failed system call. */
export type HashOutcome = { size: number; sha256: string } | { error: string; code: string };

/** Worker → main thread: a finished batch, or bytes hashed so far (sent every few MiB for progress). */
export type HashResponse =
  { kind: 'done'; id: number; results: HashOutcome[] } | { kind: 'progress'; bytes: number };

const CHUNK = 4 * 1024 * 1024;
const PROGRESS_EVERY = 32 * 1024 * 1024;
const buffer = Buffer.allocUnsafe(CHUNK);
let unreported = 0;

/** Hashes one file without following a symbolic link at its last component. */
function hashOne(path: string): HashOutcome {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    return failure(err);
  }
  try {
    if (!fstatSync(fd).isFile()) return { error: 'not a regular file', code: 'ENOTREG' };
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(n === CHUNK ? buffer : buffer.subarray(0, n));
      size += n;
      unreported += n;
      if (unreported >= PROGRESS_EVERY) {
        parentPort!.postMessage({ kind: 'progress', bytes: unreported } satisfies HashResponse);
        unreported = 0;
      }
      // A short read of a regular file only happens at end of file: saves a read call per small file.
      if (n < CHUNK) break;
    }
    return { size, sha256: hash.digest('hex') };
  } catch (err) {
    return failure(err);
  } finally {
    closeSync(fd);
  }
}

function failure(err: unknown): HashOutcome {
  const e = err as NodeJS.ErrnoException;
  return { error: e.message ?? String(err), code: e.code ?? 'EUNKNOWN' };
}

parentPort?.on('message', (req: HashRequest) => {
  const results = req.paths.map(hashOne);
  if (unreported > 0) {
    parentPort!.postMessage({ kind: 'progress', bytes: unreported } satisfies HashResponse);
    unreported = 0;
  }
  parentPort!.postMessage({ kind: 'done', id: req.id, results } satisfies HashResponse);
});
