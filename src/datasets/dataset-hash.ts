/**
 * SHA-256 of files, streamed in large reads. On the calling thread reads are asynchronous (a few files in flight,
 * each with its own reused buffer); with `workers >= 1` files are spread over worker threads in batches (one worker already helps with many small
 * files: it reads synchronously, without a trip through the libuv pool per call).
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { ValidationError } from '../core/errors.js';
import { createHashPool, hashWorkerModule } from './dataset-hash-pool.js';
import type { HashOutcome } from './dataset-hash-worker.js';

/** The size and hex SHA-256 of one file's bytes. */
export interface FileDigest {
  size: number;
  sha256: string;
}

/** Options of {@link hashFiles}. */
export interface HashFilesOptions {
  /** Worker threads to use; 0 (the default) hashes on the calling thread. */
  workers?: number;
  /** Called with the number of bytes just hashed (not a running total). */
  onBytes?: (bytes: number) => void;
  /** Expected sizes (from the directory walk), used only to size worker batches. */
  sizes?: readonly number[];
  /** The compiled worker module; defaults to the one beside this file (absent when running from sources). */
  workerModule?: URL | null;
}

const CHUNK = 1024 * 1024;
const IN_FLIGHT = 4;
const SMALL_FILE = 64 * 1024;
const SYNC_SLICE = 256;

/**
 * Hashes one file, never following a symbolic link at its last component.
 * @example const { size, sha256 } = await hashFile('/data/train.csv');
 */
export function hashFile(path: string): Promise<FileDigest> {
  return hashWith(path, Buffer.allocUnsafe(CHUNK));
}

async function hashWith(path: string, buffer: Buffer, onBytes?: (n: number) => void): Promise<FileDigest> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    throw hashError(path, errorOutcome(err));
  }
  try {
    if (!(await handle.stat()).isFile())
      throw hashError(path, { error: 'not a regular file', code: 'ENOTREG' });
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      size += bytesRead;
      onBytes?.(bytesRead);
      // A short read of a regular file only happens at end of file: saves a read call per small file.
      if (bytesRead < buffer.length) break;
    }
    return { size, sha256: hash.digest('hex') };
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw hashError(path, errorOutcome(err));
  } finally {
    await handle.close();
  }
}

/** Synchronous twin of {@link hashWith} for files expected to be small (the size hint may be stale: any size works). */
function hashSmallSync(path: string, buffer: Buffer, onBytes?: (n: number) => void): FileDigest {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    throw hashError(path, errorOutcome(err));
  }
  try {
    if (!fstatSync(fd).isFile()) throw hashError(path, { error: 'not a regular file', code: 'ENOTREG' });
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
      size += n;
      onBytes?.(n);
      if (n < buffer.length) break;
    }
    return { size, sha256: hash.digest('hex') };
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw hashError(path, errorOutcome(err));
  } finally {
    closeSync(fd);
  }
}

/**
 * Hashes many files, in the order given; the first file that cannot be read fails the whole call.
 * @example const digests = await hashFiles(paths, { workers: 4 });
 */
export async function hashFiles(
  paths: readonly string[],
  opts: HashFilesOptions = {},
): Promise<FileDigest[]> {
  const workers = opts.workers ?? 0;
  const module = opts.workerModule === undefined ? hashWorkerModule() : opts.workerModule;
  if (workers >= 1 && module && paths.length > 0) return hashOnWorkers(paths, workers, module, opts);
  const out = new Array<FileDigest>(paths.length);
  let next = 0;
  let syncRun = 0;
  const lane = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (next < paths.length) {
      const i = next++;
      const hint = opts.sizes?.[i];
      if (hint !== undefined && hint <= SMALL_FILE) {
        // Small files are read synchronously (a few microseconds each, far less than four trips through the
        // libuv pool), yielding to the event loop every SYNC_SLICE files so it is never blocked for long.
        out[i] = hashSmallSync(paths[i]!, buffer, opts.onBytes);
        if (++syncRun % SYNC_SLICE === 0) await new Promise<void>((r) => setImmediate(r));
      } else {
        out[i] = await hashWith(paths[i]!, buffer, opts.onBytes);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, paths.length) }, lane));
  return out;
}

async function hashOnWorkers(
  paths: readonly string[],
  workers: number,
  module: URL,
  opts: HashFilesOptions,
): Promise<FileDigest[]> {
  const pool = createHashPool({ threads: Math.min(workers, paths.length), module, onBytes: opts.onBytes });
  try {
    const outcomes = await pool.hashAll(paths, opts.sizes);
    return outcomes.map((o, i) => {
      if ('error' in o) throw hashError(paths[i]!, o);
      return o;
    });
  } finally {
    await pool.close();
  }
}

function errorOutcome(err: unknown): { error: string; code: string } {
  const e = err as NodeJS.ErrnoException;
  return { error: e.message ?? String(err), code: e.code ?? 'EUNKNOWN' };
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'it no longer exists (removed while the dataset was read?)',
  ELOOP: 'it is a symbolic link (symbolic links are refused)',
  EISDIR: 'it is a directory',
  EIO: 'an I/O error occurred',
  ENOTREG: 'it is not a regular file',
};

/** A ValidationError naming the file that could not be hashed and why. */
export function hashError(path: string, o: Extract<HashOutcome, { error: string }>): ValidationError {
  const reason = REASONS[o.code] ?? o.error;
  return new ValidationError(`Cannot read ${path}: ${reason} (${o.code}); no manifest was produced`, {
    details: [{ path, message: `${reason} (${o.code})` }],
  });
}
