/** The embedded store: one SQLite file (better-sqlite3, WAL mode) under the data directory. */
import Database from 'better-sqlite3';
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
import { ConflictError, KeywardError, NotFoundError, StoreError } from '../../core/errors.js';
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
  insertSql,
  listCredentialsSql,
  listFindingsSql,
  listGrantsSql,
  listIdentitiesSql,
  listPeopleSql,
  listEventsSql,
  listResourcesSql,
  updateByIdSql,
  updateValues,
  type ListSql,
} from '../store-queries.js';
import type { IdentityPatch, Page, Store, StoreStats, ChangeContext } from '../store-types.js';
import { planFindingRun, planFindingStatus, PRIOR_FINDINGS_SQL, priorFindings } from '../store-findings.js';
import {
  ALERT_DAY_COUNTS_SQL,
  credentialsDueSql,
  FINDING_COUNTS_SQL,
  rowToAlertDayCount,
  rowToDueCredential,
  rowToFindingCount,
} from '../store-dashboard.js';
import { createSqliteAlertStore } from './sqlite-alert-store.js';
import { createSqliteBrokerStore } from './sqlite-broker-store.js';
import { createWalCheckpointer, type WalCheckpointerOptions } from './wal-checkpointer.js';

export interface SqliteStoreOptions {
  /** File path, or `:memory:` for tests. */
  filename: string;
  /** Receives the open connection; the conformance tests use it to reach an in-memory database directly. */
  onOpen?: (db: Database.Database) => void;
  /**
   * WAL checkpoints on a worker thread once the store has written enough rows (wal-checkpointer.ts); false keeps
   * them on the writing connection. Default: on for a database file, off for `:memory:`.
   */
  checkpointer?: WalCheckpointerOptions | false;
}

/** Opens (creating when absent) a SQLite store. Call `migrate()` before use. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  let db: Database.Database;
  try {
    db = new Database(options.filename);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    options.onOpen?.(db);
  } catch (err) {
    throw new StoreError(`cannot open SQLite database ${options.filename}: ${(err as Error).message}`, {
      cause: err,
    });
  }

  const inMemory = options.filename === ':memory:' || options.filename === '';
  const checkpointer =
    inMemory || options.checkpointer === false
      ? null
      : createWalCheckpointer(db, options.filename, {
          onError: (err) =>
            process.emitWarning(
              `SQLite WAL checkpoints are back on the writing connection: ${(err as Error).message ?? String(err)}`,
            ),
          ...options.checkpointer,
        });

  /** Runs fn, wrapping driver errors in StoreError (our own errors pass through). */
  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof KeywardError) return Promise.reject(err);
      return Promise.reject(
        new StoreError(`SQLite store failed to ${what}: ${(err as Error).message}`, { cause: err }),
      );
    }
  };

  const stmtCache = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = stmtCache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      stmtCache.set(sql, s);
    }
    return s;
  };
  const all = (sql: string, ...params: unknown[]): Row[] => stmt(sql).all(...params) as Row[];
  const get = (sql: string, ...params: unknown[]): Row | undefined =>
    stmt(sql).get(...params) as Row | undefined;
  const run = (sql: string, ...params: unknown[]): Database.RunResult => stmt(sql).run(...params);

  const locationsOf = (credentialId: string): CredentialLocation[] =>
    all(
      'SELECT * FROM credential_locations WHERE credential_id = ? ORDER BY first_seen_at, loc_key',
      credentialId,
    ).map(rowToLocation);

  const page = <T>(l: ListSql, map: (r: Row) => T): Page<T> => {
    const items = all(l.page.text, ...l.page.params).map(map);
    const total = Number(get(l.count.text, ...l.count.params)?.n ?? 0);
    return { items, total, limit: l.limit, offset: l.offset };
  };

  const appendEventsTx = (events: NewEvent[]): EventRecord[] => {
    const last = get('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    const chained = chainEvents(events, last ? { seq: Number(last.seq), hash: String(last.hash) } : null);
    const ins = insertSql('events', EVENT_COLUMNS);
    for (const e of chained) run(ins, ...eventValues(e));
    checkpointer?.noteRows(chained.length);
    return chained;
  };

  const writeLocations = (c: Credential): void => {
    for (const l of c.locations) {
      run(
        `INSERT INTO credential_locations (credential_id, loc_key, kind, path, line, key, first_seen_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (credential_id, loc_key) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
        c.id,
        locationKey(l),
        l.kind,
        l.path,
        l.line,
        l.key,
        l.firstSeenAt,
        l.lastSeenAt,
      );
    }
  };

  const write = <T extends { id: string }>(
    table: string,
    columns: readonly string[],
    values: (r: T, h: string) => unknown[],
    p: Planned<T>,
  ): void => {
    if (p.op === 'insert') run(insertSql(table, columns), ...values(p.record, p.contentHash));
    else if (p.op === 'update')
      run(updateByIdSql(table, columns), ...updateValues(values(p.record, p.contentHash)));
  };

  const storedIdentity = (r: Row | undefined): Stored<Identity> | undefined =>
    r ? { record: rowToIdentity(r), contentHash: String(r.content_hash) } : undefined;

  const applyBatch = db.transaction((input: InventoryBatch, ctx: BatchContext): BatchResult => {
    const batch = dedupeBatch(input);
    const t = ctx.time;
    const people = batch.people.map((p) => {
      const r = get('SELECT * FROM people WHERE email = ?', p.email);
      const planned = planPerson(
        p,
        r ? { record: rowToPerson(r), contentHash: String(r.content_hash) } : undefined,
        t,
      );
      write('people', PERSON_COLUMNS, personValues, planned);
      return planned;
    });
    const resources = batch.resources.map((x) => {
      const r = get('SELECT * FROM resources WHERE provider = ? AND name = ?', x.provider, x.name);
      const planned = planResource(
        x,
        r ? { record: rowToResource(r), contentHash: String(r.content_hash) } : undefined,
        t,
      );
      write('resources', RESOURCE_COLUMNS, resourceValues, planned);
      return planned;
    });
    const idByKey = new Map<string, string>();
    const identities = batch.identities.map((x) => {
      const r = get(
        'SELECT * FROM identities WHERE provider = ? AND external_id = ?',
        x.provider,
        x.externalId,
      );
      const planned = planIdentity(x, storedIdentity(r), t);
      write('identities', IDENTITY_COLUMNS, identityValues, planned);
      idByKey.set(identityKey(x), planned.record.id);
      return planned;
    });
    const resolve = (
      what: 'credential' | 'grant',
      i: number,
      ref: { provider: string; externalId: string },
    ): string => {
      const k = identityKey(ref);
      let id = idByKey.get(k);
      if (!id) {
        const r = get(
          'SELECT id FROM identities WHERE provider = ? AND external_id = ?',
          ref.provider,
          ref.externalId,
        );
        if (!r) throw unknownIdentityError(what, i, ref);
        id = String(r.id);
        idByKey.set(k, id);
      }
      return id;
    };
    const credentials = batch.credentials.map((x, i) => {
      const identityId = resolve('credential', i, x.identity);
      const r = get(
        'SELECT * FROM credentials WHERE identity_id = ? AND fingerprint = ?',
        identityId,
        x.fingerprint,
      );
      const existing = r
        ? { record: rowToCredential(r, locationsOf(String(r.id))), contentHash: String(r.content_hash) }
        : undefined;
      const planned = planCredential(x, identityId, existing, t);
      write('credentials', CREDENTIAL_COLUMNS, credentialValues, planned);
      if (planned.op !== 'none') writeLocations(planned.record);
      return planned;
    });
    const grants = batch.grants.map((x, i) => {
      const identityId = resolve('grant', i, x.identity);
      const r = get('SELECT * FROM grants WHERE identity_id = ? AND grant_key = ?', identityId, x.key);
      const planned = planGrant(
        x,
        identityId,
        r ? { record: rowToGrant(r), contentHash: String(r.content_hash) } : undefined,
        t,
      );
      write('grants', GRANT_COLUMNS, grantValues, planned);
      return planned;
    });
    const counts = {
      identities: countOps(identities),
      credentials: countOps(credentials),
      grants: countOps(grants),
      resources: countOps(resources),
      people: countOps(people),
    };
    const appended = appendEventsTx(batchEvents(ctx, identities, credentials, counts));
    return { ...counts, eventSeq: appended[appended.length - 1]!.seq };
  });

  const getIdentityNow = (id: string): Identity | null => {
    const r = get('SELECT * FROM identities WHERE id = ?', id);
    return r ? rowToIdentity(r) : null;
  };

  const readSnapshot = (): InventorySnapshot => {
    const locs = new Map<string, CredentialLocation[]>();
    // Tables are read in storage (rowid) order: ORDER BY id walks the id index and fetches rows at random,
    // which made the snapshot of a 100k-identity inventory about a third slower. Posture output does not
    // depend on record order (its evidence lists are sorted).
    const keyed: Array<[string, CredentialLocation]> = [];
    for (const r of stmt('SELECT * FROM credential_locations ORDER BY rowid').iterate() as Iterable<Row>) {
      const id = String(r.credential_id);
      let list = locs.get(id);
      if (!list) locs.set(id, (list = []));
      const loc = rowToLocation(r);
      list.push(loc);
      if (list.length > 1) keyed.push([String(r.loc_key), loc]);
    }
    // Same order as listCredentials: by first sighting, then location key.
    if (keyed.length > 0) {
      const keyOf = new Map(keyed.map(([k, l]) => [l, k]));
      for (const list of locs.values()) {
        if (list.length > 1)
          list.sort((a, b) =>
            a.firstSeenAt !== b.firstSeenAt
              ? a.firstSeenAt < b.firstSeenAt
                ? -1
                : 1
              : (keyOf.get(a) ?? '') < (keyOf.get(b) ?? '')
                ? -1
                : 1,
          );
      }
    }
    // Mapped while iterating: building the intermediate row arrays of all() costs about a third more
    // time and memory on a 100k-identity inventory (see bench/inventory.ts).
    const mapRows = <T>(sql: string, map: (r: Row) => T): T[] => {
      const out: T[] = [];
      for (const r of stmt(sql).iterate() as Iterable<Row>) out.push(map(r));
      return out;
    };
    return {
      identities: mapRows('SELECT * FROM identities ORDER BY rowid', rowToIdentity),
      credentials: mapRows('SELECT * FROM credentials ORDER BY rowid', (r) =>
        rowToCredential(r, locs.get(String(r.id)) ?? []),
      ),
      grants: mapRows('SELECT * FROM grants ORDER BY rowid', rowToGrant),
      resources: mapRows('SELECT * FROM resources ORDER BY rowid', rowToResource),
      people: mapRows('SELECT * FROM people ORDER BY email', rowToPerson),
    };
  };

  const broker = createSqliteBrokerStore({ db, get, all, run, guard, page, appendEventsTx });
  const alerts = createSqliteAlertStore({ db, get, all, run, guard, page, appendEventsTx });

  const store: Store = {
    ...broker,
    ...alerts,
    dialect: 'sqlite',

    migrate: () =>
      guard('migrate', () => {
        db.exec(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
        );
        const applied: number[] = [];
        for (const m of MIGRATIONS) {
          // Checked inside an IMMEDIATE transaction: a second process starting at once waits, then skips.
          const now = db
            .transaction(() => {
              if (get('SELECT version FROM schema_migrations WHERE version = ?', m.version)) return false;
              db.exec(m.sqlite);
              run(
                'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
                m.version,
                m.name,
                new Date().toISOString(),
              );
              return true;
            })
            .immediate();
          if (now) applied.push(m.version);
        }
        return applied;
      }),

    ping: () => guard('ping', () => void get('SELECT 1 AS ok')),

    close: async () => {
      await checkpointer?.close();
      return guard('close', () => void db.close());
    },

    // IMMEDIATE: take the write lock before reading, so another process writing the same file makes this one
    // wait (busy_timeout) instead of failing when it upgrades from reading to writing.
    applyInventoryBatch: (batch, ctx) => guard('apply the batch', () => applyBatch.immediate(batch, ctx)),

    createIdentity: (input: IdentityInput, ctx: ChangeContext) =>
      guard('create the identity', () =>
        db
          .transaction(() => {
            if (
              get(
                'SELECT id FROM identities WHERE provider = ? AND external_id = ?',
                input.provider,
                input.externalId,
              )
            ) {
              throw new ConflictError(`an identity ${input.provider}:${input.externalId} already exists`, {
                details: [{ path: 'externalId', message: 'already exists for this provider' }],
              });
            }
            const planned = planIdentity(input, undefined, ctx.time);
            write('identities', IDENTITY_COLUMNS, identityValues, planned);
            appendEventsTx(
              batchEvents({ ...ctx, source: { kind: 'api' } }, [planned], [], {
                identities: countOps([planned]),
                credentials: countOps([]),
                grants: countOps([]),
                resources: countOps([]),
                people: countOps([]),
              }).slice(0, 1),
            );
            return planned.record;
          })
          .immediate(),
      ),

    updateIdentity: (id: string, patch: IdentityPatch, ctx: ChangeContext) =>
      guard('update the identity', () =>
        db
          .transaction(() => {
            const prev = getIdentityNow(id);
            if (!prev) throw new NotFoundError(`no identity with id ${id}`);
            const next: Identity = { ...prev, ...stripUndefined(patch), updatedAt: ctx.time };
            run(
              updateByIdSql('identities', IDENTITY_COLUMNS),
              ...updateValues(identityValues(next, apiContentHash(next))),
            );
            appendEventsTx([
              {
                time: ctx.time,
                type: 'identity.updated',
                actor: ctx.actor,
                subject: id,
                data: { id, name: next.name, changed: Object.keys(stripUndefined(patch)).sort() },
              },
            ]);
            return next;
          })
          .immediate(),
      ),

    deleteIdentity: (id: string, ctx: ChangeContext) =>
      guard('delete the identity', () =>
        db
          .transaction(() => {
            const prev = getIdentityNow(id);
            if (!prev) throw new NotFoundError(`no identity with id ${id}`);
            run('DELETE FROM findings WHERE identity_id = ?', id);
            run('DELETE FROM identities WHERE id = ?', id);
            appendEventsTx([
              {
                time: ctx.time,
                type: 'identity.deleted',
                actor: ctx.actor,
                subject: id,
                data: { id, name: prev.name, provider: prev.provider, externalId: prev.externalId },
              },
            ]);
          })
          .immediate(),
      ),

    getIdentity: (id) => guard('read the identity', () => getIdentityNow(id)),
    findIdentitiesByName: (name) =>
      guard('find identities', () =>
        all('SELECT * FROM identities WHERE name = ? ORDER BY provider, id', name).map(rowToIdentity),
      ),
    listIdentities: (f) => guard('list identities', () => page(listIdentitiesSql(f), rowToIdentity)),
    getCredential: (id) =>
      guard('read the credential', () => {
        const r = get('SELECT * FROM credentials WHERE id = ?', id);
        return r ? rowToCredential(r, locationsOf(id)) : null;
      }),
    listCredentials: (f) =>
      guard('list credentials', () =>
        page(listCredentialsSql(f), (r) => rowToCredential(r, locationsOf(String(r.id)))),
      ),
    listGrants: (f) => guard('list grants', () => page(listGrantsSql(f), rowToGrant)),
    listResources: (f) => guard('list resources', () => page(listResourcesSql(f), rowToResource)),
    listPeople: (f) => guard('list people', () => page(listPeopleSql(f), rowToPerson)),

    // One read transaction, so the five tables are read as of one moment (WAL gives readers a snapshot).
    loadSnapshot: () =>
      guard('load the inventory', (): InventorySnapshot => db.transaction(readSnapshot).deferred()),

    replaceFindings: (findings: Finding[], riskScores: ReadonlyMap<string, number>, time: string) =>
      guard('store findings', () =>
        db
          .transaction(() => {
            const merged = planFindingRun(findings, priorFindings(all(PRIOR_FINDINGS_SQL)), time);
            run('DELETE FROM findings');
            const ins = insertSql('findings', FINDING_COLUMNS);
            for (const f of merged.rows) run(ins, ...findingValues(f));
            if (merged.events.length > 0) appendEventsTx(merged.events);
            // Only rows whose score changes are written (as in the PostgreSQL adapter): never-scored rows
            // become 0 in one statement, then only identities whose score moved are updated one by one.
            run('UPDATE identities SET risk_score = 0 WHERE risk_score IS NULL');
            const setRisk = 'UPDATE identities SET risk_score = ? WHERE id = ?';
            for (const r of all('SELECT id, risk_score FROM identities')) {
              const id = String(r.id);
              const score = Math.round(riskScores.get(id) ?? 0);
              if (score !== Number(r.risk_score)) run(setRisk, score, id);
            }
            return { open: merged.open, created: merged.created, resolved: merged.resolved };
          })
          .immediate(),
      ),

    listFindings: (f) => guard('list findings', () => page(listFindingsSql(f), rowToFinding)),
    findingCounts: () => guard('count findings', () => all(FINDING_COUNTS_SQL).map(rowToFindingCount)),
    alertCountsByDay: (sinceMs) =>
      guard('count alerts by day', () => all(ALERT_DAY_COUNTS_SQL, sinceMs).map(rowToAlertDayCount)),
    listCredentialsDue: (q) =>
      guard('list credentials due', () =>
        db
          .transaction(() =>
            credentialsDueSql(q).flatMap((s) =>
              all(s.text, ...s.params).map((r) => rowToDueCredential(r, s.due)),
            ),
          )
          .deferred(),
      ),
    getFinding: (id) =>
      guard('read the finding', () => {
        const r = get('SELECT * FROM findings WHERE id = ?', id);
        return r ? rowToFinding(r) : null;
      }),
    setFindingStatus: (id, change, ctx) =>
      guard('change the finding status', () =>
        db
          .transaction(() => {
            const r = get('SELECT * FROM findings WHERE id = ?', id);
            if (!r) throw new NotFoundError(`no finding with id ${JSON.stringify(id)}`);
            const planned = planFindingStatus(rowToFinding(r), change, ctx);
            if (!planned) return rowToFinding(r);
            const { next, event } = planned;
            run(
              'UPDATE findings SET status = ?, status_reason = ?, status_by = ?, status_at = ? WHERE id = ?',
              next.status,
              next.statusReason,
              next.statusBy,
              next.statusAt,
              id,
            );
            appendEventsTx([event]);
            return next;
          })
          .immediate(),
      ),

    appendEvents: (events) =>
      guard('append events', () => db.transaction(() => appendEventsTx(normaliseEvents(events))).immediate()),
    readEvents: (afterSeq, limit) =>
      guard('read events', () =>
        all(
          'SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
          afterSeq,
          Math.max(1, Math.min(limit, 10_000)),
        ).map(rowToEvent),
      ),
    listEvents: (f) =>
      guard('list events', () =>
        db
          .transaction(() => {
            const l = listEventsSql(f);
            return {
              items: all(l.page.text, ...l.page.params).map(rowToEvent),
              total: Number(get(l.count.text, ...l.count.params)?.n ?? 0),
            };
          })
          .deferred(),
      ),
    getEventsByIds: (ids) =>
      guard('read events by id', () => {
        const wanted = [...new Set(ids)].slice(0, 1000);
        if (wanted.length === 0) return [];
        return all(
          `SELECT * FROM events WHERE id IN (${wanted.map(() => '?').join(', ')}) ORDER BY seq`,
          ...wanted,
        ).map(rowToEvent);
      }),

    getSetting: (key) =>
      guard('read a setting', () => {
        const r = get('SELECT value FROM settings WHERE key = ?', key);
        return r ? String(r.value) : null;
      }),
    setSetting: (key, value) =>
      guard(
        'write a setting',
        () =>
          void run(
            'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
            key,
            value,
          ),
      ),
    setSettingIfAbsent: (key, value) =>
      guard('write a setting', () => {
        run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', key, value);
        return String(get('SELECT value FROM settings WHERE key = ?', key)!.value);
      }),

    stats: () =>
      guard('count rows', (): StoreStats => {
        const n = (t: string): number => Number(get(`SELECT COUNT(*) AS n FROM ${t}`)?.n ?? 0);
        return {
          identities: n('identities'),
          credentials: n('credentials'),
          grants: n('grants'),
          resources: n('resources'),
          people: n('people'),
          findings: n('findings'),
          events: n('events'),
        };
      }),
  };
  return store;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
