/**
 * The store conformance suite: one set of vitest cases every `Store` adapter runs, so SQLite and PostgreSQL
 * are held to exactly the same behaviour. Also the harnesses that give each test a fresh, empty store.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { GENESIS_HASH, hashEvent } from '../core/event-hash.js';
import { sha256Hex } from '../core/fingerprint.js';
import type {
  BatchContext,
  CredentialInput,
  GrantInput,
  IdentityInput,
  InventoryBatch,
} from '../core/inventory-batch.js';
import type { EventRecord, Finding, Identity } from '../core/types.js';
import { MIGRATIONS } from './migrations.js';
import { PG_TYPES } from './postgres/postgres-bulk.js';
import { createPostgresStore } from './postgres/postgres-store.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import type { Store, StoreStats } from './store-types.js';

/** A fresh, empty (not yet migrated) store for one test, with direct SQL access for tamper tests. */
export interface StoreHarness {
  store: Store;
  /** Runs one SQL statement on the store's own database, bypassing the store; returns the rows it yields. */
  raw(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Closes the store and removes whatever the harness created. */
  dispose(): Promise<void>;
}

/** Makes one harness. */
export type MakeStore = () => Promise<StoreHarness>;

/** A SQLite harness over a private `:memory:` database. */
export const makeSqliteHarness: MakeStore = () => {
  let db: Database.Database | undefined;
  const store = createSqliteStore({ filename: ':memory:', onOpen: (d) => void (db = d) });
  const conn = db!;
  return Promise.resolve({
    store,
    raw: (sql) => {
      const s = conn.prepare(sql);
      return Promise.resolve(s.reader ? (s.all() as Array<Record<string, unknown>>) : (s.run(), []));
    },
    dispose: () => store.close(),
  });
};

/** The PostgreSQL database the tests use unless KEYWARD_TEST_DATABASE_URL names another. */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A connection URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/**
 * Fails with a clear message when the test PostgreSQL cannot be reached; call it in `beforeAll` so the
 * PostgreSQL suites fail loudly rather than skip.
 */
export async function assertPostgresReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${redactUrl(url)} (${(err as Error).message}). ` +
        'The PostgreSQL store tests need it: start PostgreSQL or set KEYWARD_TEST_DATABASE_URL.',
      { cause: err },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PostgreSQL harnesses: each gets its own schema, dropped again by `dispose`. */
export function makePostgresHarness(url: string): MakeStore {
  return async () => {
    const schema = `kw_test_${randomBytes(8).toString('hex')}`;
    const store = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
    const admin = new pg.Client({
      connectionString: url,
      options: `-c search_path=${schema}`,
      types: PG_TYPES,
    });
    await admin.connect();
    return {
      store,
      raw: async (sql) => (await admin.query(sql)).rows as Array<Record<string, unknown>>,
      dispose: async () => {
        await store.close();
        try {
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await admin.end();
        }
      },
    };
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fixtures: fictional identities; fingerprints are hashes of labels, previews are placeholders.

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-01-02T00:00:00.000Z';
const T3 = '2026-01-03T00:00:00.000Z';

const ctx = (time = T1, source: Record<string, unknown> = { kind: 'test' }): BatchContext => ({
  time,
  actor: 'test',
  source,
});
const change = (time = T1) => ({ time, actor: 'api:test' });

const fp = (label: string): string => sha256Hex(`fixture:${label}`);

function identity(ext: string, over: Partial<IdentityInput> = {}): IdentityInput {
  return { provider: 'aws', externalId: ext, name: ext, kind: 'service-account', ...over };
}

function credential(ext: string, label: string, over: Partial<CredentialInput> = {}): CredentialInput {
  return {
    identity: { provider: 'aws', externalId: ext },
    type: 'access-key',
    provider: 'aws',
    fingerprint: fp(label),
    fingerprintSource: 'reference',
    preview: 'AK…XX',
    ...over,
  };
}

function grant(ext: string, key: string, over: Partial<GrantInput> = {}): GrantInput {
  return {
    identity: { provider: 'aws', externalId: ext },
    key,
    actions: ['s3:GetObject'],
    resources: ['arn:aws:s3:::bucket/*'],
    source: `policy/${key}`,
    ...over,
  };
}

function batchOf(parts: Partial<InventoryBatch>): InventoryBatch {
  return { identities: [], credentials: [], grants: [], resources: [], people: [], ...parts };
}

const ZERO_STATS: StoreStats = {
  identities: 0,
  credentials: 0,
  grants: 0,
  resources: 0,
  people: 0,
  findings: 0,
  events: 0,
};

function finding(id: string, identityId: string, over: Partial<Finding> = {}): Finding {
  return {
    id,
    ruleId: 'NHI7-long-lived',
    owasp: 'NHI7',
    severity: 'medium',
    title: 'Long-lived secret',
    message: 'rotate it',
    remediation: 'rotate the key',
    identityId,
    credentialId: null,
    evidence: { ageDays: 400 },
    firstSeenAt: T1,
    lastSeenAt: T1,
    ...over,
  };
}

/** Asserts a rejection is exactly this error class and code. */
async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, code: string): Promise<Error> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  expect((err as { code?: string }).code).toBe(code);
  return err as Error;
}

async function allEvents(store: Store): Promise<EventRecord[]> {
  return store.readEvents(0, 10_000);
}

/**
 * Registers the conformance suite for one adapter.
 * @example
 * runStoreConformance('sqlite', makeSqliteHarness);
 */
export function runStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`Store conformance: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    let firstMigration: number[];

    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
      firstMigration = await store.migrate();
    });
    afterEach(async () => {
      await h.dispose();
    });

    describe('schema and basics', () => {
      it('applies every migration once; a second migrate applies none', async () => {
        expect(firstMigration).toEqual(MIGRATIONS.map((m) => m.version));
        expect(await store.migrate()).toEqual([]);
        await expect(store.ping()).resolves.toBeUndefined();
        expect(await store.stats()).toEqual(ZERO_STATS);
        expect(await h.raw('SELECT version FROM schema_migrations ORDER BY version')).toEqual(
          MIGRATIONS.map((m) => ({ version: m.version })),
        );
      });

      it('reports its dialect', () => {
        expect(['sqlite', 'postgres']).toContain(store.dialect);
        expect(store.dialect).toBe(name.startsWith('postgres') ? 'postgres' : 'sqlite');
      });
    });

    describe('applyInventoryBatch', () => {
      const first = (): InventoryBatch =>
        batchOf({
          people: [
            { email: 'Alice@Example.test', name: 'Alice', status: 'active' },
            { email: 'bob@example.test', status: 'left', leftAt: '2025-12-01T00:00:00.000Z' },
          ],
          resources: [{ provider: 'aws', type: 'aws:s3-bucket', name: 'arn:aws:s3:::bucket' }],
          identities: [
            identity('role/app', { owner: 'alice@example.test', tags: ['prod'], environment: 'prod' }),
            identity('role/ci', { kind: 'ci-pipeline', attributes: { account: '111' } }),
            identity('user/bot', {
              kind: 'bot',
              description: 'chat bot',
              lastSeenAt: '2025-11-01T00:00:00.000Z',
            }),
          ],
          credentials: [
            credential('role/app', 'k1', {
              locations: [{ kind: 'file', path: '.env', line: 3, key: 'AWS_KEY' }],
              scopes: ['read'],
            }),
            credential('role/app', 'k2'),
            credential('role/ci', 'k3', {
              type: 'pat',
              provider: 'github',
              expiresAt: '2027-01-01T00:00:00.000Z',
            }),
            credential('user/bot', 'k4', { status: 'inactive' }),
          ],
          grants: [grant('role/app', 'g1'), grant('role/ci', 'g2', { admin: true, effect: 'deny' })],
        });

      it('creates every record and appends one event per identity and credential plus a summary', async () => {
        const result = await store.applyInventoryBatch(first(), ctx(T1, { kind: 'test', file: 'a.json' }));
        expect(result).toEqual({
          identities: { created: 3, updated: 0, unchanged: 0 },
          credentials: { created: 4, updated: 0, unchanged: 0 },
          grants: { created: 2, updated: 0, unchanged: 0 },
          resources: { created: 1, updated: 0, unchanged: 0 },
          people: { created: 2, updated: 0, unchanged: 0 },
          eventSeq: 8,
        });
        expect(await store.stats()).toEqual({
          identities: 3,
          credentials: 4,
          grants: 2,
          resources: 1,
          people: 2,
          findings: 0,
          events: 8,
        });

        const events = await allEvents(store);
        expect(events.map((e) => [e.seq, e.type])).toEqual([
          [1, 'identity.created'],
          [2, 'identity.created'],
          [3, 'identity.created'],
          [4, 'credential.created'],
          [5, 'credential.created'],
          [6, 'credential.created'],
          [7, 'credential.created'],
          [8, 'inventory.batch.applied'],
        ]);
        const app = (await store.listIdentities({ provider: 'aws', q: 'role/app' })).items[0]!;
        expect(app).toEqual<Identity>({
          id: app.id,
          name: 'role/app',
          kind: 'service-account',
          provider: 'aws',
          externalId: 'role/app',
          environment: 'prod',
          owner: 'alice@example.test',
          sponsor: null,
          description: null,
          tags: ['prod'],
          attributes: {},
          createdAt: T1,
          updatedAt: T1,
          lastSeenAt: null,
          riskScore: null,
        });
        expect(app.id).toMatch(/^idn_[0-9a-z]{16}$/);
        expect(events[0]).toMatchObject({
          time: T1,
          actor: 'test',
          subject: app.id,
          data: {
            id: app.id,
            name: 'role/app',
            kind: 'service-account',
            provider: 'aws',
            externalId: 'role/app',
            environment: 'prod',
            owner: 'alice@example.test',
          },
        });
        const k1 = (await store.listCredentials({ fingerprint: fp('k1') })).items[0]!;
        expect(events[3]).toMatchObject({
          subject: app.id,
          data: {
            id: k1.id,
            identityId: app.id,
            type: 'access-key',
            provider: 'aws',
            fingerprint: fp('k1'),
            preview: 'AK…XX',
          },
        });
        expect(events[7]!.data).toEqual({
          source: { kind: 'test', file: 'a.json' },
          counts: {
            identities: { created: 3, updated: 0, unchanged: 0 },
            credentials: { created: 4, updated: 0, unchanged: 0 },
            grants: { created: 2, updated: 0, unchanged: 0 },
            resources: { created: 1, updated: 0, unchanged: 0 },
            people: { created: 2, updated: 0, unchanged: 0 },
          },
        });
        expect(events[7]!.subject).toBeNull();

        expect(await store.getCredential(k1.id)).toEqual({
          id: k1.id,
          identityId: app.id,
          type: 'access-key',
          provider: 'aws',
          fingerprint: fp('k1'),
          fingerprintSource: 'reference',
          preview: 'AK…XX',
          externalId: null,
          name: null,
          scopes: ['read'],
          status: 'active',
          createdAt: null,
          expiresAt: null,
          lastUsedAt: null,
          lastRotatedAt: null,
          attributes: {},
          locations: [
            { kind: 'file', path: '.env', line: 3, key: 'AWS_KEY', firstSeenAt: T1, lastSeenAt: T1 },
          ],
          recordedAt: T1,
          updatedAt: T1,
        });
        expect(await store.getCredential('crd_missing')).toBeNull();
        expect(await store.getIdentity('idn_missing')).toBeNull();

        const people = (await store.listPeople()).items;
        expect(people.map((p) => [p.email, p.status, p.leftAt])).toEqual([
          ['alice@example.test', 'active', null],
          ['bob@example.test', 'left', '2025-12-01T00:00:00.000Z'],
        ]);
        const grants = (await store.listGrants()).items.sort((a, b) => a.key.localeCompare(b.key));
        expect(grants.map((g) => [g.key, g.effect, g.admin, g.source, g.identityId === app.id])).toEqual([
          ['g1', 'allow', false, 'policy/g1', true],
          ['g2', 'deny', true, 'policy/g2', false],
        ]);
      });

      it('re-applying the same batch changes nothing, duplicates nothing and appends only the summary', async () => {
        await store.applyInventoryBatch(first(), ctx(T1));
        const before = await store.loadSnapshot();
        const result = await store.applyInventoryBatch(first(), ctx(T2));
        expect(result).toEqual({
          identities: { created: 0, updated: 0, unchanged: 3 },
          credentials: { created: 0, updated: 0, unchanged: 4 },
          grants: { created: 0, updated: 0, unchanged: 2 },
          resources: { created: 0, updated: 0, unchanged: 1 },
          people: { created: 0, updated: 0, unchanged: 2 },
          eventSeq: 9,
        });
        expect(await store.loadSnapshot()).toEqual(before);
        expect((await store.stats()).events).toBe(9);
        expect((await allEvents(store))[8]!.type).toBe('inventory.batch.applied');
        expect(await h.raw('SELECT COUNT(*) AS n FROM credential_locations')).toEqual([{ n: 1 }]);
      });

      it('merges repeated records inside one batch', async () => {
        const r = await store.applyInventoryBatch(
          batchOf({
            identities: [
              identity('role/x', { tags: ['a'], owner: 'o@example.test' }),
              identity('role/x', { tags: ['b'], description: 'second' }),
            ],
            people: [
              { email: 'P@Example.test', status: 'active' },
              { email: 'p@example.test ', status: 'active', name: 'P' },
            ],
          }),
          ctx(),
        );
        expect(r.identities).toEqual({ created: 1, updated: 0, unchanged: 0 });
        expect(r.people).toEqual({ created: 1, updated: 0, unchanged: 0 });
        const [x] = (await store.listIdentities()).items;
        expect([x!.tags, x!.owner, x!.description]).toEqual([['a', 'b'], 'o@example.test', 'second']);
        expect((await store.listPeople()).items.map((p) => [p.email, p.name])).toEqual([
          ['p@example.test', 'P'],
        ]);
      });

      it('updates: absent fields keep stored values, tags union, locations merge keeping firstSeenAt', async () => {
        await store.applyInventoryBatch(
          batchOf({
            identities: [
              identity('role/app', {
                owner: 'alice@example.test',
                sponsor: 'cto@example.test',
                tags: ['a'],
                attributes: { x: 1 },
                lastSeenAt: '2025-10-01T00:00:00.000Z',
              }),
            ],
            credentials: [
              credential('role/app', 'k1', {
                locations: [{ kind: 'file', path: '.env', line: 1, key: 'K' }],
                lastUsedAt: '2025-10-01T00:00:00.000Z',
              }),
            ],
            people: [{ email: 'carol@example.test', status: 'active' }],
          }),
          ctx(T1),
        );
        const r = await store.applyInventoryBatch(
          batchOf({
            identities: [
              identity('role/app', {
                owner: null,
                tags: ['b'],
                description: 'now described',
                attributes: { y: 2 },
                lastSeenAt: '2025-09-01T00:00:00.000Z',
              }),
            ],
            credentials: [
              credential('role/app', 'k1', {
                locations: [
                  { kind: 'file', path: '.env', line: 1, key: 'K' },
                  { kind: 'env', path: 'ci', line: null, key: 'AWS_KEY' },
                ],
              }),
            ],
            people: [{ email: 'carol@example.test', status: 'left' }],
          }),
          ctx(T2),
        );
        expect(r).toMatchObject({
          identities: { created: 0, updated: 1, unchanged: 0 },
          credentials: { created: 0, updated: 1, unchanged: 0 },
          people: { created: 0, updated: 1, unchanged: 0 },
          eventSeq: 6,
        });
        const [app] = (await store.listIdentities()).items;
        expect(app).toMatchObject({
          owner: 'alice@example.test',
          sponsor: 'cto@example.test',
          description: 'now described',
          tags: ['a', 'b'],
          attributes: { x: 1, y: 2 },
          createdAt: T1,
          updatedAt: T2,
          lastSeenAt: '2025-10-01T00:00:00.000Z',
        });
        const [k1] = (await store.listCredentials()).items;
        expect(k1!.lastUsedAt).toBe('2025-10-01T00:00:00.000Z');
        expect(k1!.recordedAt).toBe(T1);
        expect(k1!.updatedAt).toBe(T2);
        expect(k1!.locations).toEqual([
          { kind: 'file', path: '.env', line: 1, key: 'K', firstSeenAt: T1, lastSeenAt: T2 },
          { kind: 'env', path: 'ci', line: null, key: 'AWS_KEY', firstSeenAt: T2, lastSeenAt: T2 },
        ]);
        const snapCredential = (await store.loadSnapshot()).credentials.find((c) => c.id === k1!.id);
        expect(snapCredential!.locations).toEqual(k1!.locations);
        const [carol] = (await store.listPeople()).items;
        expect(carol).toMatchObject({ status: 'left', leftAt: T2, updatedAt: T2 });

        const types = (await allEvents(store)).slice(3).map((e) => e.type);
        expect(types).toEqual(['identity.updated', 'credential.updated', 'inventory.batch.applied']);
      });

      it('resolves credentials and grants against identities stored by an earlier batch', async () => {
        await store.applyInventoryBatch(batchOf({ identities: [identity('role/app')] }), ctx(T1));
        const r = await store.applyInventoryBatch(
          batchOf({ credentials: [credential('role/app', 'k9')], grants: [grant('role/app', 'g9')] }),
          ctx(T2),
        );
        expect(r.credentials).toEqual({ created: 1, updated: 0, unchanged: 0 });
        expect(r.grants).toEqual({ created: 1, updated: 0, unchanged: 0 });
        const [app] = (await store.listIdentities()).items;
        expect((await store.listCredentials({ identityId: app!.id })).total).toBe(1);
        expect((await store.listGrants({ identityId: app!.id })).total).toBe(1);
      });

      it('rejects a credential for an unknown identity and persists nothing from the batch', async () => {
        await store.applyInventoryBatch(batchOf({ identities: [identity('role/kept')] }), ctx(T1));
        const before = await store.stats();
        const lastBefore = (await allEvents(store)).at(-1);
        const err = await rejects(
          store.applyInventoryBatch(
            batchOf({
              people: [{ email: 'dave@example.test', status: 'active' }],
              resources: [{ provider: 'aws', type: 'aws:s3-bucket', name: 'b1' }],
              identities: [identity('role/new'), identity('role/kept', { owner: 'x@example.test' })],
              credentials: [credential('role/new', 'ok'), credential('role/ghost', 'bad')],
            }),
            ctx(T2),
          ),
          ValidationError,
          'KW_INVALID_IMPORT',
        );
        expect((err as ValidationError).details).toEqual([
          { path: 'credentials[1].identity', message: 'unknown identity' },
        ]);
        expect(err.message).toContain('aws:role/ghost');
        expect(await store.stats()).toEqual(before);
        expect((await allEvents(store)).at(-1)).toEqual(lastBefore);
        expect((await store.listIdentities()).items.map((i) => [i.externalId, i.owner])).toEqual([
          ['role/kept', null],
        ]);
      });

      it('rejects a grant for an unknown identity on an empty store and leaves it empty', async () => {
        const err = await rejects(
          store.applyInventoryBatch(
            batchOf({ identities: [identity('role/a')], grants: [grant('role/b', 'g')] }),
            ctx(),
          ),
          ValidationError,
          'KW_INVALID_IMPORT',
        );
        expect((err as ValidationError).details).toEqual([
          { path: 'grants[0].identity', message: 'unknown identity' },
        ]);
        expect(await store.stats()).toEqual(ZERO_STATS);
      });

      it('round-trips text that needs quoting (quotes, backslashes, commas, braces, NULL, unicode)', async () => {
        const odd = ['a,b', 'c"d', 'e\\f', '{x}', 'NULL', "it's", 'ünï-🔑', ' spaced '];
        await store.applyInventoryBatch(
          batchOf({
            identities: [
              identity('NULL', {
                name: 'c"d\\e',
                tags: odd,
                attributes: { odd, nested: { 'k"': [1, null, true] } },
              }),
            ],
            credentials: [
              credential('NULL', 'odd', {
                name: 'NULL',
                locations: [{ kind: 'config', path: 'a,b{c}"d', line: null, key: 'x\\y' }],
              }),
            ],
          }),
          ctx(),
        );
        const [i] = (await store.listIdentities()).items;
        expect(i).toMatchObject({
          externalId: 'NULL',
          name: 'c"d\\e',
          tags: odd,
          attributes: { odd, nested: { 'k"': [1, null, true] } },
        });
        const [c] = (await store.listCredentials()).items;
        expect(c!.name).toBe('NULL');
        expect(c!.locations.map((l) => [l.path, l.key, l.line])).toEqual([['a,b{c}"d', 'x\\y', null]]);
      });
    });

    describe('single identity changes', () => {
      it('createIdentity creates and logs; the same provider and externalId again is a ConflictError', async () => {
        const created = await store.createIdentity(
          identity('role/api', { kind: 'ai-agent', owner: 'o@example.test', tags: ['t'] }),
          change(T1),
        );
        expect(created).toEqual<Identity>({
          id: created.id,
          name: 'role/api',
          kind: 'ai-agent',
          provider: 'aws',
          externalId: 'role/api',
          environment: null,
          owner: 'o@example.test',
          sponsor: null,
          description: null,
          tags: ['t'],
          attributes: {},
          createdAt: T1,
          updatedAt: T1,
          lastSeenAt: null,
          riskScore: null,
        });
        expect(await store.getIdentity(created.id)).toEqual(created);
        await rejects(store.createIdentity(identity('role/api'), change(T2)), ConflictError, 'KW_CONFLICT');
        expect((await store.stats()).identities).toBe(1);
        const events = await allEvents(store);
        expect(events.map((e) => [e.seq, e.type, e.actor, e.subject])).toEqual([
          [1, 'identity.created', 'api:test', created.id],
        ]);
      });

      it('updateIdentity changes only the given fields and logs which; unknown id is NotFoundError', async () => {
        const c = await store.createIdentity(identity('role/api', { owner: 'o@example.test' }), change(T1));
        const u = await store.updateIdentity(
          c.id,
          { owner: 'p@example.test', tags: ['x', 'y'], description: undefined },
          change(T2),
        );
        expect(u).toEqual({ ...c, owner: 'p@example.test', tags: ['x', 'y'], updatedAt: T2 });
        expect(await store.getIdentity(c.id)).toEqual(u);
        const last = (await allEvents(store)).at(-1)!;
        expect([last.seq, last.type, last.subject, last.data]).toEqual([
          2,
          'identity.updated',
          c.id,
          { id: c.id, name: 'role/api', changed: ['owner', 'tags'] },
        ]);
        await rejects(
          store.updateIdentity('idn_nope', { name: 'x' }, change(T2)),
          NotFoundError,
          'KW_NOT_FOUND',
        );
        // An API edit is not an import: the next import of the same input counts as an update.
        const r = await store.applyInventoryBatch(batchOf({ identities: [identity('role/api')] }), ctx(T3));
        expect(r.identities).toEqual({ created: 0, updated: 1, unchanged: 0 });
      });

      it('deleteIdentity removes credentials, locations, grants and findings; unknown id is NotFoundError', async () => {
        await store.applyInventoryBatch(
          batchOf({
            identities: [identity('role/a'), identity('role/b')],
            credentials: [
              credential('role/a', 'a1', { locations: [{ kind: 'env', path: 'x', line: null, key: 'K' }] }),
              credential('role/a', 'a2'),
              credential('role/b', 'b1'),
            ],
            grants: [grant('role/a', 'ga'), grant('role/b', 'gb')],
          }),
          ctx(),
        );
        const ids = Object.fromEntries((await store.listIdentities()).items.map((i) => [i.externalId, i.id]));
        await store.replaceFindings(
          [finding('f-a', ids['role/a']!), finding('f-b', ids['role/b']!)],
          new Map([
            [ids['role/a']!, 50],
            [ids['role/b']!, 20],
          ]),
          T1,
        );
        await store.deleteIdentity(ids['role/a']!, change(T2));
        expect(await store.getIdentity(ids['role/a']!)).toBeNull();
        expect(await store.stats()).toEqual({
          identities: 1,
          credentials: 1,
          grants: 1,
          resources: 0,
          people: 0,
          findings: 1,
          events: 7,
        });
        expect(await h.raw('SELECT COUNT(*) AS n FROM credential_locations')).toEqual([{ n: 0 }]);
        expect((await store.listFindings()).items.map((f) => f.id)).toEqual(['f-b']);
        const last = (await allEvents(store)).at(-1)!;
        expect([last.type, last.subject, last.data]).toEqual([
          'identity.deleted',
          ids['role/a'],
          { id: ids['role/a'], name: 'role/a', provider: 'aws', externalId: 'role/a' },
        ]);
        await rejects(store.deleteIdentity(ids['role/a']!, change(T3)), NotFoundError, 'KW_NOT_FOUND');
        expect((await store.stats()).events).toBe(7);
      });
    });

    describe('listings', () => {
      beforeEach(async () => {
        await store.applyInventoryBatch(
          batchOf({
            identities: [
              identity('e1', {
                name: 'ab',
                tags: ['prod', 'team-a'],
                owner: 'Alice@Example.test',
                environment: 'prod',
              }),
              identity('e2', { name: 'aB', tags: ['production'], kind: 'bot', environment: 'dev' }),
              identity('e3', { name: 'a-b', tags: ['Prod'], provider: 'github' }),
              identity('e4', { name: 'Ab', kind: 'bot', owner: 'alice@example.test' }),
              identity('e5', { name: '100%_done' }),
              identity('e6', { name: '100x done' }),
              identity('e7', { name: 'back\\slash' }),
            ],
          }),
          ctx(),
        );
      });
      const names = (p: { items: Identity[] }): string[] => p.items.map((i) => i.name);

      it('orders by name byte-wise and pages with an exact total', async () => {
        const all = await store.listIdentities();
        expect(names(all)).toEqual(['100%_done', '100x done', 'Ab', 'a-b', 'aB', 'ab', 'back\\slash']);
        expect([all.total, all.limit, all.offset]).toEqual([7, 100, 0]);
        const p = await store.listIdentities({ limit: 2, offset: 3 });
        expect([names(p), p.total, p.limit, p.offset]).toEqual([['a-b', 'aB'], 7, 2, 3]);
        const beyond = await store.listIdentities({ limit: 5, offset: 10 });
        expect([beyond.items, beyond.total]).toEqual([[], 7]);
        expect((await store.listIdentities({ limit: 0 })).limit).toBe(1);
        expect((await store.listIdentities({ limit: 5000, offset: -4 })).limit).toBe(1000);
        expect((await store.listIdentities({ offset: -4 })).offset).toBe(0);
      });

      it('filters by kind, provider, environment, owner (any case) and exact tag', async () => {
        expect(names(await store.listIdentities({ kind: 'bot' }))).toEqual(['Ab', 'aB']);
        expect(names(await store.listIdentities({ provider: 'github' }))).toEqual(['a-b']);
        expect(names(await store.listIdentities({ environment: 'prod' }))).toEqual(['ab']);
        expect(names(await store.listIdentities({ owner: 'ALICE@example.TEST' }))).toEqual(['Ab', 'ab']);
        expect(names(await store.listIdentities({ tag: 'prod' }))).toEqual(['ab']);
        expect(names(await store.listIdentities({ tag: 'Prod' }))).toEqual(['a-b']);
        expect(names(await store.listIdentities({ tag: 'prod%' }))).toEqual([]);
        const both = await store.listIdentities({ kind: 'bot', environment: 'dev' });
        expect([names(both), both.total]).toEqual([['aB'], 1]);
      });

      it('q matches name or external id case-insensitively, with LIKE wildcards taken literally', async () => {
        expect(names(await store.listIdentities({ q: 'AB' }))).toEqual(['Ab', 'aB', 'ab']);
        expect(names(await store.listIdentities({ q: 'E3' }))).toEqual(['a-b']);
        expect(names(await store.listIdentities({ q: '%' }))).toEqual(['100%_done']);
        expect(names(await store.listIdentities({ q: '_' }))).toEqual(['100%_done']);
        expect(names(await store.listIdentities({ q: '0%_d' }))).toEqual(['100%_done']);
        expect(names(await store.listIdentities({ q: '\\' }))).toEqual(['back\\slash']);
        expect((await store.listIdentities({ q: 'zzz' })).total).toBe(0);
      });

      it('sorts by risk (highest first, unscored last) and filters by minimum risk', async () => {
        const ids = Object.fromEntries((await store.listIdentities()).items.map((i) => [i.name, i.id]));
        await store.replaceFindings(
          [],
          new Map([
            [ids['ab']!, 90],
            [ids['Ab']!, 40],
            [ids['aB']!, 40.4],
          ]),
          T1,
        );
        const byRisk = await store.listIdentities({ sort: 'risk', limit: 4 });
        expect(byRisk.items.map((i) => [i.name, i.riskScore])).toEqual([
          ['ab', 90],
          ['Ab', 40],
          ['aB', 40],
          ['100%_done', 0],
        ]);
        expect(names(await store.listIdentities({ minRisk: 40 }))).toEqual(['Ab', 'aB', 'ab']);
        expect(names(await store.listIdentities({ minRisk: 41, sort: 'risk' }))).toEqual(['ab']);
      });

      it('findIdentitiesByName returns exact matches only', async () => {
        expect((await store.findIdentitiesByName('ab')).map((i) => i.externalId)).toEqual(['e1']);
        expect(await store.findIdentitiesByName('AB')).toEqual([]);
      });
    });

    describe('credential, grant, resource and people listings', () => {
      it('filter and page', async () => {
        await store.applyInventoryBatch(
          batchOf({
            identities: [identity('a'), identity('b')],
            credentials: [
              credential('a', 'c1'),
              credential('a', 'c2', { type: 'pat' }),
              credential('b', 'c3', { type: 'pat' }),
              credential('b', 'c1'),
            ],
            grants: [grant('a', 'g2'), grant('a', 'g1'), grant('b', 'g1')],
            resources: [
              { provider: 'aws', type: 'aws:s3-bucket', name: 'z' },
              { provider: 'aws', type: 'aws:account', name: 'y' },
              { provider: 'k8s', type: 'k8s:namespace', name: 'k8s:prod' },
            ],
            people: [
              { email: 'b@example.test', status: 'suspended' },
              { email: 'a@example.test', status: 'active' },
              { email: 'c@example.test', status: 'active' },
            ],
          }),
          ctx(),
        );
        const ids = Object.fromEntries((await store.listIdentities()).items.map((i) => [i.externalId, i.id]));
        expect((await store.listCredentials()).total).toBe(4);
        expect(
          (await store.listCredentials({ identityId: ids.a })).items.map((c) => c.fingerprint).sort(),
        ).toEqual([fp('c1'), fp('c2')].sort());
        expect((await store.listCredentials({ type: 'pat' })).total).toBe(2);
        const reused = await store.listCredentials({ fingerprint: fp('c1') });
        expect(reused.items.map((c) => c.identityId).sort()).toEqual([ids.a, ids.b].sort());
        const onePage = await store.listCredentials({ limit: 1, offset: 1 });
        expect([onePage.items.length, onePage.total]).toEqual([1, 4]);

        const grantsA = await store.listGrants({ identityId: ids.a });
        expect(grantsA.items.map((g) => g.key)).toEqual(['g1', 'g2']);
        expect((await store.listGrants()).total).toBe(3);

        expect((await store.listResources()).items.map((r) => r.name)).toEqual(['y', 'z', 'k8s:prod']);
        expect(
          (await store.listResources({ provider: 'aws', type: 'aws:account' })).items.map((r) => r.name),
        ).toEqual(['y']);
        expect((await store.listPeople()).items.map((p) => p.email)).toEqual([
          'a@example.test',
          'b@example.test',
          'c@example.test',
        ]);
        const active = await store.listPeople({ status: 'active', limit: 1 });
        expect([active.items.map((p) => p.email), active.total]).toEqual([['a@example.test'], 2]);

        const snap = await store.loadSnapshot();
        expect([
          snap.identities.length,
          snap.credentials.length,
          snap.grants.length,
          snap.resources.length,
          snap.people.length,
        ]).toEqual([2, 4, 3, 3, 3]);
        expect(snap.people.map((p) => p.email)).toEqual([
          'a@example.test',
          'b@example.test',
          'c@example.test',
        ]);
      });
    });

    describe('replaceFindings', () => {
      it('keeps firstSeenAt of open findings, counts created and resolved, and sets risk scores', async () => {
        await store.applyInventoryBatch(batchOf({ identities: [identity('a'), identity('b')] }), ctx());
        const ids = Object.fromEntries((await store.listIdentities()).items.map((i) => [i.externalId, i.id]));
        const r1 = await store.replaceFindings(
          [
            finding('f1', ids.a!, { severity: 'high', owasp: 'NHI5', ruleId: 'r5' }),
            finding('f2', ids.b!, { severity: 'low' }),
            finding('f2', ids.b!, { severity: 'low' }),
          ],
          new Map([[ids.a!, 70]]),
          T1,
        );
        expect(r1).toEqual({ open: 2, created: 2, resolved: 0 });
        expect((await store.getIdentity(ids.a!))!.riskScore).toBe(70);
        expect((await store.getIdentity(ids.b!))!.riskScore).toBe(0);

        const r2 = await store.replaceFindings(
          [
            finding('f1', ids.a!, { severity: 'high', owasp: 'NHI5', ruleId: 'r5', firstSeenAt: T2 }),
            finding('f3', ids.b!, { severity: 'critical', firstSeenAt: T2, evidence: { note: 'q"\\' } }),
          ],
          new Map([[ids.b!, 95]]),
          T2,
        );
        expect(r2).toEqual({ open: 2, created: 1, resolved: 1 });
        const all = await store.listFindings();
        expect(all.items.map((f) => [f.id, f.severity, f.firstSeenAt, f.lastSeenAt])).toEqual([
          ['f3', 'critical', T2, T2],
          ['f1', 'high', T1, T2],
        ]);
        expect(all.items[0]!.evidence).toEqual({ note: 'q"\\' });
        expect((await store.getIdentity(ids.a!))!.riskScore).toBe(0);
        expect((await store.getIdentity(ids.b!))!.riskScore).toBe(95);

        expect((await store.listFindings({ minSeverity: 'critical' })).items.map((f) => f.id)).toEqual([
          'f3',
        ]);
        expect((await store.listFindings({ minSeverity: 'low' })).total).toBe(2);
        expect((await store.listFindings({ owasp: 'NHI5' })).items.map((f) => f.id)).toEqual(['f1']);
        expect((await store.listFindings({ identityId: ids.b })).items.map((f) => f.id)).toEqual(['f3']);
        expect((await store.listFindings({ ruleId: 'r5' })).items.map((f) => f.id)).toEqual(['f1']);
        const page = await store.listFindings({ limit: 1, offset: 1 });
        expect([page.items.map((f) => f.id), page.total]).toEqual([['f1'], 2]);

        expect(await store.replaceFindings([], new Map(), T3)).toEqual({ open: 0, created: 0, resolved: 2 });
        expect((await store.stats()).findings).toBe(0);
      });

      it('new findings are open; an accepted one stays accepted across runs; a resolved one still reported reopens', async () => {
        await store.applyInventoryBatch(batchOf({ identities: [identity('a')] }), ctx());
        const a = (await store.listIdentities()).items[0]!.id;
        const run = [
          finding('f1', a, { owasp: 'NHI7', ruleId: 'r7' }),
          finding('f2', a, { owasp: 'NHI5', ruleId: 'r5', severity: 'high' }),
          finding('f3', a, { owasp: 'NHI2', ruleId: 'r2', severity: 'low' }),
        ];
        await store.replaceFindings(run, new Map(), T1);
        const fresh = await store.getFinding('f1');
        expect(fresh).toEqual({
          ...finding('f1', a, { owasp: 'NHI7', ruleId: 'r7' }),
          lastSeenAt: T1,
          status: 'open',
          statusReason: null,
          statusBy: null,
          statusAt: null,
        });
        expect(await store.getFinding('nope')).toBeNull();
        const seqBefore = (await allEvents(store)).length;

        const accepted = await store.setFindingStatus(
          'f1',
          { status: 'accepted', reason: '  test key, no access  ' },
          { time: T2, actor: 'api:admin' },
        );
        expect(accepted).toEqual({
          ...fresh,
          status: 'accepted',
          statusReason: 'test key, no access',
          statusBy: 'api:admin',
          statusAt: T2,
        });
        expect(await store.getFinding('f1')).toEqual(accepted);
        // The same status again writes nothing.
        expect(
          await store.setFindingStatus(
            'f1',
            { status: 'accepted', reason: 'again' },
            { time: T3, actor: 'x' },
          ),
        ).toEqual(accepted);
        await store.setFindingStatus(
          'f2',
          { status: 'resolved', reason: 'key deleted' },
          { time: T2, actor: 'api:admin' },
        );
        const logged = (await allEvents(store)).slice(seqBefore);
        expect(logged.map((e) => [e.type, e.actor, e.subject, e.time, e.data])).toEqual([
          [
            'finding.accepted',
            'api:admin',
            a,
            T2,
            { findingId: 'f1', ruleId: 'r7', owasp: 'NHI7', reason: 'test key, no access' },
          ],
          [
            'finding.resolved',
            'api:admin',
            a,
            T2,
            { findingId: 'f2', ruleId: 'r5', owasp: 'NHI5', reason: 'key deleted' },
          ],
        ]);
        expect((await store.listFindings({ status: 'accepted' })).items.map((f) => f.id)).toEqual(['f1']);
        expect((await store.listFindings({ status: 'resolved' })).items.map((f) => f.id)).toEqual(['f2']);
        expect((await store.listFindings({ status: 'open' })).items.map((f) => f.id)).toEqual(['f3']);

        // The next run still reports all three: f1 stays accepted, f2 reopens, f3 stays open.
        const r = await store.replaceFindings(run, new Map(), T3);
        expect(r).toEqual({ open: 2, created: 0, resolved: 0 });
        expect(await store.getFinding('f1')).toEqual({ ...accepted, lastSeenAt: T3 });
        expect(await store.getFinding('f2')).toMatchObject({
          status: 'open',
          statusReason: 'still reported by the posture run',
          statusBy: 'posture',
          statusAt: T3,
          firstSeenAt: T1,
          lastSeenAt: T3,
        });
        const reopened = (await allEvents(store)).slice(seqBefore + 2);
        expect(reopened.map((e) => [e.type, e.actor, e.subject, e.time, e.data])).toEqual([
          [
            'finding.reopened',
            'posture',
            a,
            T3,
            { findingId: 'f2', ruleId: 'r5', owasp: 'NHI5', reason: 'still reported by the posture run' },
          ],
        ]);
        // A run that no longer reports a finding removes it whatever its status.
        expect(await store.replaceFindings([run[2]!], new Map(), T3)).toEqual({
          open: 1,
          created: 0,
          resolved: 2,
        });
        expect(await store.getFinding('f1')).toBeNull();
      });

      it('setFindingStatus: unknown id is NotFoundError; a blank or long reason is a ValidationError; nothing is logged', async () => {
        await store.applyInventoryBatch(batchOf({ identities: [identity('a')] }), ctx());
        const a = (await store.listIdentities()).items[0]!.id;
        await store.replaceFindings([finding('f1', a)], new Map(), T1);
        const before = (await allEvents(store)).length;
        const c = { time: T2, actor: 'api:admin' };
        await rejects(
          store.setFindingStatus('nope', { status: 'accepted', reason: 'r' }, c),
          NotFoundError,
          'KW_NOT_FOUND',
        );
        await rejects(
          store.setFindingStatus('f1', { status: 'accepted', reason: '   ' }, c),
          ValidationError,
          'KW_VALIDATION',
        );
        await rejects(
          store.setFindingStatus('f1', { status: 'accepted', reason: 'x'.repeat(501) }, c),
          ValidationError,
          'KW_VALIDATION',
        );
        await rejects(
          store.setFindingStatus('f1', { status: 'gone' as 'open', reason: 'r' }, c),
          ValidationError,
          'KW_VALIDATION',
        );
        expect((await allEvents(store)).length).toBe(before);
        expect((await store.getFinding('f1'))!.status).toBe('open');
        // Reopening by hand is `finding.reopened` with the person as actor.
        await store.setFindingStatus('f1', { status: 'resolved', reason: 'fixed' }, c);
        const reopened = await store.setFindingStatus(
          'f1',
          { status: 'open', reason: 'not fixed after all' },
          { time: T3, actor: 'api:admin' },
        );
        expect([reopened.status, reopened.statusReason, reopened.statusAt]).toEqual([
          'open',
          'not fixed after all',
          T3,
        ]);
        expect((await allEvents(store)).slice(before).map((e) => e.type)).toEqual([
          'finding.resolved',
          'finding.reopened',
        ]);
      });
    });

    describe('overview aggregates', () => {
      it('findingCounts groups by identity, category, severity and status', async () => {
        await store.applyInventoryBatch(batchOf({ identities: [identity('a'), identity('b')] }), ctx());
        const ids = Object.fromEntries((await store.listIdentities()).items.map((i) => [i.externalId, i.id]));
        const [a, b] = [ids.a!, ids.b!].sort();
        await store.replaceFindings(
          [
            finding('f1', a!, { owasp: 'NHI7', severity: 'high' }),
            finding('f2', a!, { owasp: 'NHI7', severity: 'high', credentialId: 'c2' }),
            finding('f3', a!, { owasp: 'NHI2', severity: 'critical' }),
            finding('f4', b!, { owasp: 'NHI7', severity: 'low' }),
          ],
          new Map(),
          T1,
        );
        await store.setFindingStatus('f2', { status: 'accepted', reason: 'ok' }, change(T2));
        expect(await store.findingCounts()).toEqual([
          { identityId: a, owasp: 'NHI2', severity: 'critical', status: 'open', count: 1 },
          { identityId: a, owasp: 'NHI7', severity: 'high', status: 'accepted', count: 1 },
          { identityId: a, owasp: 'NHI7', severity: 'high', status: 'open', count: 1 },
          { identityId: b, owasp: 'NHI7', severity: 'low', status: 'open', count: 1 },
        ]);
      });

      it('listCredentialsDue: active expired, expiring and rotation-overdue credentials, most urgent first', async () => {
        const now = '2026-06-01T00:00:00.000Z';
        await store.applyInventoryBatch(
          batchOf({
            identities: [identity('a', { name: 'alpha' })],
            credentials: [
              credential('a', 'expired-long-ago', { expiresAt: '2026-01-01T00:00:00.000Z' }),
              credential('a', 'expired-yesterday', { expiresAt: '2026-05-31T00:00:00.000Z' }),
              credential('a', 'expired-inactive', {
                expiresAt: '2026-05-01T00:00:00.000Z',
                status: 'inactive',
              }),
              credential('a', 'expiring', {
                expiresAt: '2026-06-10T00:00:00.000Z',
                createdAt: '2020-01-01T00:00:00.000Z',
              }),
              credential('a', 'expiring-later', {
                expiresAt: '2026-07-10T00:00:00.000Z',
                lastRotatedAt: '2025-01-01T00:00:00.000Z',
              }),
              credential('a', 'old', { createdAt: '2024-01-01T00:00:00.000Z' }),
              credential('a', 'rotated-recently', {
                createdAt: '2020-01-01T00:00:00.000Z',
                lastRotatedAt: '2026-05-01T00:00:00.000Z',
              }),
              credential('a', 'no-dates'),
            ],
          }),
          ctx(),
        );
        const byFp = new Map((await store.listCredentials()).items.map((c) => [c.fingerprint, c.id]));
        const due = await store.listCredentialsDue({
          now,
          expiringBefore: '2026-06-15T00:00:00.000Z',
          rotatedBefore: '2026-03-03T00:00:00.000Z',
          limit: 10,
        });
        expect(due.map((d) => [d.id, d.due])).toEqual([
          [byFp.get(fp('expired-long-ago')), 'expired'],
          [byFp.get(fp('expired-yesterday')), 'expired'],
          [byFp.get(fp('expiring')), 'expiring'],
          [byFp.get(fp('old')), 'rotation-overdue'],
          [byFp.get(fp('expiring-later')), 'rotation-overdue'],
        ]);
        const a = (await store.listIdentities()).items[0]!.id;
        expect(due[2]).toEqual({
          id: byFp.get(fp('expiring')),
          identityId: a,
          identityName: 'alpha',
          type: 'access-key',
          preview: 'AK…XX',
          createdAt: '2020-01-01T00:00:00.000Z',
          expiresAt: '2026-06-10T00:00:00.000Z',
          lastRotatedAt: null,
          due: 'expiring',
        });
        const one = await store.listCredentialsDue({
          now,
          expiringBefore: '2026-06-15T00:00:00.000Z',
          rotatedBefore: '2026-03-03T00:00:00.000Z',
          limit: 1,
        });
        expect(one.map((d) => d.due)).toEqual(['expired', 'expiring', 'rotation-overdue']);
      });
    });

    describe('event log', () => {
      const ev = (n: number, data: Record<string, unknown> = { n }) => ({
        time: T1,
        type: 'test.event',
        actor: 'tester',
        subject: n % 2 ? `idn_${n}` : null,
        data,
      });

      it('numbers events without gaps and chains each to the one before, across calls', async () => {
        expect(await store.appendEvents([])).toEqual([]);
        const a = await store.appendEvents([
          ev(1),
          ev(2),
          ev(3, { nested: { list: [1, 'two', null], s: 'ü"\\' } }),
        ]);
        const b = await store.appendEvents([ev(4)]);
        expect([...a, ...b].map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(a[0]!.prevHash).toBe(GENESIS_HASH);
        for (const [i, e] of [...a, ...b].entries()) {
          const { hash, ...body } = e;
          expect(hash).toBe(hashEvent(body));
          if (i > 0) expect(e.prevHash).toBe([...a, ...b][i - 1]!.hash);
          expect(e.id).toMatch(/^evt_[0-9a-z]{16}$/);
        }
        expect(await allEvents(store)).toEqual([...a, ...b]);
        expect((await store.stats()).events).toBe(4);
      });

      it('readEvents pages by seq', async () => {
        const appended = await store.appendEvents([1, 2, 3, 4, 5].map((n) => ev(n)));
        expect((await store.readEvents(0, 2)).map((e) => e.seq)).toEqual([1, 2]);
        expect((await store.readEvents(2, 2)).map((e) => e.seq)).toEqual([3, 4]);
        expect((await store.readEvents(4, 2)).map((e) => e.seq)).toEqual([5]);
        expect(await store.readEvents(5, 2)).toEqual([]);
        expect(await store.readEvents(3, 100)).toEqual(appended.slice(3));
        expect((await store.readEvents(0, 0)).map((e) => e.seq)).toEqual([1]);
      });

      it('continues the chain after batch and identity events', async () => {
        await store.applyInventoryBatch(batchOf({ identities: [identity('a')] }), ctx());
        const [e] = await store.appendEvents([ev(9)]);
        const log = await allEvents(store);
        expect(e!.seq).toBe(3);
        expect(e!.prevHash).toBe(log[1]!.hash);
      });

      it('listEvents filters by subject, pages by seq both ways and counts the subject; getEventsByIds', async () => {
        const appended = await store.appendEvents([1, 2, 3, 4, 5, 6, 7].map((n) => ev(n)));
        // Odd n have subject idn_n; make three events about one subject.
        await store.appendEvents([
          { ...ev(8), subject: 'idn_x' },
          { ...ev(9), subject: 'idn_x' },
          { ...ev(10), subject: 'idn_x' },
        ]);
        const desc = await store.listEvents({ subject: 'idn_x', order: 'desc', limit: 2 });
        expect([desc.items.map((e) => e.seq), desc.total]).toEqual([[10, 9], 3]);
        const older = await store.listEvents({ subject: 'idn_x', order: 'desc', before: 9, limit: 2 });
        expect([older.items.map((e) => e.seq), older.total]).toEqual([[8], 3]);
        const asc = await store.listEvents({ subject: 'idn_x', after: 8, limit: 10 });
        expect(asc.items.map((e) => e.seq)).toEqual([9, 10]);
        const all = await store.listEvents({ limit: 3 });
        expect([all.items.map((e) => e.seq), all.total]).toEqual([[1, 2, 3], 10]);
        expect((await store.listEvents({ order: 'desc', limit: 1 })).items.map((e) => e.seq)).toEqual([10]);
        expect(await store.listEvents({ subject: 'idn_none', limit: 5 })).toEqual({ items: [], total: 0 });
        expect((await store.listEvents({ after: 2, before: 5, limit: 10 })).items).toEqual(
          appended.slice(2, 4),
        );

        expect(
          await store.getEventsByIds([appended[4]!.id, 'evt_unknown', appended[1]!.id, appended[1]!.id]),
        ).toEqual([appended[1], appended[4]]);
        expect(await store.getEventsByIds([])).toEqual([]);
      });

      it('the raw hook reaches the same database', async () => {
        await store.appendEvents([ev(1), ev(2)]);
        expect(await h.raw('SELECT seq FROM events ORDER BY seq')).toEqual([{ seq: 1 }, { seq: 2 }]);
      });
    });

    describe('settings and stats', () => {
      it('stores, overwrites and sets-if-absent', async () => {
        expect(await store.getSetting('k')).toBeNull();
        await store.setSetting('k', 'v1');
        expect(await store.getSetting('k')).toBe('v1');
        await store.setSetting('k', 'v2');
        expect(await store.getSetting('k')).toBe('v2');
        expect(await store.setSettingIfAbsent('k', 'v3')).toBe('v2');
        expect(await store.getSetting('k')).toBe('v2');
        expect(await store.setSettingIfAbsent('new', 'n1')).toBe('n1');
        expect(await store.setSettingIfAbsent('new', 'n2')).toBe('n1');
        expect(await store.getSetting('new')).toBe('n1');
      });
    });
  });
}
