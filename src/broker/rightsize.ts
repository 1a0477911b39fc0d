/**
 * Rightsizing: compares what each agent type's policy allows with the scopes its agents actually got in tokens
 * and used through the proxy over a window of time, and proposes a narrower policy. Pure: the usage comes in
 * as events or as folded totals (rightsize-usage.ts), the policies and their history as values; the loader that
 * reads them from a store is in rightsize-load.ts, the text rendering in rightsize-report.ts.
 *
 * The proposal only ever removes: scopes never issued in the window are dropped, a glob scope is replaced by
 * the concrete scopes issued under it, approval lists shrink with them, and a rule left without scopes goes.
 * Scopes added to the policy within `keepRecentDays` are kept whatever their usage.
 */
import { stringify } from 'yaml';
import type { AgentSummary } from '../core/broker-types.js';
import { ValidationError } from '../core/errors.js';
import { matchesPattern } from '../core/glob-match.js';
import { DAY_MS } from '../core/time.js';
import type { EventRecord } from '../core/types.js';
import { isGlob, resourceMatches, scopeMatches, type BrokerPolicy } from './broker-policy.js';
import { parseBrokerPolicyValue } from './broker-policy-parse.js';
import { policyToDocument, type BrokerPolicyDocument } from './broker-policy-schema.js';
import { unifiedDiff } from './rightsize-diff.js';
import {
  foldUsage,
  instantMs,
  isoOrNull,
  windowMs,
  type AgentTypeUsage,
  type TimeWindow,
  type UsageTotals,
} from './rightsize-usage.js';

/** Scopes added to a policy within this many days are kept even when unused. */
export const DEFAULT_KEEP_RECENT_DAYS = 14;

/**
 * What the usage says about one allowed scope:
 * - `used`: it authorized at least one proxy call;
 * - `issued-not-used`: tokens carried it, but no proxy call was made with it (the token may have been presented
 *   to the resource directly, where Keyward does not see it);
 * - `unused`: no token carried it;
 * - `kept-recent`: not used, but added to the policy within the keep period, so it is kept;
 * - `wildcard`: a glob (`issues:*`); the concrete scopes issued under it are listed.
 */
export type RightsizingVerdict = 'used' | 'issued-not-used' | 'unused' | 'kept-recent' | 'wildcard';

/** What the proposal does with an allowed scope: keep it, remove it, or replace a glob by concrete scopes. */
export type RightsizingAction = 'keep' | 'remove' | 'replace';

/** One version of an agent type's policy: the time it was applied and the policy document. */
export interface PolicyHistoryEntry {
  time: string;
  policy: unknown;
}

/** An agent of an agent type, as far as the report shows it. */
export type RightsizingAgent = Pick<AgentSummary, 'id' | 'name' | 'clientId' | 'status'>;

/** An agent type to rightsize: its current policy, the policy's history, and its agents. */
export interface RightsizingAgentType {
  id: string;
  name: string;
  policy: BrokerPolicy;
  /** The policy document as stored; by default `policyToDocument(policy)`. The proposal edits this document. */
  document?: BrokerPolicyDocument;
  /** Every applied version, any order; tells when each scope was added. */
  policyHistory: PolicyHistoryEntry[];
  agents?: RightsizingAgent[];
}

/** An agent type whose stored policy could not be read, so it was left out. */
export interface InvalidAgentType {
  id: string;
  name: string;
  problem: string;
}

/** What computeRightsizing reads. Give `events` (token and proxy events in seq order) or folded `usage`. */
export interface RightsizingInput {
  agentTypes: RightsizingAgentType[];
  events?: Iterable<EventRecord>;
  /** Totals folded over the same window (what loadRightsizingInput gives); used instead of `events`. */
  usage?: UsageTotals;
  window: TimeWindow;
  now: string;
  /** Default 14. */
  keepRecentDays?: number;
  /**
   * Also remove scopes that tokens carried but no proxy call used. Off by default: agents may present tokens to
   * resource servers directly, and those uses never reach the event log.
   */
  dropIssuedNotUsed?: boolean;
  invalidAgentTypes?: InvalidAgentType[];
}

/** Counts and latest times of issuance and use. */
export interface ScopeCounts {
  /** Tokens that carried the scope (for a glob: the sum over the concrete scopes under it). */
  issued: number;
  /** Proxy calls the scope authorized (for a glob: the sum over the concrete scopes under it). */
  used: number;
  lastIssued: string | null;
  lastUsed: string | null;
}

/** A concrete scope issued or used under a glob. */
export interface ConcreteScopeUsage extends ScopeCounts {
  scope: string;
  verdict: 'used' | 'issued-not-used';
}

/** One allowed scope of one allow rule, with its usage, verdict and what the proposal does with it. */
export interface ScopeRow extends ScopeCounts {
  /** Index of the allow rule. */
  rule: number;
  /** The rule's resource (URI or pattern). */
  resource: string;
  scope: string;
  /**
   * When the scope was added: the earliest policy version of the unbroken run of versions, up to the latest, that
   * allow it for this resource (a scope covered by a glob in an older version counts as allowed then). Null when
   * no recorded version allows it.
   */
  firstAllowed: string | null;
  verdict: RightsizingVerdict;
  action: RightsizingAction;
  /** For `replace`: the concrete scopes that take the glob's place. */
  replaceWith: string[] | null;
  /** For a glob: the concrete scopes issued or used under it, sorted. */
  concrete: ConcreteScopeUsage[] | null;
  /** Why the action differs from what the verdict alone would give. */
  note: string | null;
}

/** A scope the proposal removes from or adds to a rule. */
export interface ProposalChange {
  rule: number;
  resource: string;
  scope: string;
}

/** The proposed narrower policy. */
export interface RightsizingProposal {
  /** False when the proposal equals the current policy. */
  changed: boolean;
  /** Why nothing is proposed, when that is not simply "every scope is needed". */
  note: string | null;
  /** The proposed policy document (the current one when nothing changes). */
  document: BrokerPolicyDocument;
  removedScopes: ProposalChange[];
  addedScopes: Array<ProposalChange & { replaces: string }>;
  /** Indexes (in the current policy) of allow rules left without scopes and removed. */
  removedRules: number[];
  /** Unified diff of the current and the proposed policy in YAML; '' when unchanged. */
  diff: string;
}

/** The rightsizing of one agent type. */
export interface AgentTypeRightsizing {
  id: string;
  name: string;
  tokensIssued: number;
  proxyCalls: number;
  rows: ScopeRow[];
  /** Agents of the type that got no token in the window, by name. */
  agentsWithoutTokens: RightsizingAgent[];
  proposal: RightsizingProposal;
}

/** The whole report. */
export interface RightsizingReport {
  window: TimeWindow;
  now: string;
  keepRecentDays: number;
  /** Scopes added at or after this instant are kept. */
  keptSince: string;
  agentTypes: AgentTypeRightsizing[];
  invalidAgentTypes: InvalidAgentType[];
  /** Token and proxy events in the window whose data could not be read (no scopes, no agent). */
  unreadableEvents: number;
}

// ---------------------------------------------------------------------------------------------------------
// Pattern overlap (conservative: "may overlap" is true whenever it cannot be ruled out cheaply)

/** True when some scope may match both patterns. */
function scopesMayOverlap(p: string, q: string): boolean {
  if (!isGlob(p) && !isGlob(q)) return p === q;
  if (!isGlob(q)) return matchesPattern(p, q);
  if (!isGlob(p)) return matchesPattern(q, p);
  return true;
}

/** True when some resource may match both resource patterns. */
function resourcesMayOverlap(p: string, q: string): boolean {
  if (!isGlob(p) && !isGlob(q)) return p === q;
  if (!isGlob(q)) return resourceMatches(p, q);
  if (!isGlob(p)) return resourceMatches(q, p);
  return true;
}

/** True when every scope pattern `q` matches is also matched by `b`. */
function patternCovers(b: string, q: string): boolean {
  // Matching q's text with b shows b ⊇ q unless a `?` of b stood for a `*` of q.
  return b === q || (matchesPattern(b, q) && (!isGlob(q) || !b.includes('?')));
}

// ---------------------------------------------------------------------------------------------------------
// Policy history

interface HistoryVersion {
  ms: number;
  time: string;
  allow: Array<{ resource: string; scopes: string[] }>;
}

/** The allow rules of a stored policy document, read leniently (older versions may not match today's schema). */
function allowRulesOf(doc: unknown): Array<{ resource: string; scopes: string[] }> {
  const allow = (doc as { allow?: unknown } | null)?.allow;
  if (!Array.isArray(allow)) return [];
  return allow.flatMap((r: unknown) => {
    const resource = (r as { resource?: unknown } | null)?.resource;
    const scopes = (r as { scopes?: unknown } | null)?.scopes;
    if (typeof resource !== 'string' || !Array.isArray(scopes)) return [];
    return [{ resource, scopes: scopes.filter((s): s is string => typeof s === 'string') }];
  });
}

function historyVersions(history: readonly PolicyHistoryEntry[]): HistoryVersion[] {
  return history
    .map((h, i) => ({ ms: instantMs(h.time), time: h.time, allow: allowRulesOf(h.policy), i }))
    .filter((h) => !Number.isNaN(h.ms))
    .sort((a, b) => a.ms - b.ms || a.i - b.i)
    .map(({ ms, time, allow }) => ({ ms, time, allow }));
}

function versionAllows(v: HistoryVersion, resource: string, scope: string): boolean {
  return v.allow.some(
    (r) =>
      r.resource === resource &&
      r.scopes.some((q) => q === scope || (!isGlob(scope) && scopeMatches(q, scope))),
  );
}

/** Start of the unbroken run of versions, up to the latest, that allow the scope for the resource. */
function firstAllowedMs(versions: readonly HistoryVersion[], resource: string, scope: string): number | null {
  let first: number | null = null;
  for (let i = versions.length - 1; i >= 0; i--) {
    if (!versionAllows(versions[i]!, resource, scope)) break;
    first = versions[i]!.ms;
  }
  return first;
}

// ---------------------------------------------------------------------------------------------------------
// Usage of a rule's scope

interface Acc {
  issued: number;
  used: number;
  lastIssuedMs: number | null;
  lastUsedMs: number | null;
}

const newAcc = (): Acc => ({ issued: 0, used: 0, lastIssuedMs: null, lastUsedMs: null });

function later(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.max(a, b);
}

function counts(acc: Acc): ScopeCounts {
  return {
    issued: acc.issued,
    used: acc.used,
    lastIssued: isoOrNull(acc.lastIssuedMs),
    lastUsed: isoOrNull(acc.lastUsedMs),
  };
}

/**
 * Usage of a scope pattern under a rule's resource: tokens whose resource the rule matches, and proxy calls whose
 * resource the rule matches or could not be told (counted for every rule that may cover them, so that a scope
 * in use is never proposed for removal). Per concrete scope too, for globs.
 */
function usageOf(
  usage: AgentTypeUsage | undefined,
  ruleResource: string,
  pattern: string,
): { total: Acc; byScope: Map<string, Acc> } {
  const total = newAcc();
  const byScope = new Map<string, Acc>();
  if (!usage) return { total, byScope };
  const at = (scope: string): Acc => {
    let a = byScope.get(scope);
    if (!a) byScope.set(scope, (a = newAcc()));
    return a;
  };
  for (const [resource, scopes] of usage.issued) {
    if (resource !== null && !resourceMatches(ruleResource, resource)) continue;
    for (const [scope, t] of scopes) {
      if (!scopeMatches(pattern, scope)) continue;
      for (const a of [total, at(scope)]) {
        a.issued += t.count;
        a.lastIssuedMs = later(a.lastIssuedMs, t.lastMs);
      }
    }
  }
  for (const [resource, scopes] of usage.used) {
    if (resource !== null && !resourceMatches(ruleResource, resource)) continue;
    for (const [scope, t] of scopes) {
      if (!scopeMatches(pattern, scope)) continue;
      for (const a of [total, at(scope)]) {
        a.used += t.count;
        a.lastUsedMs = later(a.lastUsedMs, t.lastMs);
      }
    }
  }
  return { total, byScope };
}

// ---------------------------------------------------------------------------------------------------------
// The computation

/** Writes a policy document as YAML the way the report and its diff show it. */
export function policyYaml(document: BrokerPolicyDocument): string {
  return stringify(document, { lineWidth: 0 });
}

interface Options {
  keptSinceMs: number;
  dropIssuedNotUsed: boolean;
}

function rowsOf(type: RightsizingAgentType, usage: AgentTypeUsage | undefined, opts: Options): ScopeRow[] {
  const versions = historyVersions(type.policyHistory);
  const rows: ScopeRow[] = [];
  type.policy.allow.forEach((rule, ruleIndex) => {
    for (const scope of rule.scopes) {
      const { total, byScope } = usageOf(usage, rule.resource, scope);
      const firstMs = firstAllowedMs(versions, rule.resource, scope);
      const recent = firstMs !== null && firstMs >= opts.keptSinceMs;
      const keepConcrete = (a: Acc) => a.used > 0 || (a.issued > 0 && !opts.dropIssuedNotUsed);
      const row: ScopeRow = {
        rule: ruleIndex,
        resource: rule.resource,
        scope,
        ...counts(total),
        firstAllowed: isoOrNull(firstMs),
        verdict: 'unused',
        action: 'keep',
        replaceWith: null,
        concrete: null,
        note: null,
      };
      if (isGlob(scope)) {
        row.concrete = [...byScope.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([s, a]) => ({ scope: s, ...counts(a), verdict: a.used > 0 ? 'used' : 'issued-not-used' }));
        if (recent) row.verdict = 'kept-recent';
        else {
          row.verdict = 'wildcard';
          // Concrete scopes the rule lists itself stay through their own rows.
          const replaceWith = [...byScope.entries()]
            .filter(([s, a]) => keepConcrete(a) && !rule.scopes.includes(s))
            .map(([s]) => s)
            .sort();
          row.action = replaceWith.length === 0 ? 'remove' : 'replace';
          row.replaceWith = replaceWith.length === 0 ? null : replaceWith;
        }
      } else if (total.used > 0) row.verdict = 'used';
      else if (recent) row.verdict = 'kept-recent';
      else if (total.issued > 0) {
        row.verdict = 'issued-not-used';
        if (opts.dropIssuedNotUsed) row.action = 'remove';
      } else {
        row.verdict = 'unused';
        row.action = 'remove';
      }
      rows.push(row);
    }
  });
  return rows;
}

const keep = (row: ScopeRow, note: string): void => {
  row.action = 'keep';
  row.replaceWith = null;
  row.note = note;
};

/**
 * A scope behind approval in one rule is not removed when another rule for an overlapping resource allows it
 * without approval: removing it would let tokens carry it without a person's approval.
 */
function guardApprovalAcrossRules(policy: BrokerPolicy, rows: ScopeRow[]): void {
  for (const row of rows) {
    if (row.action === 'keep') continue;
    const rule = policy.allow[row.rule]!;
    if (!rule.approval.some((a) => scopesMayOverlap(a, row.scope))) continue;
    const other = policy.allow.findIndex(
      (o, j) =>
        j !== row.rule &&
        resourcesMayOverlap(rule.resource, o.resource) &&
        o.scopes.some((q) => scopesMayOverlap(q, row.scope) && !o.approval.some((b) => patternCovers(b, q))),
    );
    if (other !== -1) {
      keep(
        row,
        `kept: it needs approval under this rule, and allow[${other}] may allow it without approval; removing it here would drop the approval`,
      );
    }
  }
}

const unique = (list: string[]): string[] => [...new Set(list)];

/**
 * The scopes and approval list of one rule after the rows' actions. An approval glob that no remaining scope
 * matches is replaced by the remaining concrete scopes it covers; when it may still overlap a remaining glob,
 * the scopes it marked are kept instead, so nothing that needed approval stops needing it.
 */
function assembleRule(
  rule: BrokerPolicy['allow'][number],
  rows: ScopeRow[],
): { scopes: string[]; approval: string[] } {
  for (;;) {
    const scopes = unique(
      rows.flatMap((r) => (r.action === 'keep' ? [r.scope] : r.action === 'replace' ? r.replaceWith! : [])),
    );
    const approval: string[] = [];
    let restored = false;
    for (const a of rule.approval) {
      if (scopes.some((s) => scopeMatches(s, a))) approval.push(a);
      else if (!isGlob(a)) continue;
      else if (scopes.some((s) => isGlob(s) && scopesMayOverlap(s, a))) {
        for (const r of rows) {
          if (r.action !== 'keep' && scopeMatches(r.scope, a)) {
            keep(r, `kept: approval pattern ${a} also covers scopes a remaining glob allows`);
            restored = true;
          }
        }
      } else approval.push(...scopes.filter((c) => !isGlob(c) && matchesPattern(a, c)));
    }
    if (!restored) return { scopes, approval: unique(approval) };
  }
}

function unchanged(current: BrokerPolicyDocument, note: string | null): RightsizingProposal {
  return {
    changed: false,
    note,
    document: current,
    removedScopes: [],
    addedScopes: [],
    removedRules: [],
    diff: '',
  };
}

function propose(type: RightsizingAgentType, rows: ScopeRow[], idle: boolean): RightsizingProposal {
  const fromModel = policyToDocument(type.policy);
  const current =
    type.document && type.document.allow.length === type.policy.allow.length ? type.document : fromModel;
  if (idle) {
    // The proposal's note says why; the rows keep their verdicts.
    for (const row of rows) {
      row.action = 'keep';
      row.replaceWith = null;
    }
    return unchanged(
      current,
      'no token was issued to agents of this type in the window, so there is no usage to narrow the policy to',
    );
  }
  guardApprovalAcrossRules(type.policy, rows);
  const removedRules: number[] = [];
  const allow: BrokerPolicyDocument['allow'] = [];
  current.allow.forEach((docRule, i) => {
    const rule = type.policy.allow[i]!;
    const { scopes, approval } = assembleRule(
      rule,
      rows.filter((r) => r.rule === i),
    );
    if (scopes.length === 0) {
      removedRules.push(i);
      return;
    }
    // Keep the rule's fields in the order they were written.
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(docRule)) {
      if (key === 'scopes') out.scopes = scopes;
      else if (key === 'approval' || key === 'approvalTimeout') {
        if (approval.length > 0) out[key] = key === 'approval' ? approval : value;
      } else out[key] = value;
    }
    allow.push(out as BrokerPolicyDocument['allow'][number]);
  });
  if (JSON.stringify(allow) === JSON.stringify(current.allow)) return unchanged(current, null);
  const document: BrokerPolicyDocument = { ...current, allow };
  try {
    // Defence in depth: a proposal that would not be accepted is not shown.
    parseBrokerPolicyValue(document, { expectedAgentType: type.policy.agentType });
  } catch (err) {
    return unchanged(
      current,
      `the narrowed policy did not validate (${(err as Error).message}); nothing is proposed`,
    );
  }
  const removedScopes: ProposalChange[] = [];
  const addedScopes: Array<ProposalChange & { replaces: string }> = [];
  for (const r of rows) {
    if (r.action === 'keep') continue;
    removedScopes.push({ rule: r.rule, resource: r.resource, scope: r.scope });
    for (const s of r.replaceWith ?? [])
      addedScopes.push({ rule: r.rule, resource: r.resource, scope: s, replaces: r.scope });
  }
  const diff = unifiedDiff(policyYaml(current), policyYaml(document), {
    fromLabel: `${type.name} (current)`,
    toLabel: `${type.name} (proposed)`,
  });
  return { changed: true, note: null, document, removedScopes, addedScopes, removedRules, diff };
}

/**
 * Compares each agent type's allowed scopes with the scopes issued and used in the window, and proposes a
 * narrower policy. Never widens: every (resource, scope) the proposal allows, the current policy allows, and
 * every scope that needed a person's approval still does.
 * @example
 * const report = computeRightsizing({
 *   agentTypes: [{ id: 'aty_1', name: 'support-agent', policy, policyHistory: [{ time, policy: document }] }],
 *   events,
 *   window: { from: '2026-05-02T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' },
 *   now: '2026-06-01T00:00:00.000Z',
 * });
 * report.agentTypes[0].rows; // [{ scope: 'repo:read', verdict: 'used', action: 'keep', … }, …]
 * report.agentTypes[0].proposal.diff; // '--- support-agent (current)\n+++ support-agent (proposed)\n@@ …'
 */
export function computeRightsizing(input: RightsizingInput): RightsizingReport {
  windowMs(input.window);
  const nowMs = instantMs(input.now);
  if (Number.isNaN(nowMs)) throw new ValidationError(`now: expected an ISO-8601 instant, got '${input.now}'`);
  const keepRecentDays = input.keepRecentDays ?? DEFAULT_KEEP_RECENT_DAYS;
  if (!Number.isFinite(keepRecentDays) || keepRecentDays < 0) {
    throw new ValidationError(`keepRecentDays: expected a number of days (0 or more), got ${keepRecentDays}`);
  }
  const keptSinceMs = nowMs - keepRecentDays * DAY_MS;
  const usage =
    input.usage ??
    foldUsage(input.events ?? [], {
      window: input.window,
      agents: input.agentTypes.flatMap((t) =>
        (t.agents ?? []).map((a) => ({ id: a.id, clientId: a.clientId, agentTypeId: t.id })),
      ),
    });
  const opts: Options = { keptSinceMs, dropIssuedNotUsed: input.dropIssuedNotUsed ?? false };
  const agentTypes = [...input.agentTypes]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((type): AgentTypeRightsizing => {
      const u = usage.byAgentType.get(type.id);
      const rows = rowsOf(type, u, opts);
      const idle = !u || (u.tokens === 0 && u.calls === 0);
      const proposal = propose(type, rows, idle);
      return {
        id: type.id,
        name: type.name,
        tokensIssued: u?.tokens ?? 0,
        proxyCalls: u?.calls ?? 0,
        rows,
        agentsWithoutTokens: (type.agents ?? [])
          .filter((a) => !u?.agentsWithTokens.has(a.id))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .map((a) => ({ id: a.id, name: a.name, clientId: a.clientId, status: a.status })),
        proposal,
      };
    });
  return {
    window: { from: input.window.from, to: input.window.to },
    now: input.now,
    keepRecentDays,
    keptSince: new Date(keptSinceMs).toISOString(),
    agentTypes,
    invalidAgentTypes: input.invalidAgentTypes ?? [],
    unreadableEvents: usage.unreadable,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The --window option

const WINDOW = /^(\d{1,6})([dhm])$/;
const UNIT_MS = { d: DAY_MS, h: 3_600_000, m: 60_000 } as const;
/** Longest window accepted: ten years. */
export const MAX_WINDOW_MS = 3650 * DAY_MS;

/**
 * Parses a window length such as `30d`, `12h` or `90m` into milliseconds; ValidationError naming the option
 * (default `--window`) when the text is not one.
 * @example parseWindow('30d'); // 2592000000
 */
export function parseWindow(text: string, option = '--window'): number {
  const fail = (why: string): never => {
    throw new ValidationError(`${option}: ${why}`, { details: [{ path: option, message: why }] });
  };
  const m = WINDOW.exec(text.trim());
  if (!m) {
    return fail(
      `'${text}' is not a window length; write a whole number and a unit: 30d (days), 12h (hours) or 90m (minutes)`,
    );
  }
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms === 0) return fail('must be longer than 0');
  if (ms > MAX_WINDOW_MS) return fail(`'${text}' is longer than 3650d (ten years)`);
  return ms;
}

/** The window of the given length ending at `now`: `{ from: now − length, to: now }`. */
export function windowEndingAt(now: string | Date, lengthMs: number): TimeWindow {
  const end = typeof now === 'string' ? instantMs(now) : now.getTime();
  if (Number.isNaN(end)) throw new ValidationError(`now: expected an ISO-8601 instant, got '${String(now)}'`);
  return { from: new Date(end - lengthMs).toISOString(), to: new Date(end).toISOString() };
}
