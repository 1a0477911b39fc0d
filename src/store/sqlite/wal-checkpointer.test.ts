import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWalCheckpointer } from './wal-checkpointer.js';

describe('createWalCheckpointer', () => {
  let dir: string;
  let file: string;
  let db: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-wal-'));
    file = join(dir, 'test.db');
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    // Everything so far into the database file, so later growth of the file is the checkpointer's doing.
    db.pragma('wal_checkpoint(TRUNCATE)');
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insertRows = (n: number): void => {
    const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run('x'.repeat(500));
    })();
  };
  const autocheckpoint = (): number => Number(db.pragma('wal_autocheckpoint', { simple: true }));
  const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('starts after the given number of rows and checkpoints on its own thread', async () => {
    const errors: unknown[] = [];
    const c = createWalCheckpointer(db, file, {
      startAfterRows: 100,
      intervalMs: 20,
      onError: (e) => errors.push(e),
    });
    c.noteRows(99);
    expect(c.running).toBe(false);
    c.noteRows(1);
    expect(c.running).toBe(true);
    // The writing connection would only checkpoint itself far later.
    expect(autocheckpoint()).toBe(10_000);
    const before = statSync(file).size;
    insertRows(200);
    c.noteRows(200);
    // The rows reach the database file without this connection checkpointing.
    await waitFor(() => statSync(file).size > before);
    await c.close();
    expect(c.running).toBe(false);
    expect(autocheckpoint()).toBe(1000);
    expect(errors).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 200 });
  });

  it('hands checkpoints back to the writing connection when the worker fails', async () => {
    const errors: unknown[] = [];
    const c = createWalCheckpointer(db, join(dir, 'missing.db'), {
      startAfterRows: 1,
      intervalMs: 20,
      onError: (e) => errors.push(e),
    });
    c.noteRows(1);
    await waitFor(() => !c.running);
    expect(errors.length).toBeGreaterThan(0);
    expect(autocheckpoint()).toBe(1000);
    // A failed worker is not started again.
    c.noteRows(1000);
    expect(c.running).toBe(false);
    await c.close();
  });

  it('never starts after close', async () => {
    const c = createWalCheckpointer(db, file, { startAfterRows: 1 });
    await c.close();
    c.noteRows(10);
    expect(c.running).toBe(false);
    expect(autocheckpoint()).toBe(1000);
  });
});
