/**
 * WAL checkpoints of a SQLite store on a worker thread.
 *
 * In WAL mode every commit appends pages to the `-wal` file, and by default the connection that commits the
 * transaction crossing 1,000 WAL pages copies them back into the database file and syncs it — on the thread that
 * is serving requests. Under a steady stream of appends (the event log of the token endpoint) that stall lands
 * on whichever request happens to commit it. With the checkpointer running, a second connection on a worker
 * thread runs PASSIVE checkpoints every `intervalMs` (they wait for nobody and block no writer), and the writing
 * connection only checkpoints itself past `fallbackPages`, should the worker fall behind.
 *
 * The worker starts after `startAfterRows` rows were written through the store, so a short-lived process (a CLI
 * command) never starts one. A worker that fails or exits is dropped: the writing connection then checkpoints
 * itself again at SQLite's default threshold, and `onError` is told.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** SQLite's default `wal_autocheckpoint` (pages). */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** How long close() waits for the worker's last checkpoint before terminating it. */
const STOP_TIMEOUT_MS = 5000;

/** How the checkpointer behaves. */
export interface WalCheckpointerOptions {
  /** Rows written through the store before the worker starts (default 1,000). */
  startAfterRows?: number;
  /** Time between two checkpoints of the worker (default 200 ms). */
  intervalMs?: number;
  /** `wal_autocheckpoint` of the writing connection while the worker runs (default 10,000 pages). */
  fallbackPages?: number;
  /** Told when the worker fails; checkpoints then happen on the writing connection again. */
  onError?: (err: unknown) => void;
}

/** A store's background checkpointer. */
export interface WalCheckpointer {
  /** Counts rows written; starts the worker once `startAfterRows` is reached. */
  noteRows(n: number): void;
  /** True while a worker is checkpointing. */
  readonly running: boolean;
  /** Stops the worker (after one last checkpoint) and gives the writing connection its default threshold back. */
  close(): Promise<void>;
}

// The worker's whole program: its own connection, a PASSIVE checkpoint every interval, and one more on "stop".
// An error ends the worker (the main thread takes checkpointing back).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)');
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try {
    checkpoint();
  } finally {
    db.close();
    parentPort.close();
  }
});
`;

/**
 * Creates a checkpointer for the database file `filename`, whose writing connection is `db`.
 * @example
 * const checkpointer = createWalCheckpointer(db, '/var/lib/keyward/keyward.db', { onError });
 * checkpointer.noteRows(events.length); // after each commit that wrote rows
 * await checkpointer.close(); // before db.close()
 */
export function createWalCheckpointer(
  db: Database.Database,
  filename: string,
  options: WalCheckpointerOptions = {},
): WalCheckpointer {
  const startAfter = Math.max(0, options.startAfterRows ?? 1000);
  const intervalMs = Math.max(1, options.intervalMs ?? 200);
  const fallbackPages = Math.max(DEFAULT_AUTOCHECKPOINT_PAGES, options.fallbackPages ?? 10_000);
  const onError = options.onError ?? (() => undefined);
  let rows = 0;
  let closed = false;
  let worker: Worker | null = null;
  let exited: Promise<void> | null = null;

  const drop = (w: Worker, err: unknown): void => {
    if (worker !== w) return;
    worker = null;
    if (!closed) {
      // Checkpoints are the writing connection's job again.
      db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
      onError(err);
    }
  };

  const start = (): void => {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), filename, intervalMs },
    });
    // The checkpointer never keeps the process alive; close() stops it.
    w.unref();
    worker = w;
    exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.on('error', (err) => drop(w, err));
    w.on('exit', (code) => drop(w, new Error(`WAL checkpoint worker exited with code ${code}`)));
    db.pragma(`wal_autocheckpoint = ${fallbackPages}`);
  };

  return {
    noteRows(n: number): void {
      if (closed || worker !== null || exited !== null) return;
      rows += n;
      if (rows >= startAfter) start();
    },

    get running() {
      return worker !== null;
    },

    async close(): Promise<void> {
      closed = true;
      const w = worker;
      if (w) {
        worker = null;
        w.postMessage('stop');
        // A worker stuck in a checkpoint is not waited for long: its connection goes away with the thread.
        let timer: NodeJS.Timeout | undefined;
        const stuck = new Promise<void>((resolve) => {
          timer = setTimeout(() => resolve(void w.terminate()), STOP_TIMEOUT_MS);
        });
        await Promise.race([exited, stuck]);
        clearTimeout(timer);
        db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
      }
    },
  };
}
