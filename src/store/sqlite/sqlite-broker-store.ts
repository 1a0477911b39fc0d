/**
 * The broker's half of the SQLite store. Every write runs in one IMMEDIATE transaction with the event it
 * appends, so a second process on the same file waits for it, and a failed append leaves nothing behind.
 */
import type Database from 'better-sqlite3';
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

/** What the broker methods need from the SQLite store that holds the connection. */
export interface SqliteBrokerDeps {
  db: Database.Database;
  get(sql: string, ...params: unknown[]): Row | undefined;
  all(sql: string, ...params: unknown[]): Row[];
  run(sql: string, ...params: unknown[]): Database.RunResult;
  /** Runs fn, wrapping driver errors in StoreError. */
  guard<T>(what: string, fn: () => T): Promise<T>;
  page<T>(l: ListSql, map: (r: Row) => T): Page<T>;
  /** Appends events to the hash-chained log inside the caller's transaction. */
  appendEventsTx(events: NewEvent[]): EventRecord[];
}

/** The broker methods of a SQLite store. */
export function createSqliteBrokerStore(deps: SqliteBrokerDeps): BrokerStore {
  const { db, get, all, run, guard, page, appendEventsTx } = deps;

  /** One write transaction, taking the write lock before reading. */
  const write = <T>(what: string, fn: () => T): Promise<T> =>
    guard(what, () => db.transaction(fn).immediate());

  const save = <T>(
    table: string,
    columns: readonly string[],
    values: (r: T) => unknown[],
    plan: UpsertPlan<T>,
  ): void => {
    if (plan.op === 'insert') run(insertSql(table, columns), ...values(plan.record));
    else if (plan.op === 'update') run(updateByIdSql(table, columns), ...updateValues(values(plan.record)));
  };

  const approvalNow = (id: string): Approval => {
    const r = get('SELECT * FROM broker_approvals WHERE id = ?', id);
    if (!r) throw new NotFoundError(`no approval request with id ${id}`);
    return rowToApproval(r);
  };

  const updateApproval = (a: Approval): void =>
    void run(updateByIdSql('broker_approvals', APPROVAL_COLUMNS), ...updateValues(approvalValues(a)));

  // Expired replay entries are dropped at most once per interval (by the caller's clock), not on every check.
  let lastReplayPrune = Number.NEGATIVE_INFINITY;

  return {
    upsertAgentType: (input, ctx) =>
      write('apply the agent type', () => {
        const r = get('SELECT * FROM broker_agent_types WHERE name = ?', input.name);
        const plan = planAgentType(input, r ? rowToStoredAgentType(r) : undefined, ctx.time);
        save('broker_agent_types', AGENT_TYPE_COLUMNS, (t) => agentTypeValues(t, plan.policyText), plan);
        if (plan.op !== 'none') appendEventsTx([agentTypeEvent(plan, ctx)]);
        return { agentType: plan.record, created: plan.op === 'insert', changed: plan.op !== 'none' };
      }),

    getAgentType: (idOrName) =>
      guard('read the agent type', () => {
        const r =
          get('SELECT * FROM broker_agent_types WHERE id = ?', idOrName) ??
          get('SELECT * FROM broker_agent_types WHERE name = ?', idOrName);
        return r ? rowToAgentType(r) : null;
      }),

    getAgentTypePolicyText: (idOrName) =>
      guard('read the policy text', () => {
        const sql = 'SELECT policy_text FROM broker_agent_types WHERE';
        const r = get(`${sql} id = ?`, idOrName) ?? get(`${sql} name = ?`, idOrName);
        if (!r) throw new NotFoundError(`no agent type ${idOrName}`);
        return rowToPolicyText(r);
      }),

    listAgentTypes: (q) => guard('list agent types', () => page(listAgentTypesSql(q), rowToAgentType)),

    createAgent: (input, ctx) =>
      write('register the agent', () => {
        const agent = newAgent(input, ctx.time);
        if (!get('SELECT id FROM broker_agent_types WHERE id = ?', agent.agentTypeId))
          throw new NotFoundError(`no agent type with id ${agent.agentTypeId}`);
        if (
          get(
            'SELECT id FROM broker_agents WHERE agent_type_id = ? AND name = ?',
            agent.agentTypeId,
            agent.name,
          )
        )
          throw takenError('agent', 'name', agent.name, 'in this agent type');
        if (get('SELECT id FROM broker_agents WHERE client_id = ?', agent.clientId))
          throw takenError('agent', 'clientId', agent.clientId);
        run(insertSql('broker_agents', AGENT_COLUMNS), ...agentValues(agent));
        appendEventsTx([agentRegisteredEvent(agent, ctx)]);
        return toAgentSummary(agent);
      }),

    getAgent: (id) =>
      guard('read the agent', () => {
        const r = get('SELECT * FROM broker_agents WHERE id = ?', id);
        return r ? rowToAgent(r) : null;
      }),

    getAgentByClientId: (clientId) =>
      guard('read the agent', () => {
        const r = get('SELECT * FROM broker_agents WHERE client_id = ?', clientId);
        return r ? rowToAgent(r) : null;
      }),

    listAgents: (f) =>
      guard('list agents', () => page(listAgentsSql(f), (r) => toAgentSummary(rowToAgent(r)))),

    updateAgent: (id, patch, ctx) =>
      write('update the agent', () => {
        const r = get('SELECT * FROM broker_agents WHERE id = ?', id);
        if (!r) throw new NotFoundError(`no agent with id ${id}`);
        const prev = rowToAgent(r);
        const { next, changed } = planAgentUpdate(prev, patch, ctx.time);
        if (changed.length === 0) return toAgentSummary(prev);
        if (
          changed.includes('name') &&
          get(
            'SELECT id FROM broker_agents WHERE agent_type_id = ? AND name = ? AND id <> ?',
            next.agentTypeId,
            next.name,
            id,
          )
        )
          throw takenError('agent', 'name', next.name, 'in this agent type');
        run(updateByIdSql('broker_agents', AGENT_COLUMNS), ...updateValues(agentValues(next)));
        appendEventsTx([agentUpdatedEvent(prev, next, changed, ctx)]);
        return toAgentSummary(next);
      }),

    touchAgentUsed: (id, time) =>
      guard('record agent use', () => {
        const t = isoTime(time, 'time');
        run(
          'UPDATE broker_agents SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
          t,
          id,
          t,
        );
      }),

    saveFederatedIssuer: (input, ctx) =>
      write('save the federated issuer', () => {
        const r = get('SELECT * FROM broker_federated_issuers WHERE issuer = ?', input.issuer);
        const plan = planFederatedIssuer(input, r ? rowToFederatedIssuer(r) : undefined, ctx.time);
        save('broker_federated_issuers', FEDERATED_ISSUER_COLUMNS, federatedIssuerValues, plan);
        if (plan.op !== 'none') appendEventsTx([federatedIssuerEvent(plan, ctx)]);
        return { federatedIssuer: plan.record, created: plan.op === 'insert', changed: plan.op !== 'none' };
      }),

    getFederatedIssuer: (issuer) =>
      guard('read the federated issuer', () => {
        const r = get('SELECT * FROM broker_federated_issuers WHERE issuer = ?', issuer);
        return r ? rowToFederatedIssuer(r) : null;
      }),

    listFederatedIssuers: () =>
      guard('list federated issuers', () =>
        all('SELECT * FROM broker_federated_issuers ORDER BY issuer').map(rowToFederatedIssuer),
      ),

    insertSigningKey: (key, ctx) =>
      write('store the signing key', () => {
        const k = checkSigningKey(key);
        if (get('SELECT kid FROM broker_signing_keys WHERE kid = ?', k.kid))
          throw takenError('signing key', 'kid', k.kid);
        run(insertSql('broker_signing_keys', SIGNING_KEY_COLUMNS), ...signingKeyValues(k));
        appendEventsTx([keyCreatedEvent(k, ctx)]);
        return toSigningKeyInfo(k);
      }),

    listSigningKeys: () =>
      guard('list signing keys', () =>
        all('SELECT * FROM broker_signing_keys ORDER BY created_at DESC, kid DESC').map(rowToSigningKey),
      ),

    updateSigningKey: (kid, patch, ctx) =>
      write('update the signing key', () => {
        const r = get('SELECT * FROM broker_signing_keys WHERE kid = ?', kid);
        if (!r) throw new NotFoundError(`no signing key with kid ${kid}`);
        const { next, changed } = planKeyUpdate(rowToSigningKey(r), patch);
        if (changed.length > 0) {
          run(
            updateByIdSql('broker_signing_keys', SIGNING_KEY_COLUMNS),
            ...updateValues(signingKeyValues(next)),
          );
          appendEventsTx([keyUpdatedEvent(next, changed, ctx)]);
        }
        return toSigningKeyInfo(next);
      }),

    addRevocation: (input, ctx) =>
      write('add the revocation', () => {
        const entry = newRevocation(input, ctx);
        // A counter row, not MAX(seq) + 1: pruning may delete the newest entries, and a seq is never reused.
        const seq = Number(
          get("UPDATE broker_counters SET value = value + 1 WHERE name = 'revocations' RETURNING value")!
            .value,
        );
        const r: Revocation = { seq, ...entry };
        run(insertSql('broker_revocations', REVOCATION_COLUMNS), ...revocationValues(r));
        appendEventsTx([revocationEvent(r)]);
        return r;
      }),

    listRevocationsSince: (seq, limit) =>
      guard('read revocations', () =>
        all(
          'SELECT * FROM broker_revocations WHERE seq > ? ORDER BY seq LIMIT ?',
          Math.max(0, Math.trunc(seq) || 0),
          readLimit(limit),
        ).map(rowToRevocation),
      ),

    pruneRevocations: (now) =>
      guard('prune revocations', () => {
        const t = isoTime(now, 'now');
        return run('DELETE FROM broker_revocations WHERE expires_at <= ?', t).changes;
      }),

    createApproval: (input, ctx) =>
      write('record the approval request', () => {
        const r = get('SELECT * FROM broker_agents WHERE id = ?', input.agentId);
        if (!r) throw new NotFoundError(`no agent with id ${input.agentId}`);
        const a = newApproval(input, rowToAgent(r), ctx.time);
        run(insertSql('broker_approvals', APPROVAL_COLUMNS), ...approvalValues(a));
        appendEventsTx([approvalRequestedEvent(a, ctx)]);
        return a;
      }),

    getApproval: (id) =>
      guard('read the approval request', () => {
        const r = get('SELECT * FROM broker_approvals WHERE id = ?', id);
        return r ? rowToApproval(r) : null;
      }),

    listApprovals: (f) => guard('list approval requests', () => page(listApprovalsSql(f), rowToApproval)),

    recordApprovalPoll: (id, atMs, pace) =>
      guard('record a poll of the approval request', () =>
        db
          .transaction(() => {
            const r = get(
              'SELECT requested_at, last_poll_ms, poll_interval FROM broker_approvals WHERE id = ?',
              id,
            );
            if (!r) return null;
            const plan = planApprovalPoll(r, atMs, pace);
            run(
              'UPDATE broker_approvals SET last_poll_ms = ?, poll_interval = ? WHERE id = ?',
              atMs,
              plan.intervalSeconds,
              id,
            );
            return plan;
          })
          .immediate(),
      ),

    decideApproval: (id, decision) =>
      write('decide the approval request', () => {
        const next = planDecision(approvalNow(id), decision);
        updateApproval(next);
        appendEventsTx([approvalDecidedEvent(next)]);
        return next;
      }),

    expirePendingApprovals: (now) =>
      write('expire approval requests', () => {
        const t = isoTime(now, 'now');
        const due = all(
          "SELECT * FROM broker_approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id",
          t,
        ).map((r) => expiredApproval(rowToApproval(r), t));
        for (const a of due) updateApproval(a);
        if (due.length > 0) appendEventsTx(due.map(approvalExpiredEvent));
        return due;
      }),

    markApprovalUsed: (id, jti, ctx) =>
      write('mark the approval used', () => {
        const next = planApprovalUse(approvalNow(id), jti);
        updateApproval(next);
        appendEventsTx([approvalUsedEvent(next, ctx)]);
        return next;
      }),

    saveUpstream: (input, ctx) =>
      write('save the upstream', () => {
        const r = get('SELECT * FROM broker_upstreams WHERE name = ?', input.name);
        const plan = planUpstream(input, r ? rowToUpstream(r) : undefined, ctx.time);
        save('broker_upstreams', UPSTREAM_COLUMNS, upstreamValues, plan);
        if (plan.op !== 'none') appendEventsTx([upstreamEvent(plan, ctx)]);
        return {
          upstream: toUpstreamSummary(plan.record),
          created: plan.op === 'insert',
          changed: plan.op !== 'none',
        };
      }),

    getUpstream: (name) =>
      guard('read the upstream', () => {
        const r = get('SELECT * FROM broker_upstreams WHERE name = ?', name);
        return r ? rowToUpstream(r) : null;
      }),

    listUpstreams: () =>
      guard('list upstreams', () =>
        all('SELECT * FROM broker_upstreams ORDER BY name').map((r) => toUpstreamSummary(rowToUpstream(r))),
      ),

    checkAndRecordReplay: (namespace, jti, expiresAt, now) =>
      guard('check the replay cache', () => {
        const c = checkReplay(namespace, jti, expiresAt, now);
        const nowMs = Date.parse(c.now);
        if (nowMs - lastReplayPrune >= REPLAY_PRUNE_INTERVAL_MS) {
          try {
            run('DELETE FROM broker_replay WHERE expires_at <= ?', c.now);
            lastReplayPrune = nowMs;
          } catch {
            // Pruning is housekeeping: a busy database must not fail the check itself; the next one retries.
          }
        }
        // One statement: the primary key decides, so two processes can never both see a first use. An entry
        // that has expired no longer counts and is taken over.
        return (
          run(
            'INSERT INTO broker_replay (namespace, jti, expires_at) VALUES (?, ?, ?) ' +
              'ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = excluded.expires_at ' +
              'WHERE broker_replay.expires_at <= ?',
            c.namespace,
            c.jti,
            c.expiresAt,
            c.now,
          ).changes === 1
        );
      }),

    readEventsByType: (types, since, limit, afterSeq = 0) =>
      guard('read events', () => {
        const list = checkEventTypes(types);
        if (list.length === 0) return [];
        const sql = eventsByTypeSql(
          list,
          isoTime(since, 'since'),
          readLimit(limit),
          Math.max(0, Math.trunc(afterSeq) || 0),
        );
        return all(sql.text, ...sql.params).map(rowToEvent);
      }),
  };
}
