/**
 * The broker's half of the PostgreSQL store. Every write runs in one transaction with the event it appends and
 * first takes the schema's broker advisory lock, so replicas sharing the database check uniqueness and state
 * transitions against what the others committed; a failed append rolls the whole write back.
 */
import type pg from 'pg';
import type { PoolClient } from 'pg';
import {
  toAgentSummary,
  toSigningKeyInfo,
  toUpstreamSummary,
  type Approval,
  type Revocation,
} from '../../core/broker-types.js';
import { NotFoundError } from '../../core/errors.js';
import type { EventRecord, NewEvent } from '../../core/types.js';
import {
  agentRegisteredEvent,
  agentTypeEvent,
  agentUpdatedEvent,
  approvalDecidedEvent,
  approvalExpiredEvent,
  approvalRequestedEvent,
  approvalUsedEvent,
  checkEventTypes,
  checkReplay,
  checkSigningKey,
  expiredApproval,
  federatedIssuerEvent,
  isoTime,
  keyCreatedEvent,
  keyUpdatedEvent,
  newAgent,
  newApproval,
  newRevocation,
  planAgentType,
  planAgentUpdate,
  planApprovalPoll,
  planApprovalUse,
  planDecision,
  planFederatedIssuer,
  planKeyUpdate,
  planUpstream,
  readLimit,
  REPLAY_PRUNE_INTERVAL_MS,
  revocationEvent,
  takenError,
  upstreamEvent,
  type UpsertPlan,
} from '../store-broker-plan.js';
import {
  AGENT_COLUMNS,
  AGENT_TYPE_COLUMNS,
  agentTypeValues,
  agentValues,
  APPROVAL_COLUMNS,
  approvalValues,
  FEDERATED_ISSUER_COLUMNS,
  federatedIssuerValues,
  REVOCATION_COLUMNS,
  revocationValues,
  rowToAgent,
  rowToAgentType,
  rowToStoredAgentType,
  rowToPolicyText,
  rowToApproval,
  rowToEvent,
  rowToFederatedIssuer,
  rowToRevocation,
  rowToSigningKey,
  rowToUpstream,
  SIGNING_KEY_COLUMNS,
  signingKeyValues,
  UPSTREAM_COLUMNS,
  upstreamValues,
  type Row,
} from '../store-rows.js';
import {
  eventsByTypeSql,
  insertSql,
  listAgentsSql,
  listAgentTypesSql,
  listApprovalsSql,
  updateByIdSql,
  updateValues,
  type ListSql,
} from '../store-queries.js';
import type { BrokerStore, Page } from '../store-types.js';
import { renumberPlaceholders, type Queryable } from './postgres-bulk.js';

/** What the broker methods need from the PostgreSQL store that holds the pool. */
export interface PostgresBrokerDeps {
  pool: pg.Pool;
  /** Runs fn in one transaction on one connection. */
  tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T>;
  /** Takes the schema's broker advisory lock until the transaction ends. */
  lockBroker(c: Queryable): Promise<void>;
  /** Runs a `?`-placeholder statement and returns its rows. */
  q(db: Queryable, sql: string, params?: unknown[]): Promise<Row[]>;
  one(db: Queryable, sql: string, params?: unknown[]): Promise<Row | undefined>;
  /** Runs fn, wrapping driver errors in StoreError. */
  guard<T>(what: string, fn: () => Promise<T>): Promise<T>;
  page<T>(l: ListSql, map: (rows: Row[]) => Promise<T[]> | T[]): Promise<Page<T>>;
  /** Appends events to the hash-chained log inside the caller's transaction. */
  appendEventsTx(c: Queryable, events: NewEvent[]): Promise<EventRecord[]>;
}

/** The broker methods of a PostgreSQL store. */
export function createPostgresBrokerStore(deps: PostgresBrokerDeps): BrokerStore {
  const { pool, tx, lockBroker, q, one, guard, page, appendEventsTx } = deps;

  /** One write transaction holding the broker lock. */
  const write = <T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> =>
    guard(what, () =>
      tx(async (c) => {
        await lockBroker(c);
        return fn(c);
      }),
    );

  const save = async <T>(
    c: Queryable,
    table: string,
    columns: readonly string[],
    values: (r: T) => unknown[],
    plan: UpsertPlan<T>,
  ): Promise<void> => {
    if (plan.op === 'insert') await q(c, insertSql(table, columns), values(plan.record));
    else if (plan.op === 'update')
      await q(c, updateByIdSql(table, columns), updateValues(values(plan.record)));
  };

  const approvalNow = async (c: Queryable, id: string): Promise<Approval> => {
    const r = await one(c, 'SELECT * FROM broker_approvals WHERE id = ?', [id]);
    if (!r) throw new NotFoundError(`no approval request with id ${id}`);
    return rowToApproval(r);
  };

  const updateApproval = async (c: Queryable, a: Approval): Promise<void> =>
    void (await q(c, updateByIdSql('broker_approvals', APPROVAL_COLUMNS), updateValues(approvalValues(a))));

  // Expired replay entries are dropped at most once per interval (by the caller's clock), not on every check.
  let lastReplayPrune = Number.NEGATIVE_INFINITY;

  return {
    upsertAgentType: (input, ctx) =>
      write('apply the agent type', async (c) => {
        const r = await one(c, 'SELECT * FROM broker_agent_types WHERE name = ?', [input.name]);
        const plan = planAgentType(input, r ? rowToStoredAgentType(r) : undefined, ctx.time);
        await save(
          c,
          'broker_agent_types',
          AGENT_TYPE_COLUMNS,
          (t) => agentTypeValues(t, plan.policyText),
          plan,
        );
        if (plan.op !== 'none') await appendEventsTx(c, [agentTypeEvent(plan, ctx)]);
        return { agentType: plan.record, created: plan.op === 'insert', changed: plan.op !== 'none' };
      }),

    getAgentType: (idOrName) =>
      guard('read the agent type', async () => {
        const r =
          (await one(pool, 'SELECT * FROM broker_agent_types WHERE id = ?', [idOrName])) ??
          (await one(pool, 'SELECT * FROM broker_agent_types WHERE name = ?', [idOrName]));
        return r ? rowToAgentType(r) : null;
      }),

    getAgentTypePolicyText: (idOrName) =>
      guard('read the policy text', async () => {
        const sql = 'SELECT policy_text FROM broker_agent_types WHERE';
        const r =
          (await one(pool, `${sql} id = ?`, [idOrName])) ?? (await one(pool, `${sql} name = ?`, [idOrName]));
        if (!r) throw new NotFoundError(`no agent type ${idOrName}`);
        return rowToPolicyText(r);
      }),

    listAgentTypes: (pq) =>
      guard('list agent types', () => page(listAgentTypesSql(pq), (rows) => rows.map(rowToAgentType))),

    createAgent: (input, ctx) =>
      write('register the agent', async (c) => {
        const agent = newAgent(input, ctx.time);
        if (!(await one(c, 'SELECT id FROM broker_agent_types WHERE id = ?', [agent.agentTypeId])))
          throw new NotFoundError(`no agent type with id ${agent.agentTypeId}`);
        if (
          await one(c, 'SELECT id FROM broker_agents WHERE agent_type_id = ? AND name = ?', [
            agent.agentTypeId,
            agent.name,
          ])
        )
          throw takenError('agent', 'name', agent.name, 'in this agent type');
        if (await one(c, 'SELECT id FROM broker_agents WHERE client_id = ?', [agent.clientId]))
          throw takenError('agent', 'clientId', agent.clientId);
        await q(c, insertSql('broker_agents', AGENT_COLUMNS), agentValues(agent));
        await appendEventsTx(c, [agentRegisteredEvent(agent, ctx)]);
        return toAgentSummary(agent);
      }),

    getAgent: (id) =>
      guard('read the agent', async () => {
        const r = await one(pool, 'SELECT * FROM broker_agents WHERE id = ?', [id]);
        return r ? rowToAgent(r) : null;
      }),

    getAgentByClientId: (clientId) =>
      guard('read the agent', async () => {
        const r = await one(pool, 'SELECT * FROM broker_agents WHERE client_id = ?', [clientId]);
        return r ? rowToAgent(r) : null;
      }),

    listAgents: (f) =>
      guard('list agents', () =>
        page(listAgentsSql(f), (rows) => rows.map((r) => toAgentSummary(rowToAgent(r)))),
      ),

    updateAgent: (id, patch, ctx) =>
      write('update the agent', async (c) => {
        const r = await one(c, 'SELECT * FROM broker_agents WHERE id = ?', [id]);
        if (!r) throw new NotFoundError(`no agent with id ${id}`);
        const prev = rowToAgent(r);
        const { next, changed } = planAgentUpdate(prev, patch, ctx.time);
        if (changed.length === 0) return toAgentSummary(prev);
        if (
          changed.includes('name') &&
          (await one(c, 'SELECT id FROM broker_agents WHERE agent_type_id = ? AND name = ? AND id <> ?', [
            next.agentTypeId,
            next.name,
            id,
          ]))
        )
          throw takenError('agent', 'name', next.name, 'in this agent type');
        await q(c, updateByIdSql('broker_agents', AGENT_COLUMNS), updateValues(agentValues(next)));
        await appendEventsTx(c, [agentUpdatedEvent(prev, next, changed, ctx)]);
        return toAgentSummary(next);
      }),

    touchAgentUsed: (id, time) =>
      guard('record agent use', async () => {
        const t = isoTime(time, 'time');
        await q(
          pool,
          'UPDATE broker_agents SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
          [t, id, t],
        );
      }),

    saveFederatedIssuer: (input, ctx) =>
      write('save the federated issuer', async (c) => {
        const r = await one(c, 'SELECT * FROM broker_federated_issuers WHERE issuer = ?', [input.issuer]);
        const plan = planFederatedIssuer(input, r ? rowToFederatedIssuer(r) : undefined, ctx.time);
        await save(c, 'broker_federated_issuers', FEDERATED_ISSUER_COLUMNS, federatedIssuerValues, plan);
        if (plan.op !== 'none') await appendEventsTx(c, [federatedIssuerEvent(plan, ctx)]);
        return { federatedIssuer: plan.record, created: plan.op === 'insert', changed: plan.op !== 'none' };
      }),

    getFederatedIssuer: (issuer) =>
      guard('read the federated issuer', async () => {
        const r = await one(pool, 'SELECT * FROM broker_federated_issuers WHERE issuer = ?', [issuer]);
        return r ? rowToFederatedIssuer(r) : null;
      }),

    listFederatedIssuers: () =>
      guard('list federated issuers', async () =>
        (await q(pool, 'SELECT * FROM broker_federated_issuers ORDER BY issuer')).map(rowToFederatedIssuer),
      ),

    insertSigningKey: (key, ctx) =>
      write('store the signing key', async (c) => {
        const k = checkSigningKey(key);
        if (await one(c, 'SELECT kid FROM broker_signing_keys WHERE kid = ?', [k.kid]))
          throw takenError('signing key', 'kid', k.kid);
        await q(c, insertSql('broker_signing_keys', SIGNING_KEY_COLUMNS), signingKeyValues(k));
        await appendEventsTx(c, [keyCreatedEvent(k, ctx)]);
        return toSigningKeyInfo(k);
      }),

    listSigningKeys: () =>
      guard('list signing keys', async () =>
        (await q(pool, 'SELECT * FROM broker_signing_keys ORDER BY created_at DESC, kid DESC')).map(
          rowToSigningKey,
        ),
      ),

    updateSigningKey: (kid, patch, ctx) =>
      write('update the signing key', async (c) => {
        const r = await one(c, 'SELECT * FROM broker_signing_keys WHERE kid = ?', [kid]);
        if (!r) throw new NotFoundError(`no signing key with kid ${kid}`);
        const { next, changed } = planKeyUpdate(rowToSigningKey(r), patch);
        if (changed.length > 0) {
          await q(
            c,
            updateByIdSql('broker_signing_keys', SIGNING_KEY_COLUMNS),
            updateValues(signingKeyValues(next)),
          );
          await appendEventsTx(c, [keyUpdatedEvent(next, changed, ctx)]);
        }
        return toSigningKeyInfo(next);
      }),

    addRevocation: (input, ctx) =>
      write('add the revocation', async (c) => {
        const entry = newRevocation(input, ctx);
        // The counter row stays locked until COMMIT, so seqs are handed out in commit order: a process that
        // has read up to seq n never later finds an entry below n appear. A counter rather than MAX(seq) + 1
        // because pruning may delete the newest entries, and a seq is never reused.
        const seq = Number(
          (await one(
            c,
            "UPDATE broker_counters SET value = value + 1 WHERE name = 'revocations' RETURNING value",
          ))!.value,
        );
        const r: Revocation = { seq, ...entry };
        await q(c, insertSql('broker_revocations', REVOCATION_COLUMNS), revocationValues(r));
        await appendEventsTx(c, [revocationEvent(r)]);
        return r;
      }),

    listRevocationsSince: (seq, limit) =>
      guard('read revocations', async () =>
        (
          await q(pool, 'SELECT * FROM broker_revocations WHERE seq > ? ORDER BY seq LIMIT ?', [
            Math.max(0, Math.trunc(seq) || 0),
            readLimit(limit),
          ])
        ).map(rowToRevocation),
      ),

    pruneRevocations: (now) =>
      guard('prune revocations', async () => {
        const t = isoTime(now, 'now');
        const res = await pool.query(
          renumberPlaceholders('DELETE FROM broker_revocations WHERE expires_at <= ?'),
          [t],
        );
        return res.rowCount ?? 0;
      }),

    createApproval: (input, ctx) =>
      write('record the approval request', async (c) => {
        const r = await one(c, 'SELECT * FROM broker_agents WHERE id = ?', [input.agentId]);
        if (!r) throw new NotFoundError(`no agent with id ${input.agentId}`);
        const a = newApproval(input, rowToAgent(r), ctx.time);
        await q(c, insertSql('broker_approvals', APPROVAL_COLUMNS), approvalValues(a));
        await appendEventsTx(c, [approvalRequestedEvent(a, ctx)]);
        return a;
      }),

    getApproval: (id) =>
      guard('read the approval request', async () => {
        const r = await one(pool, 'SELECT * FROM broker_approvals WHERE id = ?', [id]);
        return r ? rowToApproval(r) : null;
      }),

    listApprovals: (f) =>
      guard('list approval requests', () => page(listApprovalsSql(f), (rows) => rows.map(rowToApproval))),

    recordApprovalPoll: (id, atMs, pace) =>
      guard('record a poll of the approval request', () =>
        tx(async (c) => {
          const r = await one(
            c,
            'SELECT requested_at, last_poll_ms, poll_interval FROM broker_approvals WHERE id = ? FOR UPDATE',
            [id],
          );
          if (!r) return null;
          const plan = planApprovalPoll(r, atMs, pace);
          await q(c, 'UPDATE broker_approvals SET last_poll_ms = ?, poll_interval = ? WHERE id = ?', [
            atMs,
            plan.intervalSeconds,
            id,
          ]);
          return plan;
        }),
      ),

    decideApproval: (id, decision) =>
      write('decide the approval request', async (c) => {
        const next = planDecision(await approvalNow(c, id), decision);
        await updateApproval(c, next);
        await appendEventsTx(c, [approvalDecidedEvent(next)]);
        return next;
      }),

    expirePendingApprovals: (now) =>
      write('expire approval requests', async (c) => {
        const t = isoTime(now, 'now');
        const due = (
          await q(
            c,
            "SELECT * FROM broker_approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id",
            [t],
          )
        ).map((r) => expiredApproval(rowToApproval(r), t));
        for (const a of due) await updateApproval(c, a);
        if (due.length > 0) await appendEventsTx(c, due.map(approvalExpiredEvent));
        return due;
      }),

    markApprovalUsed: (id, jti, ctx) =>
      write('mark the approval used', async (c) => {
        const next = planApprovalUse(await approvalNow(c, id), jti);
        await updateApproval(c, next);
        await appendEventsTx(c, [approvalUsedEvent(next, ctx)]);
        return next;
      }),

    saveUpstream: (input, ctx) =>
      write('save the upstream', async (c) => {
        const r = await one(c, 'SELECT * FROM broker_upstreams WHERE name = ?', [input.name]);
        const plan = planUpstream(input, r ? rowToUpstream(r) : undefined, ctx.time);
        await save(c, 'broker_upstreams', UPSTREAM_COLUMNS, upstreamValues, plan);
        if (plan.op !== 'none') await appendEventsTx(c, [upstreamEvent(plan, ctx)]);
        return {
          upstream: toUpstreamSummary(plan.record),
          created: plan.op === 'insert',
          changed: plan.op !== 'none',
        };
      }),

    getUpstream: (name) =>
      guard('read the upstream', async () => {
        const r = await one(pool, 'SELECT * FROM broker_upstreams WHERE name = ?', [name]);
        return r ? rowToUpstream(r) : null;
      }),

    listUpstreams: () =>
      guard('list upstreams', async () =>
        (await q(pool, 'SELECT * FROM broker_upstreams ORDER BY name')).map((r) =>
          toUpstreamSummary(rowToUpstream(r)),
        ),
      ),

    checkAndRecordReplay: (namespace, jti, expiresAt, now) =>
      guard('check the replay cache', async () => {
        const c = checkReplay(namespace, jti, expiresAt, now);
        const nowMs = Date.parse(c.now);
        if (nowMs - lastReplayPrune >= REPLAY_PRUNE_INTERVAL_MS) {
          lastReplayPrune = nowMs;
          try {
            await q(pool, 'DELETE FROM broker_replay WHERE expires_at <= ?', [c.now]);
          } catch {
            // Pruning is housekeeping (two replicas pruning at once may deadlock): it must not fail the check.
            lastReplayPrune = Number.NEGATIVE_INFINITY;
          }
        }
        // One statement: the primary key decides, so two processes can never both see a first use (the second
        // waits for the first to commit, then finds the conflict). An expired entry no longer counts and is
        // taken over.
        const rows = await q(
          pool,
          'INSERT INTO broker_replay (namespace, jti, expires_at) VALUES (?, ?, ?) ' +
            'ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = excluded.expires_at ' +
            'WHERE broker_replay.expires_at <= ? RETURNING jti',
          [c.namespace, c.jti, c.expiresAt, c.now],
        );
        return rows.length === 1;
      }),

    readEventsByType: (types, since, limit, afterSeq = 0) =>
      guard('read events', async () => {
        const list = checkEventTypes(types);
        if (list.length === 0) return [];
        const sql = eventsByTypeSql(
          list,
          isoTime(since, 'since'),
          readLimit(limit),
          Math.max(0, Math.trunc(afterSeq) || 0),
        );
        return (await q(pool, sql.text, sql.params)).map(rowToEvent);
      }),
  };
}
