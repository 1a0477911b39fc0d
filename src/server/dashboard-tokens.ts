/**
 * An identity's broker token activity: the broker agents linked to the inventory identity, the tokens issued
 * to them over the last 30 days (from `broker.token.issued` events), the scopes their policies grant and the
 * scopes the tokens carried.
 *
 * The broker and the inventory are separate: an agent is linked to an identity when its agent type or the
 * agent itself has the identity's name, or when the identity's `attributes.brokerAgentIds` lists the agent's
 * id or client id. No link answers zeros and empty lists.
 */
import type { AgentSummary } from '../core/broker-types.js';
import type { EventRecord, Identity } from '../core/types.js';
import type { App } from '../app/app.js';

const DAY_MS = 86_400_000;
/** Days of token history counted in `tokensIssued`. */
export const TOKEN_DAYS = 30;
/** Tokens listed in `recent`. */
export const RECENT_TOKENS = 20;
/** At most this many agents and this many events per agent are read. */
const MAX_AGENT_PAGES = 10;
const EVENTS_PER_PAGE = 1000;
const MAX_EVENT_PAGES = 20;

/** What GET /identities/{id}/tokens answers. */
export interface IdentityTokens {
  agentIds: string[];
  tokensIssued: number;
  scopesGranted: string[];
  scopesUsed: string[];
  recent: Array<{ time: string; jti: string; scope: string; audience: string | null; expiresAt?: string }>;
}

/** The broker agents linked to an identity (see the module comment), ordered by name. */
export async function linkedAgents(app: Pick<App, 'store'>, identity: Identity): Promise<AgentSummary[]> {
  const listed = identity.attributes.brokerAgentIds;
  const ids = new Set(Array.isArray(listed) ? listed.filter((x): x is string => typeof x === 'string') : []);
  const type = await app.store.getAgentType(identity.name);
  const out: AgentSummary[] = [];
  for (let page = 0; page < MAX_AGENT_PAGES; page++) {
    const { items } = await app.store.listAgents({ limit: 1000, offset: page * 1000 });
    for (const a of items) {
      if (
        a.name === identity.name ||
        (type && a.agentTypeId === type.id) ||
        ids.has(a.id) ||
        ids.has(a.clientId)
      )
        out.push(a);
    }
    if (items.length < 1000) break;
  }
  return out;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * The token activity of an identity as of `now`.
 * @example
 * const tokens = await identityTokens(app, identity, app.clock.now());
 */
export async function identityTokens(
  app: Pick<App, 'store' | 'broker'>,
  identity: Identity,
  now: Date,
): Promise<IdentityTokens> {
  const agents = await linkedAgents(app, identity);
  const since = new Date(now.getTime() - TOKEN_DAYS * DAY_MS).toISOString();
  const issued: EventRecord[] = [];
  for (const agent of agents) {
    let before: number | undefined;
    for (let page = 0; page < MAX_EVENT_PAGES; page++) {
      const { items } = await app.store.listEvents({
        subject: agent.id,
        order: 'desc',
        limit: EVENTS_PER_PAGE,
        ...(before !== undefined ? { before } : {}),
      });
      for (const e of items) if (e.type === 'broker.token.issued' && e.time >= since) issued.push(e);
      const last = items.at(-1);
      if (!last || items.length < EVENTS_PER_PAGE || last.time < since) break;
      before = last.seq;
    }
  }
  issued.sort((a, b) => (a.time !== b.time ? (a.time < b.time ? 1 : -1) : b.seq - a.seq));

  const granted = new Set<string>();
  for (const typeId of new Set(agents.map((a) => a.agentTypeId))) {
    try {
      for (const rule of (await app.broker.getPolicy(typeId)).allow)
        for (const s of rule.scopes) granted.add(s);
    } catch {
      // A policy that no longer parses grants nothing here; the broker refuses its tokens too.
    }
  }
  const used = new Set<string>();
  for (const e of issued) for (const s of strings(e.data.scopes)) used.add(s);

  return {
    agentIds: agents.map((a) => a.id),
    tokensIssued: issued.length,
    scopesGranted: [...granted].sort(),
    scopesUsed: [...used].sort(),
    recent: issued.slice(0, RECENT_TOKENS).map((e) => ({
      time: e.time,
      jti: typeof e.data.jti === 'string' ? e.data.jti : '',
      scope: strings(e.data.scopes).join(' '),
      audience: typeof e.data.resource === 'string' ? e.data.resource : null,
      ...(typeof e.data.exp === 'string' ? { expiresAt: e.data.exp } : {}),
    })),
  };
}
