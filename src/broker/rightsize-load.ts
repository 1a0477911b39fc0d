/**
 * Reads what rightsizing needs from a store: the agent types with their current policy and agents, each type's
 * policy history (`broker.agent-type.applied` events), and the token and proxy events of the window, folded into
 * usage totals page by page so that memory holds one page of events at a time.
 */
import type { EventRecord } from '../core/types.js';
import type { BrokerStore, Page } from '../store/store-types.js';
import type { BrokerPolicy } from './broker-policy.js';
import { parseBrokerPolicyValue } from './broker-policy-parse.js';
import { policyToDocument } from './broker-policy-schema.js';
import type {
  InvalidAgentType,
  PolicyHistoryEntry,
  RightsizingAgent,
  RightsizingAgentType,
  RightsizingInput,
} from './rightsize.js';
import {
  createUsageFold,
  TOKEN_LOOKBACK_MS,
  USAGE_EVENT_TYPES,
  windowMs,
  type KnownAgent,
  type TimeWindow,
  type UsageFoldOptions,
  type UsageTotals,
} from './rightsize-usage.js';

/** The event that records each applied policy version. */
export const AGENT_TYPE_APPLIED = 'broker.agent-type.applied';

/** The store methods the loader reads through. */
export type RightsizingStore = Pick<BrokerStore, 'listAgentTypes' | 'listAgents' | 'readEventsByType'>;

/** Options of the loaders. */
export interface LoadRightsizingOptions {
  window: TimeWindow;
  now: string;
  keepRecentDays?: number;
  dropIssuedNotUsed?: boolean;
  /** Events read per store call (1–10,000); default 1000. */
  pageSize?: number;
  /** See UsageFoldOptions.upstreamResource. */
  upstreamResource?: UsageFoldOptions['upstreamResource'];
}

const LIST_PAGE = 1000;
const EPOCH = '1970-01-01T00:00:00.000Z';

async function listAll<T>(list: (page: { limit: number; offset: number }) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0; ; offset += LIST_PAGE) {
    const page = await list({ limit: LIST_PAGE, offset });
    out.push(...page.items);
    if (page.items.length < LIST_PAGE || out.length >= page.total) return out;
  }
}

/** Calls `each` for every event of the types at or after `since`, in seq order, one page in memory at a time. */
async function forEachEvent(
  store: RightsizingStore,
  types: string[],
  since: string,
  pageSize: number,
  each: (event: EventRecord) => void,
): Promise<void> {
  let afterSeq = 0;
  for (;;) {
    const page = await store.readEventsByType(types, since, pageSize, afterSeq);
    for (const e of page) each(e);
    if (page.length < pageSize) return;
    afterSeq = page[page.length - 1]!.seq;
  }
}

async function loadAgents(store: RightsizingStore): Promise<Map<string, RightsizingAgent[]>> {
  const agents = await listAll((p) => store.listAgents(p));
  const byType = new Map<string, RightsizingAgent[]>();
  for (const a of agents) {
    let list = byType.get(a.agentTypeId);
    if (!list) byType.set(a.agentTypeId, (list = []));
    list.push({ id: a.id, name: a.name, clientId: a.clientId, status: a.status });
  }
  return byType;
}

function knownAgents(byType: Map<string, RightsizingAgent[]>): KnownAgent[] {
  return [...byType.entries()].flatMap(([agentTypeId, list]) =>
    list.map((a) => ({ id: a.id, clientId: a.clientId, agentTypeId })),
  );
}

/** Folds the token and proxy events of the window, starting early enough to see the tokens used in it. */
async function foldWindow(
  store: RightsizingStore,
  agents: KnownAgent[],
  options: Pick<LoadRightsizingOptions, 'window' | 'pageSize' | 'upstreamResource'>,
): Promise<UsageTotals> {
  const { fromMs } = windowMs(options.window);
  const fold = createUsageFold({
    window: options.window,
    agents,
    ...(options.upstreamResource ? { upstreamResource: options.upstreamResource } : {}),
  });
  const since = new Date(Math.max(0, fromMs - TOKEN_LOOKBACK_MS)).toISOString();
  await forEachEvent(store, [...USAGE_EVENT_TYPES], since, pageSize(options.pageSize), (e) => fold.add(e));
  return fold.totals();
}

function pageSize(size: number | undefined): number {
  return Math.min(10_000, Math.max(1, Math.trunc(size ?? 1000)));
}

/**
 * Reads a stored policy: the document form (what `agent-types apply` takes), or the normalised model form
 * (`tokens.maxTtlSeconds`), which is turned back into a document first.
 */
function readStoredPolicy(value: Record<string, unknown>, name: string) {
  const where = `agent type ${name}: policy`;
  const tokens = value.tokens as Record<string, unknown> | undefined;
  if (tokens && typeof tokens === 'object' && 'maxTtlSeconds' in tokens) {
    return parseBrokerPolicyValue(policyToDocument(value as unknown as BrokerPolicy), { where });
  }
  return parseBrokerPolicyValue(value, { where });
}

/**
 * Reads the input of computeRightsizing from a store: every agent type with its parsed policy, its agents and
 * its policy history, and the usage of the window (folded; `events` is not set). An agent type whose stored
 * policy no longer validates is listed in `invalidAgentTypes` instead.
 * @example
 * const now = new Date().toISOString();
 * const input = await loadRightsizingInput(store, { window: windowEndingAt(now, parseWindow('30d')), now });
 * const report = computeRightsizing(input);
 */
export async function loadRightsizingInput(
  store: RightsizingStore,
  options: LoadRightsizingOptions,
): Promise<RightsizingInput> {
  windowMs(options.window);
  const types = await listAll((p) => store.listAgentTypes(p));
  const agentsByType = await loadAgents(store);

  const history = new Map<string, PolicyHistoryEntry[]>(types.map((t) => [t.id, []]));
  await forEachEvent(store, [AGENT_TYPE_APPLIED], EPOCH, pageSize(options.pageSize), (e) => {
    const id = typeof e.data.id === 'string' ? e.data.id : e.subject;
    const list = id === null ? undefined : history.get(id);
    if (list && e.data.policy !== undefined) list.push({ time: e.time, policy: e.data.policy });
  });

  const agentTypes: RightsizingAgentType[] = [];
  const invalidAgentTypes: InvalidAgentType[] = [];
  for (const t of types) {
    try {
      const { policy, document } = readStoredPolicy(t.policy, t.name);
      agentTypes.push({
        id: t.id,
        name: t.name,
        policy,
        document,
        policyHistory: history.get(t.id) ?? [],
        agents: agentsByType.get(t.id) ?? [],
      });
    } catch (err) {
      invalidAgentTypes.push({ id: t.id, name: t.name, problem: (err as Error).message });
    }
  }

  const usage = await foldWindow(store, knownAgents(agentsByType), options);
  return {
    agentTypes,
    usage,
    window: options.window,
    now: options.now,
    ...(options.keepRecentDays === undefined ? {} : { keepRecentDays: options.keepRecentDays }),
    ...(options.dropIssuedNotUsed === undefined ? {} : { dropIssuedNotUsed: options.dropIssuedNotUsed }),
    invalidAgentTypes,
  };
}

/**
 * Reads the usage of the window per agent (per credential and grant) from a store; pass the result to
 * usageByAgent.
 * @example usageByAgent(await loadUsageTotals(store, { window }));
 */
export async function loadUsageTotals(
  store: RightsizingStore,
  options: Pick<LoadRightsizingOptions, 'window' | 'pageSize' | 'upstreamResource'>,
): Promise<UsageTotals> {
  windowMs(options.window);
  return foldWindow(store, knownAgents(await loadAgents(store)), options);
}
