import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../core/errors.js';
import { MIGRATIONS } from '../migrations.js';
import { runAlertStoreConformance } from '../store-alert-conformance.js';
import { makeSqliteBrokerHarness, runBrokerStoreConformance } from '../store-broker-conformance.js';
import { makeSqliteHarness, runStoreConformance } from '../store-conformance.js';
import { listEventsSql } from '../store-queries.js';
import { createSqliteStore } from './sqlite-store.js';

runStoreConformance('sqlite', makeSqliteHarness);
runAlertStoreConformance('sqlite', makeSqliteHarness);
runBrokerStoreConformance('sqlite', makeSqliteBrokerHarness);

describe('SQLite store', () => {
  it('wraps a file it cannot open in a StoreError', () => {
    expect(() => createSqliteStore({ filename: '/nonexistent-dir/keyward.db' })).toThrow(StoreError);
  });

  it('keeps one index on the event subject, and a listing by subject uses it', async () => {
    let db: Database.Database | undefined;
    const store = createSqliteStore({ filename: ':memory:', onOpen: (d) => (db = d) });
    await store.migrate();
    const indexes = db!
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
      )
      .all()
      .map((r) => (r as { name: string }).name)
      .sort();
    expect(indexes).toEqual(['events_by_subject', 'events_by_type']);
    const { page } = listEventsSql({ subject: 'agt_1', limit: 10 });
    const plan = db!
      .prepare(`EXPLAIN QUERY PLAN ${page.text}`)
      .all(...page.params)
      .map((r) => (r as { detail: string }).detail);
    expect(plan.join('\n')).toContain('USING INDEX events_by_subject (subject=?)');
    await store.close();
  });

  it('migration 3 upgrades a version 2 database: stored agent types stay, without a policy text until applied again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-sqlite-'));
    try {
      const file = join(dir, 'keyward.db');
      const old = new Database(file);
      old.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
        old.exec(m.sqlite);
        old
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, '2026-01-01T00:00:00.000Z');
      }
      const T = '2026-01-01T00:00:00.000Z';
      old
        .prepare(
          'INSERT INTO broker_agent_types (id, name, owner, description, policy, policy_source, policy_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          'aty_old',
          'old-agent',
          'o@example.test',
          null,
          '{"agentType":"old-agent"}',
          'old.yaml',
          4,
          T,
          T,
        );
      old.close();

      const store = createSqliteStore({ filename: file });
      expect(await store.migrate()).toEqual([3, 4, 5, 6, 7]);
      const stored = {
        id: 'aty_old',
        name: 'old-agent',
        owner: 'o@example.test',
        description: null,
        policy: { agentType: 'old-agent' },
        policySource: 'old.yaml',
        policyVersion: 4,
        createdAt: T,
        updatedAt: T,
      };
      expect(await store.getAgentType('old-agent')).toEqual(stored);
      expect(await store.getAgentTypePolicyText('aty_old')).toBeNull();
      const T2 = '2026-02-01T00:00:00.000Z';
      const again = await store.upsertAgentType(
        {
          name: 'old-agent',
          owner: 'o@example.test',
          policy: stored.policy,
          policySource: 'old.yaml',
          policyText: 'agentType: old-agent\n',
        },
        { time: T2, actor: 'cli' },
      );
      expect(again).toEqual({ agentType: { ...stored, updatedAt: T2 }, created: false, changed: true });
      expect(await store.getAgentTypePolicyText('old-agent')).toBe('agentType: old-agent\n');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
