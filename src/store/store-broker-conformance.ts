/**
 * The broker's store conformance suite: the same vitest cases for every adapter, so SQLite and PostgreSQL
 * keep agent types, agents, keys, revocations, approvals, upstreams and the replay cache identically. Its
 * harnesses open a database that a second store instance can share (a SQLite file; a PostgreSQL schema), as
 * a second process would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  Agent,
  AgentAuth,
  AgentTypeInput,
  Approval,
  SigningKey,
  UpstreamInput,
} from '../core/broker-types.js';
import { ConflictError, NotFoundError, StoreError, ValidationError } from '../core/errors.js';
import { GENESIS_HASH, hashEvent } from '../core/event-hash.js';
import type { EventRecord } from '../core/types.js';
import { PG_TYPES } from './postgres/postgres-bulk.js';
import { createPostgresStore } from './postgres/postgres-store.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import { EXPIRED_REASON, MAX_BROKER_READ } from './store-broker-plan.js';
import { eventsByTypeSql } from './store-queries.js';
import type { StoreHarness } from './store-conformance.js';
import type { Store } from './store-types.js';

/** A harness whose database a second store instance can open. */
export interface BrokerStoreHarness extends StoreHarness {
  /** Another store on the same database (its own connection or pool), as a second process would open it. */
  openSecond(): Store;
}

/** Makes one broker harness with a fresh, empty (not yet migrated) database. */
export type MakeBrokerStore = () => Promise<BrokerStoreHarness>;

/** A SQLite harness over a file in a fresh temporary directory, removed by `dispose`. */
export const makeSqliteBrokerHarness: MakeBrokerStore = () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-broker-'));
  const filename = join(dir, 'keyward.db');
  let db: Database.Database | undefined;
  const store = createSqliteStore({ filename, onOpen: (d) => void (db = d) });
  const conn = db!;
  const others: Store[] = [];
  return Promise.resolve({
    store,
    raw: (sql) => {
      const s = conn.prepare(sql);
      return Promise.resolve(s.reader ? (s.all() as Array<Record<string, unknown>>) : (s.run(), []));
    },
    openSecond: () => {
      const s = createSqliteStore({ filename });
      others.push(s);
      return s;
    },
    dispose: async () => {
      for (const s of others) await s.close().catch(() => undefined);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
};

/** PostgreSQL harnesses: each gets its own schema (dropped by `dispose`); a second store gets its own pool. */
export function makePostgresBrokerHarness(url: string): MakeBrokerStore {
  return async () => {
    const schema = `kw_test_${randomBytes(8).toString('hex')}`;
    const store = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
    const others: Store[] = [];
    const admin = new pg.Client({
      connectionString: url,
      options: `-c search_path=${schema}`,
      types: PG_TYPES,
    });
    await admin.connect();
    return {
      store,
      raw: async (sql) => (await admin.query(sql)).rows as Array<Record<string, unknown>>,
      openSecond: () => {
        const s = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
        others.push(s);
        return s;
      },
      dispose: async () => {
        for (const s of others) await s.close().catch(() => undefined);
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
// Fixtures. The "secrets" are markers, so a test can search every output for them; none is a real value.

const T1 = '2026-03-01T10:00:00.000Z';
const T2 = '2026-03-01T11:00:00.000Z';
const T3 = '2026-03-01T12:00:00.000Z';
const T4 = '2026-03-01T13:00:00.000Z';

const SECRET_HASH = '$scrypt$ln=15,r=8,p=1$c2FsdA$SECRET-HASH-MARKER';
const SECRET_HASH_2 = '$scrypt$ln=15,r=8,p=1$c2FsdA$SECRET-HASH-MARKER-2';
const SEALED_KEY = 'kw1.SEALED-PRIVATE-KEY-MARKER';
const SEALED_UPSTREAM = 'kw1.SEALED-UPSTREAM-MARKER';
const MARKERS = ['SECRET-HASH-MARKER', 'SEALED-PRIVATE-KEY-MARKER', 'SEALED-UPSTREAM-MARKER'];

const ctx = (time = T1, actor = 'api:admin') => ({ time, actor });

const POLICY = {
  scopes: ['tickets:read', 'tickets:write'],
  resources: ['https://api.example.test/*'],
  maxTtl: '15m',
};

function agentType(over: Partial<AgentTypeInput> = {}): AgentTypeInput {
  return {
    name: 'support-agent',
    owner: 'team-support@example.test',
    description: 'answers tickets',
    policy: POLICY,
    policySource: 'support-agent.yaml',
    ...over,
  };
}

const JWKS = {
  keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'c1' }],
};

function auth(over: Partial<AgentAuth> = {}): AgentAuth {
  return { secretHash: SECRET_HASH, jwks: null, federated: [], ...over };
}

function signingKey(kid: string, createdAt: string, over: Partial<SigningKey> = {}): SigningKey {
  return {
    kid,
    alg: 'EdDSA',
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${kid}`, kid, use: 'sig', alg: 'EdDSA' },
    sealedPrivateKey: `${SEALED_KEY}.${kid}`,
    createdAt,
    activatesAt: createdAt,
    retiresAt: null,
    expiresAt: null,
    ...over,
  };
}

function upstream(over: Partial<UpstreamInput> = {}): UpstreamInput {
  return {
    name: 'tickets',
    baseUrl: 'https://tickets.example.test/api',
    auth: { kind: 'header', headerName: 'X-Api-Key' },
    sealedSecret: SEALED_UPSTREAM,
    secretFingerprint: 'a'.repeat(64),
    secretPreview: 'tk_…9xYz',
    routes: [{ scope: 'tickets:read', methods: ['GET'], paths: ['/tickets/*'] }],
    ...over,
  };
}

/** Asserts a rejection is exactly this error class and code; returns the error. */
async function rejects<E extends Error>(
  p: Promise<unknown>,
  cls: new (...a: never[]) => E,
  code: string,
): Promise<E> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  expect((err as { code?: string }).code).toBe(code);
  return err as E;
}

const ID = (prefix: string): RegExp => new RegExp(`^${prefix}_[0-9a-v]{16}$`);

const seqs = (es: EventRecord[]): number[] => es.map((e) => e.seq);

/**
 * Registers the broker conformance suite for one adapter.
 * @example
 * runBrokerStoreConformance('sqlite', makeSqliteBrokerHarness);
 */
export function runBrokerStoreConformance(name: string, makeStore: MakeBrokerStore): void {
  describe(`Broker store conformance: ${name}`, () => {
    let h: BrokerStoreHarness;
    let store: Store;

    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
      await store.migrate();
    });
    afterEach(async () => {
      await h.dispose();
    });

    const events = (): Promise<EventRecord[]> => store.readEvents(0, 10_000);
    const eventsAfter = async (seq: number): Promise<EventRecord[]> => store.readEvents(seq, 10_000);
    const lastSeq = async (): Promise<number> => (await events()).at(-1)?.seq ?? 0;

    /** An agent type and one agent of it. */
    const seedAgent = async (): Promise<{ typeId: string; agent: Agent }> => {
      const { agentType: t } = await store.upsertAgentType(agentType(), ctx(T1));
      const created = await store.createAgent({ agentTypeId: t.id, name: 'worker-1', auth: auth() }, ctx(T1));
      return { typeId: t.id, agent: (await store.getAgent(created.id))! };
    };

    describe('agent types', () => {
      it('creates a type at policy version 1 and appends broker.agent-type.applied with the policy', async () => {
        const r = await store.upsertAgentType(agentType(), ctx(T1, 'cli'));
        expect(r).toEqual({
          agentType: {
            id: r.agentType.id,
            name: 'support-agent',
            owner: 'team-support@example.test',
            description: 'answers tickets',
            policy: POLICY,
            policySource: 'support-agent.yaml',
            policyVersion: 1,
            createdAt: T1,
            updatedAt: T1,
          },
          created: true,
          changed: true,
        });
        expect(r.agentType.id).toMatch(ID('aty'));
        const [e] = await events();
        expect([e!.seq, e!.type, e!.actor, e!.subject, e!.time]).toEqual([
          1,
          'broker.agent-type.applied',
          'cli',
          r.agentType.id,
          T1,
        ]);
        expect(e!.data).toEqual({
          id: r.agentType.id,
          name: 'support-agent',
          owner: 'team-support@example.test',
          description: 'answers tickets',
          policySource: 'support-agent.yaml',
          policyVersion: 1,
          created: true,
          changed: ['owner', 'description', 'policy', 'policySource'],
          policy: POLICY,
        });
        expect(await store.getAgentType(r.agentType.id)).toEqual(r.agentType);
        expect(await store.getAgentType('support-agent')).toEqual(r.agentType);
        expect(await store.getAgentType('aty_missing')).toBeNull();
        expect(await store.getAgentType('missing')).toBeNull();
      });

      it('re-applying the same type (keys in another order) changes nothing and appends nothing', async () => {
        const first = await store.upsertAgentType(agentType(), ctx(T1));
        const reordered = { maxTtl: '15m', resources: POLICY.resources, scopes: POLICY.scopes };
        const again = await store.upsertAgentType(agentType({ policy: reordered }), ctx(T2));
        expect(again).toEqual({ agentType: first.agentType, created: false, changed: false });
        expect(await store.getAgentType('support-agent')).toEqual(first.agentType);
        expect((await events()).length).toBe(1);
      });

      it('bumps policyVersion only when the policy changes', async () => {
        const { agentType: t } = await store.upsertAgentType(agentType(), ctx(T1));
        const owner = await store.upsertAgentType(agentType({ owner: 'new-owner@example.test' }), ctx(T2));
        expect(owner).toEqual({
          agentType: { ...t, owner: 'new-owner@example.test', updatedAt: T2 },
          created: false,
          changed: true,
        });
        const policy2 = { ...POLICY, scopes: ['tickets:read'] };
        const changed = await store.upsertAgentType(
          agentType({ owner: 'new-owner@example.test', policy: policy2, policySource: 'api' }),
          ctx(T3),
        );
        expect(changed.agentType).toEqual({
          ...t,
          owner: 'new-owner@example.test',
          policy: policy2,
          policySource: 'api',
          policyVersion: 2,
          updatedAt: T3,
        });
        const source = await store.upsertAgentType(
          agentType({ owner: 'new-owner@example.test', policy: policy2, policySource: 'v3.yaml' }),
          ctx(T4),
        );
        expect([source.agentType.policyVersion, source.changed]).toEqual([2, true]);
        const log = await events();
        expect(log.map((e) => [e.type, e.data.policyVersion, e.data.changed])).toEqual([
          ['broker.agent-type.applied', 1, ['owner', 'description', 'policy', 'policySource']],
          ['broker.agent-type.applied', 1, ['owner']],
          ['broker.agent-type.applied', 2, ['policy', 'policySource']],
          ['broker.agent-type.applied', 2, ['policySource']],
        ]);
        expect(log[2]!.data.policy).toEqual(policy2);
      });

      it('keeps the policy text apart from the record; a new text alone is a change without a new version', async () => {
        const TEXT_1 = 'agentType: support-agent\n# v1\n';
        const TEXT_2 = '# moved down a line\nagentType: support-agent\n# v1\n';
        const first = await store.upsertAgentType(agentType({ policyText: TEXT_1 }), ctx(T1));
        expect(first.agentType).not.toHaveProperty('policyText');
        expect(await store.getAgentTypePolicyText(first.agentType.id)).toBe(TEXT_1);
        expect(await store.getAgentTypePolicyText('support-agent')).toBe(TEXT_1);
        expect(await store.getAgentType('support-agent')).toEqual(first.agentType);
        expect((await store.listAgentTypes()).items).toEqual([first.agentType]);

        const same = await store.upsertAgentType(agentType({ policyText: TEXT_1 }), ctx(T2));
        expect([same.changed, same.agentType]).toEqual([false, first.agentType]);

        const moved = await store.upsertAgentType(agentType({ policyText: TEXT_2 }), ctx(T3));
        expect(moved).toEqual({
          agentType: { ...first.agentType, updatedAt: T3 },
          created: false,
          changed: true,
        });
        expect(await store.getAgentTypePolicyText('support-agent')).toBe(TEXT_2);

        // Applied without a text (an old caller): the stale text is dropped, never kept for another policy.
        const noText = await store.upsertAgentType(
          agentType({ policy: { ...POLICY, maxTtl: '5m' } }),
          ctx(T4),
        );
        expect([noText.agentType.policyVersion, noText.changed]).toEqual([2, true]);
        expect(await store.getAgentTypePolicyText('support-agent')).toBeNull();

        const log = await events();
        expect(log.map((e) => [e.data.policyVersion, e.data.changed])).toEqual([
          [1, ['owner', 'description', 'policy', 'policySource', 'policyText']],
          [1, ['policyText']],
          [2, ['policy', 'policyText']],
        ]);
        for (const e of log) expect(JSON.stringify(e.data)).not.toContain('# v1');
        await rejects(store.getAgentTypePolicyText('missing'), NotFoundError, 'KW_NOT_FOUND');
        const e = await rejects(
          store.upsertAgentType(agentType({ policyText: '' }), ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(e.details).toEqual([{ path: 'policyText', message: 'must be a non-empty string' }]);
      });

      it('lists types by name with paging and an exact total', async () => {
        for (const n of ['zeta', 'alpha', 'mid']) await store.upsertAgentType(agentType({ name: n }), ctx());
        const all = await store.listAgentTypes();
        expect([all.items.map((t) => t.name), all.total, all.limit, all.offset]).toEqual([
          ['alpha', 'mid', 'zeta'],
          3,
          100,
          0,
        ]);
        const p = await store.listAgentTypes({ limit: 1, offset: 1 });
        expect([p.items.map((t) => t.name), p.total]).toEqual([['mid'], 3]);
      });

      it('rejects a type without owner or with a policy that is not an object', async () => {
        const e1 = await rejects(
          store.upsertAgentType(agentType({ owner: '' }), ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(e1.details).toEqual([{ path: 'owner', message: 'must be a non-empty string' }]);
        const e2 = await rejects(
          store.upsertAgentType(agentType({ policy: [] as unknown as Record<string, unknown> }), ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(e2.details).toEqual([{ path: 'policy', message: 'must be an object' }]);
        expect(await events()).toEqual([]);
      });
    });

    describe('agents', () => {
      it('registers an agent with a kwc_ client id; reads return the hash, results and events do not', async () => {
        const { agentType: t } = await store.upsertAgentType(agentType(), ctx(T1));
        const created = await store.createAgent(
          {
            agentTypeId: t.id,
            name: 'worker-1',
            auth: auth({
              jwks: JWKS,
              federated: [
                {
                  issuer: 'https://token.actions.example.test',
                  claims: { sub: 'repo:acme/app:ref:refs/heads/main' },
                },
              ],
            }),
          },
          ctx(T2, 'cli'),
        );
        expect(created.id).toMatch(ID('agt'));
        expect(created.clientId).toMatch(ID('kwc'));
        const full: Agent = {
          id: created.id,
          clientId: created.clientId,
          agentTypeId: t.id,
          name: 'worker-1',
          status: 'active',
          auth: {
            secretHash: SECRET_HASH,
            jwks: JWKS,
            federated: [
              {
                issuer: 'https://token.actions.example.test',
                claims: { sub: 'repo:acme/app:ref:refs/heads/main' },
              },
            ],
          },
          createdAt: T2,
          updatedAt: T2,
          lastUsedAt: null,
        };
        const summary = {
          ...full,
          auth: { hasSecret: true, jwks: JWKS, federated: full.auth.federated },
        };
        expect(created).toEqual(summary);
        expect(await store.getAgent(created.id)).toEqual(full);
        expect(await store.getAgentByClientId(created.clientId)).toEqual(full);
        expect(await store.getAgent('agt_missing')).toBeNull();
        expect(await store.getAgentByClientId('kwc_missing')).toBeNull();
        expect((await store.listAgents()).items).toEqual([summary]);

        const e = (await events())[1]!;
        expect([e.type, e.actor, e.subject, e.time]).toEqual([
          'broker.agent.registered',
          'cli',
          created.id,
          T2,
        ]);
        expect(e.data).toEqual({
          id: created.id,
          clientId: created.clientId,
          agentTypeId: t.id,
          name: 'worker-1',
          status: 'active',
          auth: {
            clientSecret: true,
            jwksKids: ['c1'],
            federated: [
              {
                issuer: 'https://token.actions.example.test',
                claims: { sub: 'repo:acme/app:ref:refs/heads/main' },
              },
            ],
          },
        });
      });

      it('refuses an unknown type, a taken name within the type and a taken client id', async () => {
        const { typeId } = await seedAgent();
        const { agentType: other } = await store.upsertAgentType(agentType({ name: 'other' }), ctx());
        const before = await lastSeq();
        await rejects(
          store.createAgent({ agentTypeId: 'aty_missing', name: 'x', auth: auth() }, ctx()),
          NotFoundError,
          'KW_NOT_FOUND',
        );
        const dupName = await rejects(
          store.createAgent({ agentTypeId: typeId, name: 'worker-1', auth: auth() }, ctx()),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(dupName.details).toEqual([{ path: 'name', message: 'already exists in this agent type' }]);
        const fixed = await store.createAgent(
          { agentTypeId: other.id, name: 'worker-1', auth: auth(), clientId: 'kwc_restored0001' },
          ctx(),
        );
        expect(fixed.clientId).toBe('kwc_restored0001');
        const dupClient = await rejects(
          store.createAgent(
            { agentTypeId: other.id, name: 'worker-2', auth: auth(), clientId: 'kwc_restored0001' },
            ctx(),
          ),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(dupClient.details).toEqual([{ path: 'clientId', message: 'already exists' }]);
        const bad = await rejects(
          store.createAgent({ agentTypeId: other.id, name: 'w', auth: auth(), clientId: 'client-1' }, ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(bad.details[0]!.path).toBe('clientId');
        expect((await eventsAfter(before)).map((e) => e.type)).toEqual(['broker.agent.registered']);
        expect((await store.listAgents()).total).toBe(2);
      });

      it('lists agents by name, filtered by type and status, without secret hashes', async () => {
        const { typeId } = await seedAgent();
        const { agentType: other } = await store.upsertAgentType(agentType({ name: 'other' }), ctx());
        await store.createAgent(
          { agentTypeId: typeId, name: 'alpha', auth: auth({ secretHash: null, jwks: JWKS }) },
          ctx(),
        );
        const b = await store.createAgent({ agentTypeId: other.id, name: 'beta', auth: auth() }, ctx());
        await store.updateAgent(b.id, { status: 'disabled' }, ctx(T2));
        const names = (p: { items: Array<{ name: string }> }) => p.items.map((a) => a.name);
        const all = await store.listAgents();
        expect([names(all), all.total]).toEqual([['alpha', 'beta', 'worker-1'], 3]);
        expect(all.items.map((a) => a.auth.hasSecret)).toEqual([false, true, true]);
        expect(names(await store.listAgents({ agentTypeId: typeId }))).toEqual(['alpha', 'worker-1']);
        expect(names(await store.listAgents({ status: 'disabled' }))).toEqual(['beta']);
        const p = await store.listAgents({ limit: 1, offset: 2 });
        expect([names(p), p.total, p.limit, p.offset]).toEqual([['worker-1'], 3, 1, 2]);
        expect(JSON.stringify(all)).not.toContain('SECRET-HASH-MARKER');
      });

      it('updates: disable, enable, rotate the secret, rename; a no-op writes nothing', async () => {
        const { agent } = await seedAgent();
        const start = await lastSeq();
        const disabled = await store.updateAgent(agent.id, { status: 'disabled' }, ctx(T2, 'api:ops'));
        expect(disabled).toMatchObject({ status: 'disabled', updatedAt: T2, auth: { hasSecret: true } });
        expect(disabled).not.toHaveProperty('auth.secretHash');
        const same = await store.updateAgent(agent.id, { status: 'disabled', name: 'worker-1' }, ctx(T3));
        expect(same.updatedAt).toBe(T2);
        await store.updateAgent(agent.id, { status: 'active' }, ctx(T3));
        await store.updateAgent(agent.id, { auth: { secretHash: SECRET_HASH_2 } }, ctx(T3));
        await store.updateAgent(agent.id, { name: 'worker-one', auth: { jwks: JWKS } }, ctx(T4));
        expect(await store.getAgent(agent.id)).toEqual({
          ...agent,
          name: 'worker-one',
          auth: { secretHash: SECRET_HASH_2, jwks: JWKS, federated: [] },
          updatedAt: T4,
        });
        const log = await eventsAfter(start);
        expect(log.map((e) => [e.type, e.actor, e.subject, e.data.changed])).toEqual([
          ['broker.agent.disabled', 'api:ops', agent.id, ['status']],
          ['broker.agent.enabled', 'api:admin', agent.id, ['status']],
          ['broker.agent.updated', 'api:admin', agent.id, ['auth.secretHash']],
          ['broker.agent.updated', 'api:admin', agent.id, ['name', 'auth.jwks']],
        ]);
        expect(log[3]!.data.auth).toEqual({ clientSecret: true, jwksKids: ['c1'], federated: [] });
        expect(JSON.stringify(log)).not.toContain('SECRET-HASH-MARKER');
      });

      it('update refuses a taken name and an unknown agent', async () => {
        const { typeId, agent } = await seedAgent();
        await store.createAgent({ agentTypeId: typeId, name: 'worker-2', auth: auth() }, ctx());
        const before = await lastSeq();
        const err = await rejects(
          store.updateAgent(agent.id, { name: 'worker-2' }, ctx(T2)),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(err.details).toEqual([{ path: 'name', message: 'already exists in this agent type' }]);
        await rejects(
          store.updateAgent('agt_missing', { status: 'disabled' }, ctx()),
          NotFoundError,
          'KW_NOT_FOUND',
        );
        await rejects(
          store.updateAgent(agent.id, { status: 'paused' as never }, ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(await lastSeq()).toBe(before);
        expect((await store.getAgent(agent.id))!.name).toBe('worker-1');
      });

      it('touchAgentUsed moves lastUsedAt forward only, appends no event, ignores unknown ids', async () => {
        const { agent } = await seedAgent();
        const before = await lastSeq();
        await store.touchAgentUsed(agent.id, T3);
        await store.touchAgentUsed(agent.id, T2);
        expect((await store.getAgent(agent.id))!.lastUsedAt).toBe(T3);
        await store.touchAgentUsed(agent.id, T4);
        expect((await store.getAgent(agent.id))!.lastUsedAt).toBe(T4);
        expect((await store.getAgent(agent.id))!.updatedAt).toBe(T1);
        await expect(store.touchAgentUsed('agt_missing', T4)).resolves.toBeUndefined();
        expect(await lastSeq()).toBe(before);
      });
    });

    describe('federated issuers', () => {
      it('saves by issuer URL, reports created/changed, lists by issuer', async () => {
        const input = {
          issuer: 'https://token.actions.example.test',
          jwksUri: 'https://token.actions.example.test/.well-known/jwks',
          audience: 'keyward',
        };
        const a = await store.saveFederatedIssuer(input, ctx(T1));
        expect(a).toEqual({
          federatedIssuer: {
            id: a.federatedIssuer.id,
            issuer: input.issuer,
            jwksUri: input.jwksUri,
            jwks: null,
            audience: 'keyward',
            createdAt: T1,
            updatedAt: T1,
          },
          created: true,
          changed: true,
        });
        expect(a.federatedIssuer.id).toMatch(ID('fis'));
        expect(await store.saveFederatedIssuer(input, ctx(T2))).toEqual({
          ...a,
          created: false,
          changed: false,
        });
        const b = await store.saveFederatedIssuer({ ...input, jwksUri: null, jwks: JWKS }, ctx(T3));
        expect(b).toEqual({
          federatedIssuer: { ...a.federatedIssuer, jwksUri: null, jwks: JWKS, updatedAt: T3 },
          created: false,
          changed: true,
        });
        await store.saveFederatedIssuer({ issuer: 'https://k8s.example.test', audience: 'keyward' }, ctx(T3));
        expect(await store.getFederatedIssuer(input.issuer)).toEqual(b.federatedIssuer);
        expect(await store.getFederatedIssuer('https://nobody.example.test')).toBeNull();
        expect((await store.listFederatedIssuers()).map((f) => f.issuer)).toEqual([
          'https://k8s.example.test',
          'https://token.actions.example.test',
        ]);
        const log = await events();
        expect(log.map((e) => [e.type, e.subject, e.data.created, e.data.changed])).toEqual([
          ['broker.federated-issuer.saved', null, true, ['jwksUri', 'jwks', 'audience']],
          ['broker.federated-issuer.saved', null, false, ['jwksUri', 'jwks']],
          ['broker.federated-issuer.saved', null, true, ['jwksUri', 'jwks', 'audience']],
        ]);
        expect(log[1]!.data).toEqual({
          id: a.federatedIssuer.id,
          issuer: input.issuer,
          jwksUri: null,
          jwksKids: ['c1'],
          audience: 'keyward',
          created: false,
          changed: ['jwksUri', 'jwks'],
        });
      });
    });

    describe('signing keys', () => {
      it('inserts keys, lists them newest first with the sealed key, reschedules with broker.key.retired', async () => {
        const k1 = signingKey('k1', T1);
        const info1 = await store.insertSigningKey(k1, ctx(T1, 'broker'));
        const { sealedPrivateKey: _s1, ...expected1 } = k1;
        expect(info1).toEqual(expected1);
        await store.insertSigningKey(signingKey('k2', T2, { activatesAt: T3 }), ctx(T2, 'broker'));
        await store.insertSigningKey(signingKey('k0', T2), ctx(T2, 'broker'));
        const keys = await store.listSigningKeys();
        expect(keys.map((k) => k.kid)).toEqual(['k2', 'k0', 'k1']);
        expect(keys[2]).toEqual(k1);
        expect(keys[0]!.activatesAt).toBe(T3);

        const retired = await store.updateSigningKey(
          'k1',
          { retiresAt: T3, expiresAt: T4 },
          ctx(T3, 'broker'),
        );
        expect(retired).toEqual({ ...expected1, retiresAt: T3, expiresAt: T4 });
        const again = await store.updateSigningKey('k1', { retiresAt: T3 }, ctx(T4));
        expect(again).toEqual(retired);
        await store.updateSigningKey('k1', { expiresAt: '2026-03-01T14:00:00Z' }, ctx(T4));
        expect((await store.listSigningKeys())[2]).toEqual({
          ...k1,
          retiresAt: T3,
          expiresAt: '2026-03-01T14:00:00.000Z',
        });

        const log = await events();
        expect(log.map((e) => [e.type, e.data.kid, e.data.changed ?? null])).toEqual([
          ['broker.key.created', 'k1', null],
          ['broker.key.created', 'k2', null],
          ['broker.key.created', 'k0', null],
          ['broker.key.retired', 'k1', ['retiresAt', 'expiresAt']],
          ['broker.key.updated', 'k1', ['expiresAt']],
        ]);
        expect(log[0]!.data).toEqual({
          kid: 'k1',
          alg: 'EdDSA',
          publicJwk: k1.publicJwk,
          activatesAt: T1,
          retiresAt: null,
          expiresAt: null,
        });
        expect(JSON.stringify(log)).not.toContain('SEALED-PRIVATE-KEY-MARKER');
      });

      it('refuses a taken kid and an unknown kid', async () => {
        await store.insertSigningKey(signingKey('k1', T1), ctx());
        const err = await rejects(
          store.insertSigningKey(signingKey('k1', T2), ctx()),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(err.details).toEqual([{ path: 'kid', message: 'already exists' }]);
        await rejects(
          store.updateSigningKey('nope', { retiresAt: T2 }, ctx()),
          NotFoundError,
          'KW_NOT_FOUND',
        );
        await rejects(
          store.insertSigningKey(signingKey('k3', T1, { alg: 'HS256' as never }), ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect((await store.listSigningKeys()).length).toBe(1);
        expect((await events()).length).toBe(1);
      });
    });

    describe('revocations', () => {
      it('assigns increasing seqs, lists since a seq, prunes expired entries and never reuses a seq', async () => {
        const r1 = await store.addRevocation(
          { kind: 'jti', value: 'jti-1', expiresAt: T2, reason: 'leaked' },
          ctx(T1, 'api:admin'),
        );
        expect(r1).toEqual({
          seq: 1,
          kind: 'jti',
          value: 'jti-1',
          issuedBefore: null,
          expiresAt: T2,
          reason: 'leaked',
          actor: 'api:admin',
          createdAt: T1,
        });
        const r2 = await store.addRevocation(
          { kind: 'agent', value: 'agt_x', issuedBefore: T1, expiresAt: T4 },
          ctx(T1, 'cli'),
        );
        const r3 = await store.addRevocation(
          { kind: 'issued-before', value: '*', issuedBefore: T1, expiresAt: T3 },
          ctx(T1),
        );
        expect([r2.seq, r3.seq]).toEqual([2, 3]);
        expect(await store.listRevocationsSince(0, 100)).toEqual([r1, r2, r3]);
        expect(await store.listRevocationsSince(1, 1)).toEqual([r2]);
        expect(await store.listRevocationsSince(3, 100)).toEqual([]);

        expect(await store.pruneRevocations(T3)).toBe(2);
        expect(await store.listRevocationsSince(0, 100)).toEqual([r2]);
        const r4 = await store.addRevocation({ kind: 'task', value: 'task-9', expiresAt: T4 }, ctx(T3));
        expect(r4.seq).toBe(4);
        expect(await store.pruneRevocations(T3)).toBe(0);

        const log = await events();
        expect(log.map((e) => [e.type, e.actor, e.subject, e.data.seq])).toEqual([
          ['broker.revocation.added', 'api:admin', null, 1],
          ['broker.revocation.added', 'cli', 'agt_x', 2],
          ['broker.revocation.added', 'api:admin', null, 3],
          ['broker.revocation.added', 'api:admin', null, 4],
        ]);
        expect(log[1]!.data).toEqual({
          seq: 2,
          kind: 'agent',
          value: 'agt_x',
          issuedBefore: T1,
          expiresAt: T4,
          reason: null,
        });
      });

      it('rejects a malformed revocation without consuming a seq', async () => {
        const e1 = await rejects(
          store.addRevocation(
            { kind: 'issued-before', value: 'agt_x', issuedBefore: T1, expiresAt: T2 },
            ctx(),
          ),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(e1.details).toEqual([{ path: 'value', message: 'must be * for an issued-before revocation' }]);
        const e2 = await rejects(
          store.addRevocation({ kind: 'issued-before', value: '*', expiresAt: T2 }, ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(e2.details).toEqual([
          { path: 'issuedBefore', message: 'is required for an issued-before revocation' },
        ]);
        await rejects(
          store.addRevocation({ kind: 'user' as never, value: 'x', expiresAt: T2 }, ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        await rejects(
          store.addRevocation({ kind: 'jti', value: 'x', expiresAt: 'tomorrow' }, ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect((await store.addRevocation({ kind: 'jti', value: 'ok', expiresAt: T2 }, ctx())).seq).toBe(1);
        expect((await events()).length).toBe(1);
      });

      it('caps a read at 10,000 entries and at least 1', async () => {
        await store.addRevocation({ kind: 'jti', value: 'a', expiresAt: T2 }, ctx());
        await store.addRevocation({ kind: 'jti', value: 'b', expiresAt: T2 }, ctx());
        expect((await store.listRevocationsSince(0, 0)).map((r) => r.value)).toEqual(['a']);
        expect(MAX_BROKER_READ).toBe(10_000);
        expect((await store.listRevocationsSince(0, 1e9)).length).toBe(2);
      });
    });

    describe('approvals', () => {
      const request = (agentId: string, over: Partial<Parameters<Store['createApproval']>[0]> = {}) => ({
        agentId,
        scopes: ['tickets:delete'],
        resource: 'https://api.example.test/tickets',
        task: 'TASK-42',
        purpose: 'close duplicate tickets',
        expiresAt: T3,
        ...over,
      });

      it('paces polls (RFC 8628 slow_down): a poll sooner than the interval after the last, or the request, slows the client', async () => {
        const { agent } = await seedAgent();
        const a = await store.createApproval(request(agent.id), ctx(T1, agent.id));
        const t1 = Date.parse(T1);
        const pace = { intervalSeconds: 5, stepSeconds: 5 };
        expect(await store.recordApprovalPoll(a.id, t1 + 1000, pace)).toEqual({
          slowDown: true,
          intervalSeconds: 10,
        });
        expect(await store.recordApprovalPoll(a.id, t1 + 11_000, pace)).toEqual({
          slowDown: false,
          intervalSeconds: 10,
        });
        expect(await store.recordApprovalPoll(a.id, t1 + 15_000, pace)).toEqual({
          slowDown: true,
          intervalSeconds: 15,
        });
        expect(await store.recordApprovalPoll(a.id, t1 + 30_000, pace)).toEqual({
          slowDown: false,
          intervalSeconds: 15,
        });
        expect(await store.recordApprovalPoll('apr_none', t1, pace)).toBeNull();
      });

      it('pending → approved → used once, with one event per step', async () => {
        const { typeId, agent } = await seedAgent();
        const start = await lastSeq();
        const a = await store.createApproval(request(agent.id), ctx(T1, agent.id));
        const pending: Approval = {
          id: a.id,
          agentId: agent.id,
          agentTypeId: typeId,
          scopes: ['tickets:delete'],
          resource: 'https://api.example.test/tickets',
          task: 'TASK-42',
          purpose: 'close duplicate tickets',
          status: 'pending',
          requestedAt: T1,
          expiresAt: T3,
          decidedAt: null,
          decidedBy: null,
          reason: null,
          tokenJti: null,
        };
        expect(a).toEqual(pending);
        expect(a.id).toMatch(ID('apr'));
        expect(await store.getApproval(a.id)).toEqual(pending);
        expect(await store.getApproval('apr_missing')).toBeNull();

        const approved = await store.decideApproval(a.id, {
          status: 'approved',
          decidedBy: 'alice@example.test',
          reason: 'ok for today',
          time: T2,
        });
        expect(approved).toEqual({
          ...pending,
          status: 'approved',
          decidedAt: T2,
          decidedBy: 'alice@example.test',
          reason: 'ok for today',
        });
        const used = await store.markApprovalUsed(a.id, 'jti-approved-1', ctx(T2, 'broker'));
        expect(used).toEqual({ ...approved, tokenJti: 'jti-approved-1' });
        expect(await store.getApproval(a.id)).toEqual(used);

        const again = await rejects(
          store.markApprovalUsed(a.id, 'jti-approved-2', ctx(T2)),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(again.details).toEqual([
          { path: 'tokenJti', message: 'already set: an approval yields one token' },
        ]);
        const redecide = await rejects(
          store.decideApproval(a.id, { status: 'denied', decidedBy: 'bob@example.test', time: T2 }),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(redecide.details).toEqual([{ path: 'status', message: 'is approved, not pending' }]);

        const log = await eventsAfter(start);
        expect(log.map((e) => [e.type, e.actor, e.subject])).toEqual([
          ['broker.approval.requested', agent.id, agent.id],
          ['broker.approval.decided', 'alice@example.test', agent.id],
          ['broker.approval.used', 'broker', agent.id],
        ]);
        expect(log[1]!.data).toEqual({
          id: a.id,
          agentId: agent.id,
          agentTypeId: typeId,
          scopes: ['tickets:delete'],
          resource: 'https://api.example.test/tickets',
          task: 'TASK-42',
          purpose: 'close duplicate tickets',
          status: 'approved',
          expiresAt: T3,
          decidedBy: 'alice@example.test',
          reason: 'ok for today',
        });
        expect(log[2]!.data).toEqual({
          id: a.id,
          agentId: agent.id,
          scopes: ['tickets:delete'],
          tokenJti: 'jti-approved-1',
        });
      });

      it('a denied or pending request yields no token; a late decision is refused', async () => {
        const { agent } = await seedAgent();
        const a = await store.createApproval(
          request(agent.id, { resource: null, task: null, purpose: null }),
          ctx(T1),
        );
        expect([a.resource, a.task, a.purpose]).toEqual([null, null, null]);
        const notYet = await rejects(
          store.markApprovalUsed(a.id, 'j', ctx(T2)),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(notYet.details).toEqual([{ path: 'status', message: 'is pending, not approved' }]);
        await store.decideApproval(a.id, { status: 'denied', decidedBy: 'bob@example.test', time: T2 });
        expect((await store.getApproval(a.id))!.status).toBe('denied');
        await rejects(store.markApprovalUsed(a.id, 'j', ctx(T2)), ConflictError, 'KW_CONFLICT');

        const late = await store.createApproval(request(agent.id, { expiresAt: T2 }), ctx(T1));
        const err = await rejects(
          store.decideApproval(late.id, { status: 'approved', decidedBy: 'alice@example.test', time: T2 }),
          ConflictError,
          'KW_CONFLICT',
        );
        expect(err.details).toEqual([{ path: 'expiresAt', message: `passed at ${T2}` }]);
        expect((await store.getApproval(late.id))!.status).toBe('pending');
        await rejects(
          store.decideApproval(late.id, { status: 'expired' as never, decidedBy: 'x', time: T1 }),
          ValidationError,
          'KW_VALIDATION',
        );
        await rejects(
          store.decideApproval('apr_missing', { status: 'approved', decidedBy: 'x', time: T1 }),
          NotFoundError,
          'KW_NOT_FOUND',
        );
        await rejects(store.markApprovalUsed('apr_missing', 'j', ctx()), NotFoundError, 'KW_NOT_FOUND');
        await rejects(store.createApproval(request('agt_missing'), ctx()), NotFoundError, 'KW_NOT_FOUND');
      });

      it('expirePendingApprovals marks only overdue pending requests, one event each', async () => {
        const { agent } = await seedAgent();
        const due1 = await store.createApproval(request(agent.id, { expiresAt: T2 }), ctx(T1));
        const due2 = await store.createApproval(request(agent.id, { expiresAt: T3 }), ctx(T1));
        const later = await store.createApproval(request(agent.id, { expiresAt: T4 }), ctx(T1));
        const decided = await store.createApproval(request(agent.id, { expiresAt: T2 }), ctx(T1));
        await store.decideApproval(decided.id, {
          status: 'approved',
          decidedBy: 'alice@example.test',
          time: T1,
        });
        const start = await lastSeq();

        const expired = await store.expirePendingApprovals(T3);
        expect(expired).toEqual([
          { ...due1, status: 'expired', decidedAt: T3, decidedBy: null, reason: EXPIRED_REASON },
          { ...due2, status: 'expired', decidedAt: T3, decidedBy: null, reason: EXPIRED_REASON },
        ]);
        expect(EXPIRED_REASON).toBe('no decision before the deadline');
        expect((await store.getApproval(later.id))!.status).toBe('pending');
        expect((await store.getApproval(decided.id))!.status).toBe('approved');
        expect(await store.expirePendingApprovals(T3)).toEqual([]);
        const log = await eventsAfter(start);
        expect(log.map((e) => [e.type, e.actor, e.data.id, e.data.status])).toEqual([
          ['broker.approval.expired', 'broker', due1.id, 'expired'],
          ['broker.approval.expired', 'broker', due2.id, 'expired'],
        ]);
        await rejects(
          store.decideApproval(due1.id, { status: 'approved', decidedBy: 'alice@example.test', time: T1 }),
          ConflictError,
          'KW_CONFLICT',
        );
      });

      it('lists newest first, filtered by status and agent', async () => {
        const { typeId, agent } = await seedAgent();
        const other = await store.createAgent({ agentTypeId: typeId, name: 'worker-2', auth: auth() }, ctx());
        const a1 = await store.createApproval(request(agent.id, { expiresAt: T4 }), ctx(T1));
        const a2 = await store.createApproval(request(other.id, { expiresAt: T4 }), ctx(T2));
        const a3 = await store.createApproval(request(agent.id, { expiresAt: T4 }), ctx(T3));
        await store.decideApproval(a2.id, { status: 'denied', decidedBy: 'bob@example.test', time: T3 });
        const ids = (p: { items: Approval[] }) => p.items.map((a) => a.id);
        const all = await store.listApprovals();
        expect([ids(all), all.total]).toEqual([[a3.id, a2.id, a1.id], 3]);
        expect(ids(await store.listApprovals({ status: 'pending' }))).toEqual([a3.id, a1.id]);
        expect(ids(await store.listApprovals({ agentId: other.id }))).toEqual([a2.id]);
        expect(
          ids(await store.listApprovals({ status: 'pending', agentId: agent.id, limit: 1, offset: 1 })),
        ).toEqual([a1.id]);
      });
    });

    describe('upstreams', () => {
      it('saves by name; only getUpstream returns the sealed credential', async () => {
        const a = await store.saveUpstream(upstream(), ctx(T1));
        const summary = {
          id: a.upstream.id,
          name: 'tickets',
          baseUrl: 'https://tickets.example.test/api',
          auth: { kind: 'header', headerName: 'X-Api-Key' },
          secretFingerprint: 'a'.repeat(64),
          secretPreview: 'tk_…9xYz',
          routes: [{ scope: 'tickets:read', methods: ['GET'], paths: ['/tickets/*'] }],
          createdAt: T1,
          updatedAt: T1,
        };
        expect(a).toEqual({ upstream: summary, created: true, changed: true });
        expect(a.upstream.id).toMatch(ID('ups'));
        expect(await store.getUpstream('tickets')).toEqual({ ...summary, sealedSecret: SEALED_UPSTREAM });
        expect(await store.getUpstream('nope')).toBeNull();
        expect(await store.saveUpstream(upstream(), ctx(T2))).toEqual({
          ...a,
          created: false,
          changed: false,
        });

        const rotated = await store.saveUpstream(
          upstream({
            sealedSecret: `${SEALED_UPSTREAM}-2`,
            secretFingerprint: 'b'.repeat(64),
            secretPreview: 'tk_…AbCd',
          }),
          ctx(T3),
        );
        expect(rotated).toEqual({
          upstream: {
            ...summary,
            secretFingerprint: 'b'.repeat(64),
            secretPreview: 'tk_…AbCd',
            updatedAt: T3,
          },
          created: false,
          changed: true,
        });
        await store.saveUpstream(
          upstream({ name: 'billing', auth: { kind: 'bearer' }, routes: [] }),
          ctx(T3),
        );
        expect((await store.listUpstreams()).map((u) => u.name)).toEqual(['billing', 'tickets']);
        expect(await store.listUpstreams()).toContainEqual(rotated.upstream);

        const log = await events();
        expect(log.map((e) => [e.type, e.data.name, e.data.created, e.data.changed])).toEqual([
          [
            'broker.upstream.saved',
            'tickets',
            true,
            ['baseUrl', 'auth', 'sealedSecret', 'secretFingerprint', 'secretPreview', 'routes'],
          ],
          ['broker.upstream.saved', 'tickets', false, ['sealedSecret', 'secretFingerprint', 'secretPreview']],
          [
            'broker.upstream.saved',
            'billing',
            true,
            ['baseUrl', 'auth', 'sealedSecret', 'secretFingerprint', 'secretPreview', 'routes'],
          ],
        ]);
        expect(log[1]!.data).toEqual({
          id: a.upstream.id,
          name: 'tickets',
          baseUrl: 'https://tickets.example.test/api',
          auth: { kind: 'header', headerName: 'X-Api-Key' },
          secretFingerprint: 'b'.repeat(64),
          secretPreview: 'tk_…AbCd',
          routes: [{ scope: 'tickets:read', methods: ['GET'], paths: ['/tickets/*'] }],
          created: false,
          changed: ['sealedSecret', 'secretFingerprint', 'secretPreview'],
        });
        expect(JSON.stringify(log)).not.toContain('SEALED-UPSTREAM-MARKER');
      });

      it('rejects a header upstream without a header name', async () => {
        const err = await rejects(
          store.saveUpstream(upstream({ auth: { kind: 'header' } }), ctx()),
          ValidationError,
          'KW_VALIDATION',
        );
        expect(err.details).toEqual([{ path: 'auth.headerName', message: 'must be a non-empty string' }]);
        expect(await store.listUpstreams()).toEqual([]);
      });
    });

    describe('replay cache', () => {
      it('true on first use, false on replay, per namespace; an expired entry counts as unused', async () => {
        expect(await store.checkAndRecordReplay('dpop', 'j1', T2, T1)).toBe(true);
        expect(await store.checkAndRecordReplay('dpop', 'j1', T2, T1)).toBe(false);
        expect(await store.checkAndRecordReplay('client-assertion', 'j1', T2, T1)).toBe(true);
        expect(await store.checkAndRecordReplay('dpop', 'j1', T3, '2026-03-01T10:59:59.999Z')).toBe(false);
        expect(await store.checkAndRecordReplay('dpop', 'j1', T4, T2)).toBe(true);
        expect(await store.checkAndRecordReplay('dpop', 'j1', T4, T3)).toBe(false);
        expect(await h.raw("SELECT expires_at FROM broker_replay WHERE namespace = 'dpop'")).toEqual([
          { expires_at: T4 },
        ]);
        expect((await events()).length).toBe(0);
      });

      it('prunes expired entries at most once a minute', async () => {
        const check = (jti: string, expiresAt: string, now: string) =>
          store.checkAndRecordReplay('dpop', jti, expiresAt, now);
        const jtis = async () =>
          (await h.raw('SELECT jti FROM broker_replay ORDER BY jti')).map((r) => r.jti);
        await check('a', T2, T1);
        await check('b', '2026-03-01T12:00:30.000Z', T1);
        await check('c', T4, T1);
        expect(await jtis()).toEqual(['a', 'b', 'c']);
        await check('d', T4, T3);
        expect(await jtis()).toEqual(['b', 'c', 'd']);
        await check('e', T4, '2026-03-01T12:00:59.999Z');
        expect(await jtis()).toEqual(['b', 'c', 'd', 'e']);
        await check('f', T4, '2026-03-01T12:01:00.000Z');
        expect(await jtis()).toEqual(['c', 'd', 'e', 'f']);
      });
    });

    describe('readEventsByType', () => {
      it('filters by type and time, pages by seq, and has its index', async () => {
        const ev = (type: string, time: string) => ({ time, type, actor: 't', subject: null, data: {} });
        await store.appendEvents([
          ev('broker.token.issued', T1),
          ev('broker.token.denied', T2),
          ev('broker.token.issued', T2),
          ev('proxy.call', T3),
          ev('broker.token.issued', T3),
          ev('broker.token.issued', '2026-03-01T11:30:00.000Z'),
        ]);
        const types = ['broker.token.issued', 'proxy.call'];
        expect(seqs(await store.readEventsByType(types, T2, 100))).toEqual([3, 4, 5, 6]);
        expect(seqs(await store.readEventsByType(types, T1, 2))).toEqual([1, 3]);
        expect(seqs(await store.readEventsByType(types, T1, 2, 3))).toEqual([4, 5]);
        expect(
          seqs(await store.readEventsByType(['broker.token.denied'], '2026-03-01T06:00:00.001-05:00', 10)),
        ).toEqual([]);
        expect(
          seqs(await store.readEventsByType(['broker.token.denied'], '2026-03-01T05:00:00-05:00', 10)),
        ).toEqual([2]);
        expect(await store.readEventsByType([], T1, 10)).toEqual([]);
        const full = await store.readEventsByType(['proxy.call'], T1, 10);
        expect(full).toEqual((await events()).filter((e) => e.type === 'proxy.call'));
        expect(seqs(await store.readEventsByType(['proxy.call', 'proxy.call'], T1, 10))).toEqual([4]);
        await rejects(store.readEventsByType(types, 'last week', 10), ValidationError, 'KW_VALIDATION');
      });

      it('reads through the (type, seq, time) index', async () => {
        const filler = Array.from({ length: 2000 }, (_, i) => ({
          time: T1,
          type: `test.filler${i % 10}`,
          actor: 't',
          subject: null,
          data: {},
        }));
        await store.appendEvents(filler);
        const sql = eventsByTypeSql(['test.filler1', 'test.filler2'], T1, 100, 0);
        let i = 0;
        const literal = sql.text.replace(/\?/g, () => {
          const v = sql.params[i++];
          return typeof v === 'number' ? String(v) : `'${String(v)}'`;
        });
        const plan =
          store.dialect === 'sqlite'
            ? (await h.raw(`EXPLAIN QUERY PLAN ${literal}`)).map((r) => String(r.detail))
            : (await h.raw(`EXPLAIN ${literal}`)).map((r) => String(r['QUERY PLAN']));
        expect(plan.join('\n')).toContain('events_by_type');
        expect(seqs(await store.readEventsByType(['test.filler1', 'test.filler2'], T1, 4))).toEqual([
          2, 3, 12, 13,
        ]);
      });
    });

    describe('two store instances on one database', () => {
      it('revocation seqs stay unique, gap-free and visible to the other instance', async () => {
        const b = h.openSecond();
        await b.migrate();
        const add = (s: Store, i: number) =>
          s.addRevocation({ kind: 'jti', value: `j${i}`, expiresAt: T4 }, ctx(T1, `writer-${i % 2}`));
        const r1 = await add(store, 0);
        const r2 = await add(b, 1);
        const r3 = await add(store, 2);
        expect([r1.seq, r2.seq, r3.seq]).toEqual([1, 2, 3]);
        await Promise.all(Array.from({ length: 20 }, (_, i) => add(i % 2 ? b : store, i + 3)));
        const seen = await b.listRevocationsSince(0, 1000);
        expect(seen.map((r) => r.seq)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
        expect(new Set(seen.map((r) => r.value)).size).toBe(23);
        expect(await store.listRevocationsSince(20, 1000)).toEqual(seen.slice(20));
        const log = await events();
        // Revocation seqs are handed out in the order the writes commit, which is also the order of the log.
        expect(log.map((e) => e.data.seq)).toEqual(seen.map((r) => r.seq));
        let prev = GENESIS_HASH;
        for (const e of log) {
          const { hash, ...body } = e;
          expect([e.prevHash, hash]).toEqual([prev, hashEvent(body)]);
          prev = hash;
        }
      });

      it('a jti recorded by one instance is a replay for the other; concurrent first uses: exactly one wins', async () => {
        const b = h.openSecond();
        expect(await store.checkAndRecordReplay('dpop', 'shared', T2, T1)).toBe(true);
        expect(await b.checkAndRecordReplay('dpop', 'shared', T2, T1)).toBe(false);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? b : store).checkAndRecordReplay('dpop', 'race', T2, T1),
          ),
        );
        expect(results.filter(Boolean).length).toBe(1);
      });

      it('polls that land on two instances share one pace', async () => {
        const b = h.openSecond();
        const { agent } = await seedAgent();
        const a = await store.createApproval({ agentId: agent.id, scopes: ['x'], expiresAt: T4 }, ctx(T1));
        const t1 = Date.parse(T1);
        const pace = { intervalSeconds: 5, stepSeconds: 5 };
        expect(await store.recordApprovalPoll(a.id, t1 + 6000, pace)).toEqual({
          slowDown: false,
          intervalSeconds: 5,
        });
        expect(await b.recordApprovalPoll(a.id, t1 + 7000, pace)).toEqual({
          slowDown: true,
          intervalSeconds: 10,
        });
      });

      it('an approval is used once even when both instances try at once', async () => {
        const b = h.openSecond();
        const { agent } = await seedAgent();
        const a = await store.createApproval({ agentId: agent.id, scopes: ['x'], expiresAt: T4 }, ctx(T1));
        await b.decideApproval(a.id, { status: 'approved', decidedBy: 'alice@example.test', time: T2 });
        expect((await store.getApproval(a.id))!.status).toBe('approved');
        const results = await Promise.allSettled([
          store.markApprovalUsed(a.id, 'jti-a', ctx(T2)),
          b.markApprovalUsed(a.id, 'jti-b', ctx(T2)),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(ConflictError);
        expect((await b.listApprovals()).items[0]!.tokenJti).toMatch(/^jti-[ab]$/);
      });
    });

    describe('fail closed', () => {
      /** Every broker table's rows, to compare before and after a failed write. */
      const brokerState = async (): Promise<unknown> => {
        const tables = [
          ['broker_agent_types', 'id'],
          ['broker_agents', 'id'],
          ['broker_federated_issuers', 'id'],
          ['broker_signing_keys', 'kid'],
          ['broker_revocations', 'seq'],
          ['broker_counters', 'name'],
          ['broker_approvals', 'id'],
          ['broker_upstreams', 'id'],
          ['events', 'seq'],
        ];
        const out: Record<string, unknown> = {};
        for (const [t, key] of tables) out[t!] = await h.raw(`SELECT * FROM ${t} ORDER BY ${key}`);
        return out;
      };

      const breakEventLog = async (): Promise<void> => {
        if (store.dialect === 'sqlite') {
          await h.raw(
            "CREATE TRIGGER kw_fail_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'event log unavailable'); END",
          );
        } else {
          await h.raw(
            "CREATE FUNCTION kw_fail_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'event log unavailable'; END $$",
          );
          await h.raw(
            'CREATE TRIGGER kw_fail_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION kw_fail_events()',
          );
        }
      };

      it('when the event cannot be appended, no broker write leaves anything behind', async () => {
        const { typeId, agent } = await seedAgent();
        await store.insertSigningKey(signingKey('k1', T1), ctx());
        await store.saveUpstream(upstream(), ctx());
        await store.saveFederatedIssuer({ issuer: 'https://idp.example.test', audience: 'keyward' }, ctx());
        const pending = await store.createApproval(
          { agentId: agent.id, scopes: ['x'], expiresAt: T4 },
          ctx(T1),
        );
        const approved = await store.createApproval(
          { agentId: agent.id, scopes: ['y'], expiresAt: T4 },
          ctx(T1),
        );
        await store.decideApproval(approved.id, {
          status: 'approved',
          decidedBy: 'alice@example.test',
          time: T1,
        });
        const overdue = await store.createApproval(
          { agentId: agent.id, scopes: ['z'], expiresAt: T2 },
          ctx(T1),
        );
        await breakEventLog();
        const before = await brokerState();

        const writes: Array<[string, () => Promise<unknown>]> = [
          ['upsertAgentType (new)', () => store.upsertAgentType(agentType({ name: 'new-type' }), ctx(T3))],
          [
            'upsertAgentType (change)',
            () => store.upsertAgentType(agentType({ owner: 'o@example.test' }), ctx(T3)),
          ],
          [
            'createAgent',
            () => store.createAgent({ agentTypeId: typeId, name: 'w9', auth: auth() }, ctx(T3)),
          ],
          ['updateAgent', () => store.updateAgent(agent.id, { status: 'disabled' }, ctx(T3))],
          [
            'saveFederatedIssuer',
            () => store.saveFederatedIssuer({ issuer: 'https://x.example.test', audience: 'a' }, ctx(T3)),
          ],
          ['insertSigningKey', () => store.insertSigningKey(signingKey('k2', T3), ctx(T3))],
          ['updateSigningKey', () => store.updateSigningKey('k1', { retiresAt: T3 }, ctx(T3))],
          [
            'addRevocation',
            () => store.addRevocation({ kind: 'agent', value: agent.id, expiresAt: T4 }, ctx(T3)),
          ],
          [
            'createApproval',
            () => store.createApproval({ agentId: agent.id, scopes: ['x'], expiresAt: T4 }, ctx(T3)),
          ],
          [
            'decideApproval',
            () => store.decideApproval(pending.id, { status: 'approved', decidedBy: 'a', time: T1 }),
          ],
          ['expirePendingApprovals', () => store.expirePendingApprovals(T3)],
          ['markApprovalUsed', () => store.markApprovalUsed(approved.id, 'jti-1', ctx(T3))],
          [
            'saveUpstream',
            () => store.saveUpstream(upstream({ baseUrl: 'https://other.example.test' }), ctx(T3)),
          ],
        ];
        for (const [what, write] of writes) {
          const err = await write().then(
            () => new Error(`${what} succeeded although the event log is broken`),
            (e: unknown) => e as Error,
          );
          expect([what, err]).toEqual([what, expect.any(StoreError)]);
          expect(err.message).not.toMatch(/INSERT|UPDATE|SELECT/);
          expect(await brokerState()).toEqual(before);
        }
        expect((await store.getApproval(overdue.id))!.status).toBe('pending');

        // Writes that append no event keep working.
        await store.touchAgentUsed(agent.id, T3);
        expect(await store.checkAndRecordReplay('dpop', 'j', T4, T3)).toBe(true);
        expect(await store.pruneRevocations(T3)).toBe(0);
      });
    });

    describe('secrets', () => {
      it('no output carries a secret hash or sealed blob except the four reads that must', async () => {
        const outputs: Record<string, unknown> = {};
        const { agentType: t } = await store.upsertAgentType(agentType(), ctx(T1));
        outputs.upsertAgentType = t;
        const created = await store.createAgent({ agentTypeId: t.id, name: 'w', auth: auth() }, ctx(T1));
        outputs.createAgent = created;
        outputs.updateAgent = await store.updateAgent(
          created.id,
          { auth: { secretHash: SECRET_HASH_2 } },
          ctx(T2),
        );
        outputs.listAgents = await store.listAgents();
        outputs.insertSigningKey = await store.insertSigningKey(signingKey('k1', T1), ctx());
        outputs.updateSigningKey = await store.updateSigningKey('k1', { retiresAt: T3 }, ctx());
        outputs.saveUpstream = await store.saveUpstream(upstream(), ctx());
        outputs.listUpstreams = await store.listUpstreams();
        outputs.saveFederatedIssuer = await store.saveFederatedIssuer(
          { issuer: 'https://i.example.test', audience: 'a' },
          ctx(),
        );
        outputs.listAgentTypes = await store.listAgentTypes();
        outputs.events = await events();
        for (const [method, value] of Object.entries(outputs)) {
          const json = JSON.stringify(value);
          for (const m of MARKERS) expect([method, json.includes(m)]).toEqual([method, false]);
        }
        expect((await store.getAgent(created.id))!.auth.secretHash).toBe(SECRET_HASH_2);
        expect((await store.getAgentByClientId(created.clientId))!.auth.secretHash).toBe(SECRET_HASH_2);
        expect((await store.listSigningKeys())[0]!.sealedPrivateKey).toBe(`${SEALED_KEY}.k1`);
        expect((await store.getUpstream('tickets'))!.sealedSecret).toBe(SEALED_UPSTREAM);
      });
    });
  });
}
