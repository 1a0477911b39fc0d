import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../core/errors.js';
import { MIGRATIONS } from '../migrations.js';
import { makeSqliteBrokerHarness, runBrokerStoreConformance } from '../store-broker-conformance.js';
import { makeSqliteHarness, runStoreConformance } from '../store-conformance.js';
import { createSqliteStore } from './sqlite-store.js';

runStoreConformance('sqlite', makeSqliteHarness);
runBrokerStoreConformance('sqlite', makeSqliteBrokerHarness);

describe('SQLite store', () => {
  it('wraps a file it cannot open in a StoreError', () => {
    expect(() => createSqliteStore({ filename: '/nonexistent-dir/keyward.db' })).toThrow(StoreError);
  });

  it('two connections to one file: migrations apply once and the event chain continues across them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-sqlite-'));
    try {
      const file = join(dir, 'keyward.db');
      const a = createSqliteStore({ filename: file });
      const b = createSqliteStore({ filename: file });
      expect(await a.migrate()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await b.migrate()).toEqual([]);
      const ev = (n: number) => ({
        time: '2026-01-01T00:00:00.000Z',
        type: 'test.e',
        actor: 't',
        subject: null,
        data: { n },
      });
      const [e1] = await a.appendEvents([ev(1)]);
      const [e2] = await b.appendEvents([ev(2)]);
      const [e3] = await a.appendEvents([ev(3)]);
      expect([e1!.seq, e2!.seq, e3!.seq]).toEqual([1, 2, 3]);
      expect([e2!.prevHash, e3!.prevHash]).toEqual([e1!.hash, e2!.hash]);
      await a.close();
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
