import { describe, expect, it } from 'vitest';
import { StoreError } from '../../core/errors.js';
import { makeSqliteHarness, runStoreConformance } from '../store-conformance.js';
import { createSqliteStore } from './sqlite-store.js';

runStoreConformance('sqlite', makeSqliteHarness);

describe('SQLite store', () => {
  it('wraps a file it cannot open in a StoreError', () => {
    expect(() => createSqliteStore({ filename: '/nonexistent-dir/keyward.db' })).toThrow(StoreError);
  });
});
