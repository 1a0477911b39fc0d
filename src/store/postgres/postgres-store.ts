/**
 * The shared store: PostgreSQL through a `pg` pool. Same schema, planning and row mapping as the SQLite
 * adapter; batches are read and written set-wise (a few statements per table, not one per row), and writers
 * serialise on advisory locks so several replicas never interleave a batch or fork the event hash chain.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import type {
  BatchContext,
  BatchResult,
  IdentityInput,
  InventoryBatch,
  InventorySnapshot,
} from '../../core/inventory-batch.js';
import type {
  Credential,
  CredentialLocation,
  EventRecord,
  Finding,
  Identity,
  NewEvent,
} from '../../core/types.js';
import {
  ConflictError,
  KeywardError,
  NotFoundError,
  StoreError,
  ValidationError,
} from '../../core/errors.js';
import { MIGRATIONS } from '../migrations.js';
import {
  apiContentHash,
  batchEvents,
  chainEvents,
  countOps,
  dedupeBatch,
  identityKey,
  locationKey,
  normaliseEvents,
  planCredential,
  planGrant,
  planIdentity,
  planPerson,
  planResource,
  unknownIdentityError,
  type Planned,
  type Stored,
} from '../store-batch.js';
import {
  CREDENTIAL_COLUMNS,
  credentialValues,
  EVENT_COLUMNS,
  eventValues,
  FINDING_COLUMNS,
  findingValues,
  GRANT_COLUMNS,
  grantValues,
  IDENTITY_COLUMNS,
  identityValues,
  PERSON_COLUMNS,
  personValues,
  RESOURCE_COLUMNS,
  resourceValues,
  rowToCredential,
  rowToEvent,
  rowToFinding,
  rowToGrant,
  rowToIdentity,
  rowToLocation,
  rowToPerson,
  rowToResource,
  type Row,
} from '../store-rows.js';
import {
  listCredentialsSql,
  listEventsSql,
  listFindingsSql,
  listGrantsSql,
  listIdentitiesSql,
  listPeopleSql,
  listResourcesSql,
  type ListSql,
} from '../store-queries.js';
import type { ChangeContext, IdentityPatch, Page, Store, StoreStats } from '../store-types.js';
import {
  insertMany,
  PG_TYPES,
  queryRows,
  renumberPlaceholders,
  selectByPairs,
  selectByValues,
  updateMany,
  type Queryable,
} from './postgres-bulk.js';
import { planFindingRun, planFindingStatus, PRIOR_FINDINGS_SQL, priorFindings } from '../store-findings.js';
import {
  ALERT_DAY_COUNTS_SQL,
  credentialsDueSql,
  FINDING_COUNTS_SQL,
  rowToAlertDayCount,
  rowToDueCredential,
  rowToFindingCount,
} from '../store-dashboard.js';
import { createPostgresAlertStore } from './postgres-alert-store.js';
import { createPostgresBrokerStore } from './postgres-broker-store.js';

/** Where the PostgreSQL store connects and how. */
export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`; never echoed in errors (it may hold a password). */
  connectionString: string;
  /** Schema to create and use instead of the connection's default (tests give each run its own). */
  schema?: string;
  /** Largest number of pooled connections (default 10). */
  poolSize?: number;
}

const LOCATION_COLUMNS = [
  'credential_id',
  'loc_key',
  'kind',
  'path',
  'line',
  'key',
  'first_seen_at',
  'last_seen_at',
] as const;

/** Advisory lock names, scoped to the schema in use so stores in different schemas never wait on each other. */
type LockName = 'inventory' | 'events' | 'broker';

/**
 * Creates a PostgreSQL store (connections open lazily). Call `migrate()` before use.
 * @example
 * const store = createPostgresStore({ connectionString: 'postgres://keyward@db:5432/keyward' });
 * await store.migrate();
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const { connectionString, schema } = options;
  if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//i.test(connectionString)) {
    throw new ValidationError(
      'the PostgreSQL connection string must start with postgres:// or postgresql://',
      {
        code: 'KW_INVALID_CONFIG',
        details: [{ path: 'connectionString', message: 'not a postgres:// URL' }],
      },
    );
  }
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ValidationError(
      `PostgreSQL schema name "${schema}" is not allowed: use 1–63 lower-case letters, digits and underscores, not starting with a digit`,
      { code: 'KW_INVALID_CONFIG', details: [{ path: 'schema', message: 'invalid schema name' }] },
    );
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw new ValidationError(`PostgreSQL pool size must be an integer from 1 to 1000 (got ${poolSize})`, {
      code: 'KW_INVALID_CONFIG',
      details: [{ path: 'poolSize', message: 'out of range' }],
    });
  }

  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    // Every pooled connection resolves tables in the store's schema, set at connection start-up.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    types: PG_TYPES,
  });
  // An idle connection that drops emits 'error' on the pool; without a listener that would end the process.
  // The next query reports the problem instead.
  pool.on('error', () => undefined);

  const describe = (err: unknown): string => {
    const e = err as { message?: unknown; code?: unknown };
    const message = typeof e?.message === 'string' ? e.message : String(err);
    return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)
      ? `${message} (SQLSTATE ${e.code})`
      : message;
  };

  /** Runs fn, wrapping driver errors in StoreError (our own errors pass through). */
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KeywardError) throw err;
      throw new StoreError(`PostgreSQL store failed to ${what}: ${describe(err)}`, { cause: err });
    }
  };

  /** Runs fn in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  const tx = async <T>(fn: (c: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      try {
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error; // the connection is unusable: drop it rather than return it
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  };

  const lock = async (c: Queryable, name: LockName): Promise<void> => {
    await c.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('keyward:${name}:' || current_schema(), 0))`,
    );
  };

  const q = (db: Queryable, sql: string, params: unknown[] = []): Promise<Row[]> =>
    queryRows(db, renumberPlaceholders(sql), params);

  const one = async (db: Queryable, sql: string, params: unknown[] = []): Promise<Row | undefined> =>
    (await q(db, sql, params))[0];

  /** Locations of many credentials, grouped by credential id, each list in first-seen order. */
  const locationsOf = async (db: Queryable, ids: string[]): Promise<Map<string, CredentialLocation[]>> => {
    const out = new Map<string, CredentialLocation[]>();
    if (ids.length === 0) return out;
    const rows = await selectByValues(
      db,
      'credential_locations',
      'credential_id',
      ids,
      'credential_id, first_seen_at, loc_key',
    );
    for (const r of rows) {
      const id = String(r.credential_id);
      let list = out.get(id);
      if (!list) out.set(id, (list = []));
      list.push(rowToLocation(r));
    }
    return out;
  };

  const page = async <T>(l: ListSql, map: (rows: Row[]) => Promise<T[]> | T[]): Promise<Page<T>> => {
    const [rows, count] = await Promise.all([
      q(pool, l.page.text, l.page.params),
      one(pool, l.count.text, l.count.params),
    ]);
    return { items: await map(rows), total: Number(count?.n ?? 0), limit: l.limit, offset: l.offset };
  };

  /** Appends events after the last one; the lock makes read-last-then-insert atomic across processes. */
  const appendEventsTx = async (c: Queryable, events: NewEvent[]): Promise<EventRecord[]> => {
    await lock(c, 'events');
    const last = await one(c, 'SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    const chained = chainEvents(events, last ? { seq: Number(last.seq), hash: String(last.hash) } : null);
    await insertMany(c, 'events', EVENT_COLUMNS, chained.map(eventValues));
    return chained;
  };

  const writePlans = async <T extends { id: string }>(
    c: Queryable,
    table: string,
    columns: readonly string[],
    values: (r: T, h: string) => unknown[],
    plans: Planned<T>[],
  ): Promise<void> => {
    const inserts: unknown[][] = [];
    const updates: unknown[][] = [];
    for (const p of plans) {
      if (p.op === 'insert') inserts.push(values(p.record, p.contentHash));
      else if (p.op === 'update') updates.push(values(p.record, p.contentHash));
    }
    if (inserts.length) await insertMany(c, table, columns, inserts);
    if (updates.length) await updateMany(c, table, columns, updates);
  };

  const stored = <T>(r: Row | undefined, map: (r: Row) => T): Stored<T> | undefined =>
    r ? { record: map(r), contentHash: String(r.content_hash) } : undefined;

  const byKey = (rows: Row[], key: (r: Row) => string): Map<string, Row> => {
    const m = new Map<string, Row>();
    for (const r of rows) m.set(key(r), r);
    return m;
  };

  const applyBatchTx = async (
    c: PoolClient,
    input: InventoryBatch,
    ctx: BatchContext,
  ): Promise<BatchResult> => {
    // Serialise batches (and single identity writes): each plans against what it read, then writes.
    await lock(c, 'inventory');
    const batch = dedupeBatch(input);
    const t = ctx.time;

    const peopleRows = byKey(
      await selectByValues(
        c,
        'people',
        'email',
        batch.people.map((p) => p.email),
      ),
      (r) => String(r.email),
    );
    const people = batch.people.map((p) => planPerson(p, stored(peopleRows.get(p.email), rowToPerson), t));

    const resourceRows = byKey(
      await selectByPairs(
        c,
        'resources',
        ['provider', 'name'],
        batch.resources.map((r) => [r.provider, r.name] as const),
      ),
      (r) => `${String(r.provider)}\u0000${String(r.name)}`,
    );
    const resources = batch.resources.map((x) =>
      planResource(x, stored(resourceRows.get(`${x.provider}\u0000${x.name}`), rowToResource), t),
    );

    const identityRows = byKey(
      await selectByPairs(
        c,
        'identities',
        ['provider', 'external_id'],
        batch.identities.map((i) => [i.provider, i.externalId] as const),
      ),
      (r) => identityKey({ provider: String(r.provider), externalId: String(r.external_id) }),
    );
    const identities = batch.identities.map((x) =>
      planIdentity(x, stored(identityRows.get(identityKey(x)), rowToIdentity), t),
    );

    // Credentials and grants may point at identities stored by an earlier batch.
    const idByKey = new Map<string, string>();
    for (const p of identities) idByKey.set(identityKey(p.record), p.record.id);
    const unresolved = new Map<string, readonly [string, string]>();
    for (const x of [...batch.credentials, ...batch.grants]) {
      const k = identityKey(x.identity);
      if (!idByKey.has(k)) unresolved.set(k, [x.identity.provider, x.identity.externalId]);
    }
    if (unresolved.size) {
      const found = await selectByPairs(
        c,
        'identities',
        ['provider', 'external_id'],
        [...unresolved.values()],
      );
      for (const r of found)
        idByKey.set(
          identityKey({ provider: String(r.provider), externalId: String(r.external_id) }),
          String(r.id),
        );
    }
    const credentialIds = batch.credentials.map((x, i) => {
      const id = idByKey.get(identityKey(x.identity));
      if (!id) throw unknownIdentityError('credential', i, x.identity);
      return id;
    });
    const grantIds = batch.grants.map((x, i) => {
      const id = idByKey.get(identityKey(x.identity));
      if (!id) throw unknownIdentityError('grant', i, x.identity);
      return id;
    });

    const credentialRows = await selectByPairs(
      c,
      'credentials',
      ['identity_id', 'fingerprint'],
      batch.credentials.map((x, i) => [credentialIds[i]!, x.fingerprint] as const),
    );
    const storedLocations = await locationsOf(
      c,
      credentialRows.map((r) => String(r.id)),
    );
    const credentialByKey = byKey(
      credentialRows,
      (r) => `${String(r.identity_id)}\u0000${String(r.fingerprint)}`,
    );
    const credentials = batch.credentials.map((x, i) => {
      const r = credentialByKey.get(`${credentialIds[i]!}\u0000${x.fingerprint}`);
      const existing = stored(r, (row) => rowToCredential(row, storedLocations.get(String(row.id)) ?? []));
      return planCredential(x, credentialIds[i]!, existing, t);
    });

    const grantByKey = byKey(
      await selectByPairs(
        c,
        'grants',
        ['identity_id', 'grant_key'],
        batch.grants.map((x, i) => [grantIds[i]!, x.key] as const),
      ),
      (r) => `${String(r.identity_id)}\u0000${String(r.grant_key)}`,
    );
    const grants = batch.grants.map((x, i) =>
      planGrant(x, grantIds[i]!, stored(grantByKey.get(`${grantIds[i]!}\u0000${x.key}`), rowToGrant), t),
    );

    await writePlans(c, 'people', PERSON_COLUMNS, personValues, people);
    await writePlans(c, 'resources', RESOURCE_COLUMNS, resourceValues, resources);
    await writePlans(c, 'identities', IDENTITY_COLUMNS, identityValues, identities);
    await writePlans(c, 'credentials', CREDENTIAL_COLUMNS, credentialValues, credentials);
    const locationRows: unknown[][] = [];
    for (const p of credentials) {
      if (p.op === 'none') continue;
      for (const l of p.record.locations)
        locationRows.push([
          p.record.id,
          locationKey(l),
          l.kind,
          l.path,
          l.line,
          l.key,
          l.firstSeenAt,
          l.lastSeenAt,
        ]);
    }
    await insertMany(
      c,
      'credential_locations',
      LOCATION_COLUMNS,
      locationRows,
      ' ON CONFLICT (credential_id, loc_key) DO UPDATE SET last_seen_at = excluded.last_seen_at',
    );
    await writePlans(c, 'grants', GRANT_COLUMNS, grantValues, grants);

    const counts = {
      identities: countOps(identities),
      credentials: countOps(credentials),
      grants: countOps(grants),
      resources: countOps(resources),
      people: countOps(people),
    };
    const appended = await appendEventsTx(c, batchEvents(ctx, identities, credentials, counts));
    return { ...counts, eventSeq: appended[appended.length - 1]!.seq };
  };

  const getIdentityNow = async (db: Queryable, id: string): Promise<Identity | null> => {
    const r = await one(db, 'SELECT * FROM identities WHERE id = ?', [id]);
    return r ? rowToIdentity(r) : null;
  };

  const credentialsWithLocations = async (db: Queryable, rows: Row[]): Promise<Credential[]> => {
    const locs = await locationsOf(
      db,
      rows.map((r) => String(r.id)),
    );
    return rows.map((r) => rowToCredential(r, locs.get(String(r.id)) ?? []));
  };

  const broker = createPostgresBrokerStore({
    pool,
    tx: (fn) => tx(fn),
    lockBroker: (c) => lock(c, 'broker'),
    q,
    one,
    guard,
    page,
    appendEventsTx,
  });

  const alerts = createPostgresAlertStore({ pool, tx: (fn) => tx(fn), q, guard, page, appendEventsTx });

  const store: Store = {
    ...broker,
    ...alerts,
    dialect: 'postgres',

    migrate: () =>
      guard('migrate', () =>
        tx(async (c) => {
          // Two processes starting at once: the second waits here, then finds the work done.
          await c.query(
            "SELECT pg_advisory_xact_lock(hashtextextended('keyward:migrate:' || coalesce($1::text, current_schema()::text, ''), 0))",
            [schema ?? null],
          );
          if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
          await c.query(
            'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
          );
          const done = new Set(
            (await q(c, 'SELECT version FROM schema_migrations')).map((r) => Number(r.version)),
          );
          const applied: number[] = [];
          for (const m of MIGRATIONS) {
            if (done.has(m.version)) continue;
            await c.query(m.postgres);
            await q(c, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
              m.version,
              m.name,
              new Date().toISOString(),
            ]);
            applied.push(m.version);
          }
          return applied;
        }),
      ),

    ping: () => guard('ping', async () => void (await pool.query('SELECT 1'))),

    close: () => guard('close', () => pool.end()),

    applyInventoryBatch: (batch, ctx) =>
      guard('apply the batch', () => tx((c) => applyBatchTx(c, batch, ctx))),

    createIdentity: (input: IdentityInput, ctx: ChangeContext) =>
      guard('create the identity', () =>
        tx(async (c) => {
          await lock(c, 'inventory');
          if (
            await one(c, 'SELECT id FROM identities WHERE provider = ? AND external_id = ?', [
              input.provider,
              input.externalId,
            ])
          ) {
            throw new ConflictError(`an identity ${input.provider}:${input.externalId} already exists`, {
              details: [{ path: 'externalId', message: 'already exists for this provider' }],
            });
          }
          const planned = planIdentity(input, undefined, ctx.time);
          await writePlans(c, 'identities', IDENTITY_COLUMNS, identityValues, [planned]);
          await appendEventsTx(
            c,
            batchEvents({ ...ctx, source: { kind: 'api' } }, [planned], [], {
              identities: countOps([planned]),
              credentials: countOps([]),
              grants: countOps([]),
              resources: countOps([]),
              people: countOps([]),
            }).slice(0, 1),
          );
          return planned.record;
        }),
      ),

    updateIdentity: (id: string, patch: IdentityPatch, ctx: ChangeContext) =>
      guard('update the identity', () =>
        tx(async (c) => {
          await lock(c, 'inventory');
          const prev = await getIdentityNow(c, id);
          if (!prev) throw new NotFoundError(`no identity with id ${id}`);
          const changes = stripUndefined(patch);
          const next: Identity = { ...prev, ...changes, updatedAt: ctx.time };
          await updateMany(c, 'identities', IDENTITY_COLUMNS, [identityValues(next, apiContentHash(next))]);
          await appendEventsTx(c, [
            {
              time: ctx.time,
              type: 'identity.updated',
              actor: ctx.actor,
              subject: id,
              data: { id, name: next.name, changed: Object.keys(changes).sort() },
            },
          ]);
          return next;
        }),
      ),

    deleteIdentity: (id: string, ctx: ChangeContext) =>
      guard('delete the identity', () =>
        tx(async (c) => {
          await lock(c, 'inventory');
          const prev = await getIdentityNow(c, id);
          if (!prev) throw new NotFoundError(`no identity with id ${id}`);
          await q(c, 'DELETE FROM findings WHERE identity_id = ?', [id]);
          await q(c, 'DELETE FROM identities WHERE id = ?', [id]);
          await appendEventsTx(c, [
            {
              time: ctx.time,
              type: 'identity.deleted',
              actor: ctx.actor,
              subject: id,
              data: { id, name: prev.name, provider: prev.provider, externalId: prev.externalId },
            },
          ]);
        }),
      ),

    getIdentity: (id) => guard('read the identity', () => getIdentityNow(pool, id)),
    findIdentitiesByName: (name) =>
      guard('find identities', async () =>
        (await q(pool, 'SELECT * FROM identities WHERE name = ? ORDER BY provider, id', [name])).map(
          rowToIdentity,
        ),
      ),
    listIdentities: (f) =>
      guard('list identities', () => page(listIdentitiesSql(f), (rows) => rows.map(rowToIdentity))),
    getCredential: (id) =>
      guard('read the credential', async () => {
        const r = await one(pool, 'SELECT * FROM credentials WHERE id = ?', [id]);
        return r ? (await credentialsWithLocations(pool, [r]))[0]! : null;
      }),
    listCredentials: (f) =>
      guard('list credentials', () =>
        page(listCredentialsSql(f), (rows) => credentialsWithLocations(pool, rows)),
      ),
    listGrants: (f) => guard('list grants', () => page(listGrantsSql(f), (rows) => rows.map(rowToGrant))),
    listResources: (f) =>
      guard('list resources', () => page(listResourcesSql(f), (rows) => rows.map(rowToResource))),
    listPeople: (f) => guard('list people', () => page(listPeopleSql(f), (rows) => rows.map(rowToPerson))),

    loadSnapshot: () =>
      guard('load the inventory', () =>
        // One snapshot of the database for all five reads, so they agree with each other.
        tx(async (c): Promise<InventorySnapshot> => {
          const locs = new Map<string, CredentialLocation[]>();
          for (const r of await q(
            c,
            'SELECT * FROM credential_locations ORDER BY credential_id, first_seen_at, loc_key',
          )) {
            const id = String(r.credential_id);
            let list = locs.get(id);
            if (!list) locs.set(id, (list = []));
            list.push(rowToLocation(r));
          }
          return {
            identities: (await q(c, 'SELECT * FROM identities ORDER BY id')).map(rowToIdentity),
            credentials: (await q(c, 'SELECT * FROM credentials ORDER BY id')).map((r) =>
              rowToCredential(r, locs.get(String(r.id)) ?? []),
            ),
            grants: (await q(c, 'SELECT * FROM grants ORDER BY id')).map(rowToGrant),
            resources: (await q(c, 'SELECT * FROM resources ORDER BY id')).map(rowToResource),
            people: (await q(c, 'SELECT * FROM people ORDER BY email')).map(rowToPerson),
          };
        }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'),
      ),

    replaceFindings: (findings: Finding[], riskScores: ReadonlyMap<string, number>, time: string) =>
      guard('store findings', () =>
        tx(async (c) => {
          await lock(c, 'inventory');
          const merged = planFindingRun(findings, priorFindings(await q(c, PRIOR_FINDINGS_SQL)), time);
          await c.query('DELETE FROM findings');
          await insertMany(c, 'findings', FINDING_COLUMNS, merged.rows.map(findingValues));
          if (merged.events.length > 0) await appendEventsTx(c, merged.events);
          // Only rows whose score changes are written: rewriting every identity would cost a row version each.
          const ids = [...riskScores.keys()];
          const scores = [...riskScores.values()].map((s) => Math.round(s));
          await c.query(
            'UPDATE identities AS t SET risk_score = 0 WHERE t.risk_score IS DISTINCT FROM 0 ' +
              'AND NOT EXISTS (SELECT 1 FROM unnest($1::text[]) AS k(id) WHERE k.id = t.id)',
            [ids],
          );
          await updateMany(
            c,
            'identities',
            ['id', 'risk_score'],
            ids.map((id, i) => [id, scores[i]]),
            { onlyChanged: true },
          );
          return { open: merged.open, created: merged.created, resolved: merged.resolved };
        }),
      ),

    listFindings: (f) =>
      guard('list findings', () => page(listFindingsSql(f), (rows) => rows.map(rowToFinding))),
    findingCounts: () =>
      guard('count findings', async () => (await q(pool, FINDING_COUNTS_SQL)).map(rowToFindingCount)),
    alertCountsByDay: (sinceMs) =>
      guard('count alerts by day', async () =>
        (await q(pool, ALERT_DAY_COUNTS_SQL, [sinceMs])).map(rowToAlertDayCount),
      ),
    listCredentialsDue: (dueQuery) =>
      guard('list credentials due', async () => {
        const parts = await Promise.all(
          credentialsDueSql(dueQuery).map(async (s) =>
            (await q(pool, s.text, s.params)).map((r) => rowToDueCredential(r, s.due)),
          ),
        );
        return parts.flat();
      }),
    getFinding: (id) =>
      guard('read the finding', async () => {
        const r = await one(pool, 'SELECT * FROM findings WHERE id = ?', [id]);
        return r ? rowToFinding(r) : null;
      }),
    setFindingStatus: (id, change, ctx) =>
      guard('change the finding status', () =>
        tx(async (c) => {
          // The inventory lock orders this with posture runs, which rewrite the findings table.
          await lock(c, 'inventory');
          const r = await one(c, 'SELECT * FROM findings WHERE id = ?', [id]);
          if (!r) throw new NotFoundError(`no finding with id ${JSON.stringify(id)}`);
          const planned = planFindingStatus(rowToFinding(r), change, ctx);
          if (!planned) return rowToFinding(r);
          const { next, event } = planned;
          await q(
            c,
            'UPDATE findings SET status = ?, status_reason = ?, status_by = ?, status_at = ? WHERE id = ?',
            [next.status, next.statusReason, next.statusBy, next.statusAt, id],
          );
          await appendEventsTx(c, [event]);
          return next;
        }),
      ),

    appendEvents: (events) =>
      guard('append events', () =>
        events.length === 0 ? Promise.resolve([]) : tx((c) => appendEventsTx(c, normaliseEvents(events))),
      ),
    readEvents: (afterSeq, limit) =>
      guard('read events', async () =>
        (
          await q(pool, 'SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [
            afterSeq,
            Math.max(1, Math.min(limit, 10_000)),
          ])
        ).map(rowToEvent),
      ),
    listEvents: (f) =>
      guard('list events', async () => {
        const l = listEventsSql(f);
        const [rows, count] = await Promise.all([
          q(pool, l.page.text, l.page.params),
          one(pool, l.count.text, l.count.params),
        ]);
        return { items: rows.map(rowToEvent), total: Number(count?.n ?? 0) };
      }),
    getEventsByIds: (ids) =>
      guard('read events by id', async () => {
        const wanted = [...new Set(ids)].slice(0, 1000);
        if (wanted.length === 0) return [];
        return (await q(pool, 'SELECT * FROM events WHERE id = ANY(?::text[]) ORDER BY seq', [wanted])).map(
          rowToEvent,
        );
      }),

    getSetting: (key) =>
      guard('read a setting', async () => {
        const r = await one(pool, 'SELECT value FROM settings WHERE key = ?', [key]);
        return r ? String(r.value) : null;
      }),
    setSetting: (key, value) =>
      guard('write a setting', async () => {
        await q(
          pool,
          'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [key, value],
        );
      }),
    setSettingIfAbsent: (key, value) =>
      guard('write a setting', async () => {
        const inserted = await one(
          pool,
          'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING value',
          [key, value],
        );
        if (inserted) return String(inserted.value);
        return String((await one(pool, 'SELECT value FROM settings WHERE key = ?', [key]))!.value);
      }),

    stats: () =>
      guard('count rows', async (): Promise<StoreStats> => {
        const tables = [
          'identities',
          'credentials',
          'grants',
          'resources',
          'people',
          'findings',
          'events',
        ] as const;
        const r = (await one(
          pool,
          `SELECT ${tables.map((t) => `(SELECT COUNT(*) FROM ${t}) AS ${t}`).join(', ')}`,
        ))!;
        return {
          identities: Number(r.identities),
          credentials: Number(r.credentials),
          grants: Number(r.grants),
          resources: Number(r.resources),
          people: Number(r.people),
          findings: Number(r.findings),
          events: Number(r.events),
        };
      }),
  };
  return store;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
