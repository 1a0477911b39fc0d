/**
 * SQL shared by both adapters, written with `?` placeholders; the PostgreSQL adapter renumbers them to `$n`.
 * Only statements whose text is the same in both dialects live here.
 */
import { severityRank } from '../core/types.js';
import type {
  AgentFilter,
  ApprovalFilter,
  CredentialFilter,
  EventFilter,
  FindingFilter,
  GrantFilter,
  IdentityFilter,
  PageQuery,
  PersonFilter,
  ResourceFilter,
} from './store-types.js';
import { pageBounds } from './store-batch.js';

/** A statement and its parameters. */
export interface Sql {
  text: string;
  params: unknown[];
}

/** A listing: the page query and the count query over the same filter. */
export interface ListSql {
  page: Sql;
  count: Sql;
  limit: number;
  offset: number;
}

function list(
  table: string,
  where: string[],
  params: unknown[],
  orderBy: string,
  q: { limit?: number; offset?: number } | undefined,
): ListSql {
  const { limit, offset } = pageBounds(q);
  const w = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  return {
    page: {
      text: `SELECT * FROM ${table}${w} ORDER BY ${orderBy} LIMIT ? OFFSET ?`,
      params: [...params, limit, offset],
    },
    count: { text: `SELECT COUNT(*) AS n FROM ${table}${w}`, params },
    limit,
    offset,
  };
}

/** Collects WHERE conditions and their parameters. */
function conditions(): {
  where: string[];
  params: unknown[];
  add: (clause: string, ...values: unknown[]) => void;
} {
  const where: string[] = [];
  const params: unknown[] = [];
  return { where, params, add: (clause, ...values) => void (where.push(clause), params.push(...values)) };
}

/** Escapes LIKE wildcards in user text (used with ESCAPE '\\'). */
function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function listIdentitiesSql(f: IdentityFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.kind) add('kind = ?', f.kind);
  if (f.provider) add('provider = ?', f.provider);
  if (f.environment) add('environment = ?', f.environment);
  if (f.owner) add('lower(owner) = ?', f.owner.toLowerCase());
  // Exact, case-sensitive element match in both dialects (SQLite's LIKE ignores ASCII case, PostgreSQL's does
  // not): the JSON-quoted tag occurs in the stored JSON array exactly when replacing it changes the text.
  if (f.tag) add("replace(tags, ?, '') <> tags", JSON.stringify(f.tag));
  if (f.q) {
    const p = `%${likeEscape(f.q.toLowerCase())}%`;
    add(`(lower(name) LIKE ? ESCAPE '\\' OR lower(external_id) LIKE ? ESCAPE '\\')`, p, p);
  }
  if (f.minRisk !== undefined) add('risk_score >= ?', f.minRisk);
  return list(
    'identities',
    where,
    params,
    f.sort === 'risk' ? 'COALESCE(risk_score, -1) DESC, name, id' : 'name, id',
    f,
  );
}

export function listCredentialsSql(f: CredentialFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.identityId) add('identity_id = ?', f.identityId);
  if (f.type) add('type = ?', f.type);
  if (f.fingerprint) add('fingerprint = ?', f.fingerprint);
  return list('credentials', where, params, 'identity_id, recorded_at, id', f);
}

export function listGrantsSql(f: GrantFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.identityId) add('identity_id = ?', f.identityId);
  return list('grants', where, params, 'identity_id, grant_key', f);
}

export function listResourcesSql(f: ResourceFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.provider) add('provider = ?', f.provider);
  if (f.type) add('type = ?', f.type);
  return list('resources', where, params, 'provider, name', f);
}

export function listPeopleSql(f: PersonFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.status) add('status = ?', f.status);
  return list('people', where, params, 'email', f);
}

export function listFindingsSql(f: FindingFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.minSeverity) add('severity_rank >= ?', severityRank(f.minSeverity));
  if (f.owasp) add('owasp = ?', f.owasp);
  if (f.identityId) add('identity_id = ?', f.identityId);
  if (f.ruleId) add('rule_id = ?', f.ruleId);
  if (f.status) add('status = ?', f.status);
  return list('findings', where, params, 'severity_rank DESC, owasp, identity_id, id', f);
}

/** A listing of the event log and the count of its subject's events (`?` placeholders). */
export function listEventsSql(f: EventFilter): { page: Sql; count: Sql } {
  const { where, params, add } = conditions();
  if (f.subject !== undefined) add('subject = ?', f.subject);
  if (f.types !== undefined) {
    const types = f.types.slice(0, 100);
    // No type at all matches nothing (an empty IN list is not valid SQL).
    if (types.length === 0) add('1 = 0');
    else add(`type IN (${types.map(() => '?').join(', ')})`, ...types);
  }
  const countWhere = [...where];
  const countParams = [...params];
  if (f.after !== undefined) add('seq > ?', f.after);
  if (f.before !== undefined) add('seq < ?', f.before);
  const w = (c: string[]): string => (c.length ? ` WHERE ${c.join(' AND ')}` : '');
  const limit = Math.max(1, Math.min(Math.trunc(f.limit), 10_000));
  return {
    page: {
      text: `SELECT * FROM events${w(where)} ORDER BY seq ${f.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`,
      params: [...params, limit],
    },
    count: { text: `SELECT COUNT(*) AS n FROM events${w(countWhere)}`, params: countParams },
  };
}

/** `INSERT INTO t (a, b) VALUES (?, ?)` for the given columns. */
export function insertSql(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

/** `UPDATE t SET b = ?, c = ? WHERE id = ?` for every column but the first (the key). */
export function updateByIdSql(table: string, columns: readonly string[]): string {
  const [key, ...rest] = columns;
  return `UPDATE ${table} SET ${rest.map((c) => `${c} = ?`).join(', ')} WHERE ${key} = ?`;
}

/** Moves the first value (the key) to the end, to match updateByIdSql. */
export function updateValues(values: unknown[]): unknown[] {
  return [...values.slice(1), values[0]];
}

export function listAgentTypesSql(q: PageQuery = {}): ListSql {
  return list('broker_agent_types', [], [], 'name', q);
}

export function listAgentsSql(f: AgentFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.agentTypeId) add('agent_type_id = ?', f.agentTypeId);
  if (f.status) add('status = ?', f.status);
  return list('broker_agents', where, params, 'name, id', f);
}

export function listApprovalsSql(f: ApprovalFilter = {}): ListSql {
  const { where, params, add } = conditions();
  if (f.status) add('status = ?', f.status);
  if (f.agentId) add('agent_id = ?', f.agentId);
  return list('broker_approvals', where, params, 'requested_at DESC, id DESC', f);
}

/**
 * Events of some types from a time on, after a seq, in seq order. One branch per type, each a range of the
 * (type, seq, time) index read in seq order with the time checked inside the index, merged by seq: a planner
 * given `type IN (…)` walks the primary key instead and reads every older event when the window is recent.
 */
export function eventsByTypeSql(types: string[], since: string, limit: number, afterSeq: number): Sql {
  const branch = (i: number): string =>
    `SELECT * FROM (SELECT * FROM events WHERE type = ? AND time >= ? AND seq > ? ORDER BY seq LIMIT ?) AS t${i}`;
  return {
    text: `${types.map((_, i) => branch(i)).join(' UNION ALL ')} ORDER BY seq LIMIT ?`,
    params: [...types.flatMap((t) => [t, since, afterSeq, limit]), limit],
  };
}
