import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError, ValidationError } from '../../core/errors.js';
import { GENESIS_HASH, hashEvent } from '../../core/event-hash.js';
import { sha256Hex } from '../../core/fingerprint.js';
import type { InventoryBatch } from '../../core/inventory-batch.js';
import type { Store } from '../store-types.js';
import { runAlertStoreConformance } from '../store-alert-conformance.js';
import { makePostgresBrokerHarness, runBrokerStoreConformance } from '../store-broker-conformance.js';
import {
  assertPostgresReachable,
  DEFAULT_TEST_DATABASE_URL,
  makePostgresHarness,
  runStoreConformance,
} from '../store-conformance.js';
import { MIGRATIONS } from '../migrations.js';
import { CHUNK_ROWS, renumberPlaceholders } from './postgres-bulk.js';
import { createPostgresStore } from './postgres-store.js';

const url = process.env.KEYWARD_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;

// Fails (never skips) when PostgreSQL is down: CI has it, and a silent skip would hide a broken adapter.
beforeAll(() => assertPostgresReachable(url));

runStoreConformance('postgres', makePostgresHarness(url));
runAlertStoreConformance('postgres', makePostgresHarness(url));
runBrokerStoreConformance('postgres', makePostgresBrokerHarness(url));

describe('PostgreSQL store', () => {
  const schemas: string[] = [];
  const stores: Store[] = [];
  const open = (schema: string, poolSize = 4): Store => {
    const s = createPostgresStore({ connectionString: url, schema, poolSize });
    stores.push(s);
    return s;
  };
  const newSchema = (): string => {
    const s = `kw_test_${randomBytes(8).toString('hex')}`;
    schemas.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  });

  it('migration 3 upgrades a version 2 schema: stored agent types stay, without a policy text', async () => {
    const schema = newSchema();
    const T = '2026-01-01T00:00:00.000Z';
    const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA ${schema}`);
      await c.query(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
        await c.query(m.postgres);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          T,
        ]);
      }
      await c.query(
        'INSERT INTO broker_agent_types (id, name, owner, description, policy, policy_source, policy_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        ['aty_old', 'old-agent', 'o@example.test', null, '{"agentType":"old-agent"}', 'old.yaml', 4, T, T],
      );
    } finally {
      await c.end();
    }
    const store = open(schema);
    expect(await store.migrate()).toEqual([3, 4, 5, 6, 7]);
    expect(await store.getAgentType('old-agent')).toEqual({
      id: 'aty_old',
      name: 'old-agent',
      owner: 'o@example.test',
      description: null,
      policy: { agentType: 'old-agent' },
      policySource: 'old.yaml',
      policyVersion: 4,
      createdAt: T,
      updatedAt: T,
    });
    expect(await store.getAgentTypePolicyText('aty_old')).toBeNull();
  });

  it('renumbers ? placeholders outside quotes', () => {
    expect(renumberPlaceholders("SELECT ? , '?' , \"a?\" , ? ESCAPE '\\'")).toBe(
      "SELECT $1 , '?' , \"a?\" , $2 ESCAPE '\\'",
    );
  });

  it('rejects bad options with a ValidationError naming the field', () => {
    const bad = [
      { connectionString: 'mysql://x' },
      { connectionString: url, schema: 'Bad-Name' },
      { connectionString: url, schema: '1abc' },
      { connectionString: url, poolSize: 0 },
    ];
    for (const o of bad) {
      let err: unknown;
      try {
        createPostgresStore(o);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).code).toBe('KW_INVALID_CONFIG');
    }
  });

  it('wraps an unreachable server in a StoreError without the connection string', async () => {
    const s = createPostgresStore({ connectionString: 'postgres://kw:not-a-real-password@127.0.0.1:1/none' });
    const err = await s.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('KW_STORE');
    expect((err as StoreError).message).toMatch(/^PostgreSQL store failed to ping: /);
    expect((err as StoreError).message).not.toContain('not-a-real-password');
    await s.close();
  });

  it('two stores migrating the same schema at once: one applies, the other finds it done', async () => {
    const schema = newSchema();
    const [a, b] = [open(schema), open(schema)];
    const results = await Promise.all([a.migrate(), b.migrate()]);
    expect(results.map((r) => r.length).sort()).toEqual([0, MIGRATIONS.length]);
    expect(await a.stats()).toEqual(await b.stats());
  });

  it('concurrent appends from several stores never fork the chain', async () => {
    const schema = newSchema();
    const writers = [open(schema, 3), open(schema, 3), open(schema, 3)];
    await writers[0]!.migrate();
    const ev = (w: number, n: number) => ({
      time: '2026-01-01T00:00:00.000Z',
      type: 'test.concurrent',
      actor: `writer-${w}`,
      subject: null,
      data: { w, n },
    });
    await Promise.all(
      writers.flatMap((s, w) =>
        Array.from({ length: 10 }, (_, n) => s.appendEvents([ev(w, n), ev(w, n + 100)])),
      ),
    );
    const log = await writers[1]!.readEvents(0, 1000);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    let prev = GENESIS_HASH;
    for (const e of log) {
      const { hash, ...body } = e;
      expect(e.prevHash).toBe(prev);
      expect(hash).toBe(hashEvent(body));
      prev = hash;
    }
    // Each call's two events stay adjacent: appends are serialised, not interleaved.
    for (let i = 0; i < 60; i += 2) expect(log[i + 1]!.data.n).toBe((log[i]!.data.n as number) + 100);
  });

  it('concurrent batches for the same identities serialise instead of failing', async () => {
    const schema = newSchema();
    const [a, b] = [open(schema), open(schema)];
    await a.migrate();
    const batch = (n: number): InventoryBatch => ({
      identities: Array.from({ length: 50 }, (_, i) => ({
        provider: 'aws',
        externalId: `role/${i}`,
        name: `role-${i}`,
        kind: 'service-account' as const,
        tags: [`t${n}`],
      })),
      credentials: [],
      grants: [],
      resources: [],
      people: [],
    });
    const ctx = { time: '2026-01-01T00:00:00.000Z', actor: 'test', source: {} };
    const [r1, r2] = await Promise.all([
      a.applyInventoryBatch(batch(1), ctx),
      b.applyInventoryBatch(batch(2), ctx),
    ]);
    expect([
      r1.identities.created + r2.identities.created,
      r1.identities.updated + r2.identities.updated,
    ]).toEqual([50, 50]);
    expect((await a.stats()).identities).toBe(50);
    expect((await a.listIdentities({ limit: 1 })).items[0]!.tags.sort()).toEqual(['t1', 't2']);
  });

  it('applies batches larger than one statement chunk, and rolls back all of it on a database error', async () => {
    const schema = newSchema();
    const s = open(schema);
    await s.migrate();
    const n = CHUNK_ROWS + 250;
    const batch: InventoryBatch = {
      identities: Array.from({ length: n }, (_, i) => ({
        provider: 'aws',
        externalId: `role/${i}`,
        name: `role-${i}`,
        kind: 'service-account' as const,
      })),
      credentials: Array.from({ length: n }, (_, i) => ({
        identity: { provider: 'aws', externalId: `role/${i}` },
        type: 'access-key' as const,
        provider: 'aws',
        fingerprint: sha256Hex(`fixture:${i}`),
        fingerprintSource: 'reference' as const,
        preview: 'AK…XX',
        locations: [{ kind: 'env' as const, path: 'ci', line: null, key: `K${i}` }],
      })),
      grants: [],
      resources: [],
      people: [],
    };
    const ctx = { time: '2026-01-01T00:00:00.000Z', actor: 'test', source: {} };
    const r = await s.applyInventoryBatch(batch, ctx);
    expect([r.identities.created, r.credentials.created, r.eventSeq]).toEqual([n, n, 2 * n + 1]);
    const again = await s.applyInventoryBatch(batch, { ...ctx, time: '2026-01-02T00:00:00.000Z' });
    expect([again.identities.unchanged, again.credentials.unchanged, again.eventSeq]).toEqual([
      n,
      n,
      2 * n + 2,
    ]);

    // PostgreSQL text cannot hold NUL: the failure comes from the database after identities were written.
    const before = await s.stats();
    const bad: InventoryBatch = {
      ...batch,
      identities: [...batch.identities, { provider: 'aws', externalId: 'role/new', name: 'x', kind: 'bot' }],
      credentials: [{ ...batch.credentials[0]!, name: 'nul\u0000inside' }],
    };
    const err = await s
      .applyInventoryBatch(bad, { ...ctx, time: '2026-01-03T00:00:00.000Z' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).not.toMatch(/INSERT|UPDATE|SELECT/);
    expect(await s.stats()).toEqual(before);
    expect(await s.listIdentities({ q: 'role/new' })).toMatchObject({ total: 0 });
  });
});
