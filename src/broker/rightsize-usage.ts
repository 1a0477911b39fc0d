/**
 * Usage of broker credentials, folded from the event log: which scopes each agent type and each agent got in
 * tokens (`broker.token.issued`, `broker.token.exchanged`) and used through the credential proxy (`proxy.call`),
 * how often and when last. The fold takes events one at a time, in seq order, so a reader can page through the
 * log and keep only these totals. Rightsizing (rightsize.ts) and the per-agent usage report read the totals.
 */
import { ValidationError } from '../core/errors.js';
import type { EventRecord } from '../core/types.js';
import { MAX_TTL_CAP_SECONDS, splitScope } from './broker-policy.js';

/** The event types usage is folded from. */
export const USAGE_EVENT_TYPES = ['broker.token.issued', 'broker.token.exchanged', 'proxy.call'] as const;

/** Event types that record a token being issued (by client_credentials or by token exchange). */
const ISSUE_TYPES: ReadonlySet<string> = new Set(['broker.token.issued', 'broker.token.exchanged']);

/**
 * How far before a window a reader must start so that every token used in the window was issued after the
 * start: the longest lifetime a policy may give a token. The fold needs those issuances to tell which agent
 * and resource a proxy call's token was for.
 */
export const TOKEN_LOOKBACK_MS = MAX_TTL_CAP_SECONDS * 1000;

/** An interval of time, both ends included, as ISO-8601 instants. */
export interface TimeWindow {
  from: string;
  to: string;
}

/** A count with the latest time it grew (epoch milliseconds; null while the count is 0). */
export interface Tally {
  count: number;
  lastMs: number | null;
}

/** Scope tallies per resource: resource → scope → tally. A null resource means "not known" (see proxy calls). */
export type ScopeTallies = Map<string | null, Map<string, Tally>>;

/** What the agents of one agent type got and used in the window. */
export interface AgentTypeUsage {
  /** Tokens issued or exchanged. */
  tokens: number;
  /** Calls through the proxy. */
  calls: number;
  /** Scopes carried by tokens, per token resource. */
  issued: ScopeTallies;
  /** Scopes that authorized proxy calls, per token resource (null: the resource could not be told). */
  used: ScopeTallies;
  /** Agents that got at least one token. */
  agentsWithTokens: Set<string>;
}

/** What one agent got and used in the window, per resource (its grants). */
export interface AgentUsageTotals {
  agentId: string;
  agentTypeId: string | null;
  clientId: string | null;
  tokens: Tally;
  calls: Tally;
  scopesIssued: Set<string>;
  scopesUsed: Set<string>;
  callsByUpstream: Map<string, number>;
  grants: Map<
    string | null,
    { tokens: Tally; calls: Tally; scopesIssued: Set<string>; scopesUsed: Set<string> }
  >;
}

/** The totals of a fold: per agent type id, per agent id, and how many events could not be read. */
export interface UsageTotals {
  kind: 'usage-totals';
  window: TimeWindow;
  byAgentType: Map<string, AgentTypeUsage>;
  byAgent: Map<string, AgentUsageTotals>;
  /** Events of the right types whose data lacked what the fold needs (no scopes, no agent). */
  unreadable: number;
}

/** Who an agent is, so that proxy calls (which name the client) can be put on the right agent and type. */
export interface KnownAgent {
  id: string;
  clientId: string;
  agentTypeId: string;
}

/** Options of a fold. */
export interface UsageFoldOptions {
  window: TimeWindow;
  /** Agents by client id; proxy calls name the client, not the agent. */
  agents?: Iterable<KnownAgent>;
  /**
   * The resource a proxied upstream's tokens are issued for, used when the call's token was issued before the
   * events the fold saw. Default: `keyward:upstream:<name>`, the audience the credential proxy requires.
   */
  upstreamResource?: (upstream: string) => string;
}

/** A running fold: feed events in seq order with `add`, read the totals with `totals`. */
export interface UsageFold {
  add(event: EventRecord): void;
  totals(): UsageTotals;
}

/** What the fold remembers of a token until it expires: its agent, type and resource. */
interface TokenFacts {
  agentId: string | null;
  agentTypeId: string | null;
  resource: string | null;
  expMs: number;
}

/** Once it remembers this many tokens, the fold drops the ones that have expired. */
const TOKEN_MEMORY_SWEEP = 50_000;
/** Calls with a token up to this long after its expiry still find it (clock skew between processes). */
const EXPIRY_SKEW_MS = 5 * 60_000;

/** Parses an ISO-8601 instant to epoch milliseconds; NaN when it is not one. */
export function instantMs(text: string): number {
  return Date.parse(text);
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Scopes of an event: `scopes` or `scope`, each a list or a space-separated string (as in a token). */
function scopesOf(data: Record<string, unknown>): string[] {
  for (const value of [data.scopes, data.scope]) {
    if (Array.isArray(value)) return splitScope(value.filter((s): s is string => typeof s === 'string'));
    if (typeof value === 'string') return splitScope(value);
  }
  return [];
}

/** A JWT `exp` (seconds since the epoch), milliseconds, or an ISO instant; null when none of these. */
function expiryMs(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

function bump(tally: Tally, ms: number): void {
  tally.count++;
  if (tally.lastMs === null || ms > tally.lastMs) tally.lastMs = ms;
}

function newTally(): Tally {
  return { count: 0, lastMs: null };
}

function bumpScope(tallies: ScopeTallies, resource: string | null, scope: string, ms: number): void {
  let byScope = tallies.get(resource);
  if (!byScope) tallies.set(resource, (byScope = new Map()));
  let t = byScope.get(scope);
  if (!t) byScope.set(scope, (t = newTally()));
  bump(t, ms);
}

/** Checks a window: two ISO instants, `from` not after `to`; returns them in epoch milliseconds. */
export function windowMs(window: TimeWindow): { fromMs: number; toMs: number } {
  const fromMs = instantMs(window.from);
  const toMs = instantMs(window.to);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) {
    throw new ValidationError(
      `window: expected ISO-8601 instants, got from '${window.from}' and to '${window.to}'`,
    );
  }
  if (fromMs > toMs) throw new ValidationError(`window: from (${window.from}) is after to (${window.to})`);
  return { fromMs, toMs };
}

/**
 * Starts a fold of token and proxy events into usage totals. Events outside the window are not counted, but
 * issuances before it are remembered (until their token expires) so that a call in the window made with an
 * older token is put on the right agent, type and resource. Feed events in seq order.
 * @example
 * const fold = createUsageFold({ window: { from, to }, agents });
 * for (const e of events) fold.add(e);
 * const totals = fold.totals();
 */
export function createUsageFold(options: UsageFoldOptions): UsageFold {
  const { fromMs, toMs } = windowMs(options.window);
  const upstreamResource = options.upstreamResource ?? ((name: string) => `keyward:upstream:${name}`);
  const agentsByClient = new Map<string, KnownAgent>();
  const agentsById = new Map<string, KnownAgent>();
  for (const a of options.agents ?? []) {
    agentsByClient.set(a.clientId, a);
    agentsById.set(a.id, a);
  }
  const tokens = new Map<string, TokenFacts>();
  const totals: UsageTotals = {
    kind: 'usage-totals',
    window: { from: options.window.from, to: options.window.to },
    byAgentType: new Map(),
    byAgent: new Map(),
    unreadable: 0,
  };

  const typeUsage = (id: string): AgentTypeUsage => {
    let u = totals.byAgentType.get(id);
    if (!u) {
      u = { tokens: 0, calls: 0, issued: new Map(), used: new Map(), agentsWithTokens: new Set() };
      totals.byAgentType.set(id, u);
    }
    return u;
  };
  const agentUsage = (id: string, agentTypeId: string | null, clientId: string | null): AgentUsageTotals => {
    let u = totals.byAgent.get(id);
    if (!u) {
      u = {
        agentId: id,
        agentTypeId,
        clientId,
        tokens: newTally(),
        calls: newTally(),
        scopesIssued: new Set(),
        scopesUsed: new Set(),
        callsByUpstream: new Map(),
        grants: new Map(),
      };
      totals.byAgent.set(id, u);
    }
    u.agentTypeId ??= agentTypeId;
    u.clientId ??= clientId;
    return u;
  };
  const grant = (agent: AgentUsageTotals, resource: string | null) => {
    let g = agent.grants.get(resource);
    if (!g) {
      g = {
        tokens: newTally(),
        calls: newTally(),
        scopesIssued: new Set<string>(),
        scopesUsed: new Set<string>(),
      };
      agent.grants.set(resource, g);
    }
    return g;
  };

  const lookUp = (agentId: string | null, clientId: string | null): KnownAgent | null =>
    (agentId === null ? undefined : agentsById.get(agentId)) ??
    (clientId === null ? undefined : agentsByClient.get(clientId)) ??
    null;

  // Sweeps run when the map has doubled since the last one, so their cost stays linear in the events.
  let sweepAt = TOKEN_MEMORY_SWEEP;
  const remember = (jti: string, facts: TokenFacts, nowMs: number): void => {
    if (tokens.size >= sweepAt) {
      for (const [j, t] of tokens) if (t.expMs + EXPIRY_SKEW_MS < nowMs) tokens.delete(j);
      sweepAt = Math.max(TOKEN_MEMORY_SWEEP, tokens.size * 2);
    }
    tokens.set(jti, facts);
  };

  const addIssue = (ms: number, data: Record<string, unknown>): void => {
    const jti = str(data.jti);
    const seen = jti ? tokens.get(jti) : undefined;
    const clientId = str(data.clientId);
    const known = lookUp(str(data.agentId), clientId);
    const agentId = str(data.agentId) ?? seen?.agentId ?? known?.id ?? null;
    const agentTypeId = str(data.agentTypeId) ?? seen?.agentTypeId ?? known?.agentTypeId ?? null;
    const resource = str(data.resource) ?? seen?.resource ?? null;
    const scopes = scopesOf(data);
    if (jti) {
      const expMs = expiryMs(data.exp) ?? seen?.expMs ?? ms + TOKEN_LOOKBACK_MS;
      remember(jti, { agentId, agentTypeId, resource, expMs }, ms);
      // An exchanged token is logged twice (`issued`, then `exchanged`, same jti): count it once.
      if (seen) return;
    }
    if (ms < fromMs || ms > toMs) return;
    if (scopes.length === 0 || (agentTypeId === null && agentId === null)) {
      totals.unreadable++;
      return;
    }
    if (agentTypeId !== null) {
      const t = typeUsage(agentTypeId);
      t.tokens++;
      if (agentId !== null) t.agentsWithTokens.add(agentId);
      for (const s of scopes) bumpScope(t.issued, resource, s, ms);
    }
    if (agentId !== null) {
      const a = agentUsage(agentId, agentTypeId, clientId);
      bump(a.tokens, ms);
      const g = grant(a, resource);
      bump(g.tokens, ms);
      for (const s of scopes) {
        a.scopesIssued.add(s);
        g.scopesIssued.add(s);
      }
    }
  };

  const addCall = (ms: number, data: Record<string, unknown>): void => {
    if (ms < fromMs || ms > toMs) return;
    const jti = str(data.jti);
    const token = jti ? tokens.get(jti) : undefined;
    const clientId = str(data.clientId);
    const known = lookUp(str(data.agentId), clientId);
    const agentId = str(data.agentId) ?? token?.agentId ?? known?.id ?? null;
    const agentTypeId = str(data.agentTypeId) ?? token?.agentTypeId ?? known?.agentTypeId ?? null;
    const upstream = str(data.upstream);
    const resource = str(data.resource) ?? token?.resource ?? (upstream ? upstreamResource(upstream) : null);
    const scopes = scopesOf(data);
    if (scopes.length === 0 || (agentTypeId === null && agentId === null)) {
      totals.unreadable++;
      return;
    }
    if (agentTypeId !== null) {
      const t = typeUsage(agentTypeId);
      t.calls++;
      for (const s of scopes) bumpScope(t.used, resource, s, ms);
    }
    if (agentId !== null) {
      const a = agentUsage(agentId, agentTypeId, clientId);
      bump(a.calls, ms);
      const g = grant(a, resource);
      bump(g.calls, ms);
      for (const s of scopes) {
        a.scopesUsed.add(s);
        g.scopesUsed.add(s);
      }
      if (upstream) a.callsByUpstream.set(upstream, (a.callsByUpstream.get(upstream) ?? 0) + 1);
    }
  };

  return {
    add(event: EventRecord): void {
      const ms = instantMs(event.time);
      if (Number.isNaN(ms) || event.data === null || typeof event.data !== 'object') {
        totals.unreadable++;
        return;
      }
      if (ISSUE_TYPES.has(event.type)) addIssue(ms, event.data);
      else if (event.type === 'proxy.call') addCall(ms, event.data);
    },
    totals: () => totals,
  };
}

/** Folds a list of events (in seq order) into usage totals. */
export function foldUsage(events: Iterable<EventRecord>, options: UsageFoldOptions): UsageTotals {
  const fold = createUsageFold(options);
  for (const e of events) fold.add(e);
  return fold.totals();
}

// ---------------------------------------------------------------------------------------------------------
// Per agent: the usage of each credential and grant

/** Usage of one resource by one agent (one grant): tokens, calls, scopes. */
export interface GrantUsage {
  /** The token resource; null for proxy calls whose resource could not be told. */
  resource: string | null;
  tokensIssued: number;
  lastIssued: string | null;
  proxyCalls: number;
  lastCall: string | null;
  scopesIssued: string[];
  scopesUsed: string[];
}

/** Usage of one agent's credential: when it last got a token and made a call, and which scopes it used. */
export interface AgentUsage {
  agentId: string;
  agentTypeId: string | null;
  clientId: string | null;
  tokensIssued: number;
  /** When the agent last got a token (its client credential was last used). */
  lastIssued: string | null;
  proxyCalls: number;
  /** When the agent last called an upstream through the proxy. */
  lastCall: string | null;
  /** The later of lastIssued and lastCall. */
  lastUsed: string | null;
  /** Distinct scopes carried by its tokens, sorted. */
  scopesIssued: string[];
  /** Distinct scopes that authorized its proxy calls, sorted. */
  scopesUsed: string[];
  /** Proxy calls per upstream name, keys sorted. */
  callsByUpstream: Record<string, number>;
  /** Per resource, sorted by resource (the unknown resource last). */
  grants: GrantUsage[];
}

/** Epoch milliseconds to ISO-8601, null kept. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

const sorted = (s: Iterable<string>): string[] => [...s].sort();

/** The later of two optional instants. */
export function laterMs(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.max(a, b);
}

/**
 * Usage per agent (per credential, and per resource granted to it): last issued, last call, scopes issued and
 * used, calls per upstream; sorted by agent id. Takes events (in seq order; every one counted unless a window
 * is given) or the totals of a fold.
 * @example
 * usageByAgent(events)[0]; // { agentId: 'agt_1', lastUsed: '2026-05-30T10:00:00.000Z', scopesUsed: ['repo:read'], … }
 */
export function usageByAgent(
  source: Iterable<EventRecord> | UsageTotals,
  options: Partial<Pick<UsageFoldOptions, 'agents' | 'upstreamResource'>> & { window?: TimeWindow } = {},
): AgentUsage[] {
  const totals =
    'kind' in source && source.kind === 'usage-totals'
      ? source
      : foldUsage(source as Iterable<EventRecord>, {
          ...options,
          window: options.window ?? { from: '0000-01-01T00:00:00.000Z', to: '9999-12-31T23:59:59.999Z' },
        });
  return [...totals.byAgent.values()]
    .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
    .map((a) => {
      const lastUsedMs = laterMs(a.tokens.lastMs, a.calls.lastMs);
      const grants = [...a.grants.entries()]
        .sort(([x], [y]) => (x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1))
        .map(([resource, g]): GrantUsage => ({
          resource,
          tokensIssued: g.tokens.count,
          lastIssued: isoOrNull(g.tokens.lastMs),
          proxyCalls: g.calls.count,
          lastCall: isoOrNull(g.calls.lastMs),
          scopesIssued: sorted(g.scopesIssued),
          scopesUsed: sorted(g.scopesUsed),
        }));
      return {
        agentId: a.agentId,
        agentTypeId: a.agentTypeId,
        clientId: a.clientId,
        tokensIssued: a.tokens.count,
        lastIssued: isoOrNull(a.tokens.lastMs),
        proxyCalls: a.calls.count,
        lastCall: isoOrNull(a.calls.lastMs),
        lastUsed: isoOrNull(lastUsedMs),
        scopesIssued: sorted(a.scopesIssued),
        scopesUsed: sorted(a.scopesUsed),
        callsByUpstream: Object.fromEntries(
          [...a.callsByUpstream.entries()].sort(([x], [y]) => (x < y ? -1 : 1)),
        ),
        grants,
      };
    });
}
