/**
 * The policy decision for a token request: which of the requested scopes an agent gets for a resource, for how
 * long, whether a person must approve some of them, or why the request is refused (with the OAuth error code
 * the token endpoint answers with). Pure: everything it looks at comes in as arguments.
 */
import {
  MAX_CLAIM_LENGTH,
  cidrContains,
  describeTimeWindow,
  describeValue,
  formatClock,
  formatDuration,
  formatIp,
  inTimeWindow,
  isGlob,
  isScopeToken,
  localClock,
  parseCidr,
  parseIp,
  resourceMatches,
  resourceProblem,
  scopeMatches,
  sourceLine,
  splitScope,
  toErrorDescription,
  type BrokerPolicy,
  type Cidr,
  type PolicySource,
  type TimeWindow,
  type TokenClaim,
} from './broker-policy.js';

/** Most scopes one token request may name. */
export const MAX_REQUESTED_SCOPES = 100;

/** OAuth error codes a policy decision can end in (RFC 6749 §5.2, RFC 8707 §2). */
export type PolicyErrorCode = 'invalid_scope' | 'invalid_target' | 'unauthorized_client' | 'invalid_request';

/** One step of a decision: the rule or check, where it is written, and what it did. */
export interface Explanation {
  /**
   * `allow[0]`, `allow[0].approval`, `deny[1]`, `allow` (no allow rule matched), `conditions.sourceCidrs`,
   * `conditions.timeWindows[0]`, `tokens.requireDpop`, `tokens.requireClaims`, `tokens.maxTtl`,
   * `tokens.defaultTtl`, or a check of the request itself: `request.resource`, `request.scope`, `request.ttl`,
   * `request.claims`.
   */
  rule: string;
  /** Line of the rule in the policy file, when the policy came from a file that wrote it. */
  line: number | null;
  /** allow: let the request or scope through; deny: refused it or removed the scope; note: information; skip: not checked. */
  outcome: 'allow' | 'deny' | 'note' | 'skip';
  /** The requested scope the step is about, when it is about one. */
  scope?: string;
  message: string;
}

/** A token request as the policy sees it. */
export interface TokenRequest {
  /** Requested scopes: the `scope` parameter (space-separated) or a list. */
  scope: string | readonly string[];
  /** The `resource` parameter (RFC 8707): the API the token is for. */
  resource: string;
  /** Requested lifetime in seconds; absent or null: the policy's defaultTtl. */
  ttlSeconds?: number | null;
  claims?: { task?: string | null; purpose?: string | null };
  /** True when the request carries a valid DPoP proof (checked by the caller). */
  dpop: boolean;
  /** The client's address as the server saw it; null when unknown. */
  sourceIp: string | null;
  now: Date;
}

/** A request for `explain`: anything but scope and resource may be left out and is then not checked. */
export type ExplainRequest = Pick<TokenRequest, 'scope' | 'resource'> &
  Partial<Omit<TokenRequest, 'scope' | 'resource'>>;

/** The policy allows a token: these scopes (never wider than requested), for this long. */
export interface AllowDecision {
  effect: 'allow';
  resource: string;
  /** Requested scopes the policy allows and no deny rule removes, in request order. */
  scopes: string[];
  ttlSeconds: number;
  /** Granted scopes that need a person's approval first; empty when none do. */
  needsApproval: string[];
  /** Shortest approval timeout of the rules that put a granted scope behind approval; null when none do. */
  approvalTimeoutSeconds: number | null;
  reasons: Explanation[];
}

/** The policy refuses the request; `error` and `description` go into the OAuth error response as they are. */
export interface DenyDecision {
  effect: 'deny';
  error: PolicyErrorCode;
  /** Plain ASCII without `"` or `\`, as RFC 6749 §5.2 requires of error_description. */
  description: string;
  reasons: Explanation[];
}

export type Decision = AllowDecision | DenyDecision;

/** What else a decision may use: where the policy was written, so reasons can name lines. */
export interface DecideContext {
  source?: PolicySource;
}

interface CompiledPolicy {
  cidrs: Array<{ text: string; cidr: Cidr; index: number }> | null;
}

const compiled = new WeakMap<BrokerPolicy, CompiledPolicy>();

function compile(policy: BrokerPolicy): CompiledPolicy {
  const cached = compiled.get(policy);
  if (cached) return cached;
  const cidrs = policy.conditions.sourceCidrs?.flatMap((text, index) => {
    const r = parseCidr(text);
    return r.ok ? [{ text, cidr: r.cidr, index }] : [];
  });
  const result = { cidrs: cidrs ?? null };
  // Only frozen policies (all parsed ones) are cached: a mutable one could change after it was compiled.
  if (Object.isFrozen(policy) && Object.isFrozen(policy.conditions)) compiled.set(policy, result);
  return result;
}

/**
 * Decides a token request against an agent type's policy. Checks run in a fixed order and the first failure
 * decides the error: the request's own form, then conditions (source address, time), then token requirements
 * (DPoP, claims), then the resource, then the scopes. Every check is recorded in `reasons` either way.
 * @example
 * const d = decide(policy, { scope: 'repo:read', resource: 'https://api.github.com', dpop: true,
 *   sourceIp: '10.1.2.3', now: new Date(), claims: { task: 'T-1', purpose: 'triage' } });
 * if (d.effect === 'allow') issue(d.scopes, d.ttlSeconds);
 */
export function decide(policy: BrokerPolicy, request: TokenRequest, context: DecideContext = {}): Decision {
  if (!(request.now instanceof Date) || Number.isNaN(request.now.getTime())) {
    throw new TypeError('decide: request.now must be a valid Date');
  }
  // Fail closed: a field a caller forgot counts as absent, never as "not checked".
  return evaluate(
    policy,
    {
      ...request,
      scope: request.scope ?? '',
      resource: request.resource ?? '',
      dpop: request.dpop === true,
      sourceIp: request.sourceIp ?? null,
      claims: request.claims ?? {},
    },
    context,
  );
}

/** A decision explained: the structured reasons and the same as text for a person. */
export interface PolicyExplanation {
  decision: Decision;
  reasons: Explanation[];
  text: string;
}

/**
 * Explains which rule allows or denies each requested scope and why, for `keyward broker explain`. Fields of
 * the request left out (source address, time, DPoP, claims) are reported as not checked and do not decide.
 * @example explain(policy, { scope: 'invoices:refund', resource: 'https://billing.internal.example' }).text
 */
export function explain(
  policy: BrokerPolicy,
  request: ExplainRequest,
  context: DecideContext = {},
): PolicyExplanation {
  const decision = evaluate(policy, request, context);
  return { decision, reasons: decision.reasons, text: renderExplanation(policy, request, decision, context) };
}

/** Collects the reasons of a decision and the failures, in the order the checks run. */
interface Recorder {
  add(
    rule: string,
    outcome: Explanation['outcome'],
    message: string,
    scope?: string,
    linePath?: string,
  ): void;
  fail(error: PolicyErrorCode, description: string): void;
}

function evaluate(policy: BrokerPolicy, request: ExplainRequest, context: DecideContext): Decision {
  const reasons: Explanation[] = [];
  const failures: Array<{ error: PolicyErrorCode; description: string }> = [];
  const rec: Recorder = {
    add(rule, outcome, message, scope, linePath = rule) {
      const line = sourceLine(context.source, linePath);
      reasons.push({ rule, line, outcome, ...(scope === undefined ? {} : { scope }), message });
    },
    fail(error, description) {
      failures.push({ error, description });
    },
  };

  // 1. The request's own form.
  const form = checkRequestForm(request, rec);
  // 2. Conditions: where the request comes from and when. Checked before the resource so that a request from
  // the wrong place or time learns nothing about what the policy allows.
  const { sourceCidrs, timeWindows } = policy.conditions;
  if (sourceCidrs) checkSourceAddress(compile(policy), sourceCidrs, request.sourceIp, rec);
  if (timeWindows) checkTimeWindows(timeWindows, request.now, rec);
  // 3. Token requirements.
  checkTokenRequirements(policy, request, rec);
  // 4 and 5. The resource, then the scopes.
  const grant = form.resourceOk
    ? grantScopes(policy, request.resource, form.scopesOk ? form.requested : null, rec)
    : null;
  // 6. Lifetime.
  const ttlSeconds = chooseLifetime(policy, form.ttl, rec);

  const failure = failures[0];
  if (failure || !grant) {
    // Without a failure there is always a grant; the check keeps the types honest.
    const { error, description } = failure ?? { error: 'invalid_request', description: 'no decision' };
    return { effect: 'deny', error, description: toErrorDescription(description), reasons };
  }
  return {
    effect: 'allow',
    resource: request.resource,
    scopes: grant.granted,
    ttlSeconds,
    needsApproval: grant.needsApproval,
    approvalTimeoutSeconds: grant.approvalTimeoutSeconds,
    reasons,
  };
}

function checkRequestForm(
  request: ExplainRequest,
  rec: Recorder,
): { resourceOk: boolean; scopesOk: boolean; requested: string[]; ttl: number | null | 'invalid' } {
  const resourceBad = resourceProblem(request.resource);
  if (resourceBad) {
    rec.add('request.resource', 'deny', resourceBad);
    rec.fail('invalid_target', resourceBad);
  }
  const requested = splitScope(request.scope);
  const malformed = requested.find((s) => !isScopeToken(s) || isGlob(s));
  let scopeBad: string | null = null;
  if (malformed !== undefined) {
    const why = isScopeToken(malformed)
      ? 'wildcards belong in policies; request the concrete scopes the task needs'
      : 'a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 3.3)';
    scopeBad = `scope '${describeValue(malformed)}' is malformed: ${why}`;
  } else if (requested.length > MAX_REQUESTED_SCOPES) {
    scopeBad = `${requested.length} scopes requested; at most ${MAX_REQUESTED_SCOPES} are accepted`;
  }
  if (scopeBad) {
    rec.add('request.scope', 'deny', scopeBad);
    rec.fail('invalid_scope', scopeBad);
  }
  let ttl: number | null | 'invalid' = request.ttlSeconds ?? null;
  if (ttl !== null && !(Number.isSafeInteger(ttl) && ttl > 0)) {
    const message = 'the requested lifetime must be a whole number of seconds greater than 0';
    rec.add('request.ttl', 'deny', message);
    rec.fail('invalid_request', message);
    ttl = 'invalid';
  }
  for (const claim of ['task', 'purpose'] as const) {
    const v = request.claims?.[claim];
    if (typeof v === 'string' && v.length > MAX_CLAIM_LENGTH) {
      const message = `the ${claim} claim is longer than ${MAX_CLAIM_LENGTH} characters`;
      rec.add('request.claims', 'deny', message);
      rec.fail('invalid_request', message);
    }
  }
  return { resourceOk: resourceBad === null, scopesOk: scopeBad === null, requested, ttl };
}

function checkSourceAddress(
  compiledPolicy: CompiledPolicy,
  written: readonly string[],
  sourceIp: string | null | undefined,
  rec: Recorder,
): void {
  const rule = 'conditions.sourceCidrs';
  if (sourceIp === undefined) {
    rec.add(rule, 'skip', 'not checked: no source address given');
    return;
  }
  const ip = sourceIp === null ? null : parseIp(sourceIp);
  if (ip === null) {
    const message =
      sourceIp === null
        ? 'the source address is unknown'
        : `cannot read source address '${describeValue(sourceIp)}'`;
    rec.add(rule, 'deny', message);
    rec.fail('unauthorized_client', `${message}; this agent type accepts requests only from listed networks`);
    return;
  }
  const shown = formatIp(ip);
  const hit = compiledPolicy.cidrs?.find((c) => cidrContains(c.cidr, ip));
  if (hit) {
    rec.add(rule, 'allow', `source address ${shown} is in ${hit.text}`, undefined, `${rule}[${hit.index}]`);
    return;
  }
  // The description names the client's address but never the allowed networks.
  rec.add(rule, 'deny', `source address ${shown} is in none of ${written.join(', ')}`);
  rec.fail(
    'unauthorized_client',
    `source address ${shown} is outside the networks this agent type may request tokens from`,
  );
}

function checkTimeWindows(windows: readonly TimeWindow[], now: Date | undefined, rec: Recorder): void {
  if (now === undefined) {
    rec.add('conditions.timeWindows', 'skip', 'not checked: no time given');
    return;
  }
  const i = windows.findIndex((w) => inTimeWindow(w, now));
  if (i !== -1) {
    const w = windows[i]!;
    const at = formatClock(localClock(now, w.timezone));
    rec.add(
      `conditions.timeWindows[${i}]`,
      'allow',
      `${at} ${w.timezone} is inside ${describeTimeWindow(w)}`,
    );
    return;
  }
  const localTimes = [
    ...new Set(windows.map((w) => `${formatClock(localClock(now, w.timezone))} ${w.timezone}`)),
  ];
  const allowed = windows.map(describeTimeWindow).join('; ');
  rec.add('conditions.timeWindows', 'deny', `${localTimes.join(', ')} is outside ${allowed}`);
  rec.fail(
    'unauthorized_client',
    `token requests for this agent type are allowed only ${allowed} (it is ${localTimes.join(', ')})`,
  );
}

function checkTokenRequirements(policy: BrokerPolicy, request: ExplainRequest, rec: Recorder): void {
  if (policy.tokens.requireDpop) {
    const rule = 'tokens.requireDpop';
    if (request.dpop === undefined) rec.add(rule, 'skip', 'DPoP is required; not checked: no request given');
    else if (request.dpop) rec.add(rule, 'allow', 'DPoP is required and the request carries a proof');
    else {
      rec.add(rule, 'deny', 'DPoP is required and the request carries no DPoP proof');
      rec.fail(
        'invalid_request',
        'this agent type requires DPoP-bound tokens; send a DPoP proof with the request (RFC 9449)',
      );
    }
  }
  const required = policy.tokens.requireClaims;
  if (required.length === 0) return;
  const rule = 'tokens.requireClaims';
  const all = required.join(' and ');
  if (request.claims === undefined) {
    rec.add(rule, 'skip', `${all} required; not checked: no claims given`);
    return;
  }
  const missing = required.filter((c: TokenClaim) => {
    const v: unknown = request.claims?.[c];
    return typeof v !== 'string' || v.trim() === '';
  });
  if (missing.length === 0) {
    rec.add(rule, 'allow', `${all} present`);
    return;
  }
  const list = missing.join(' and ');
  rec.add(rule, 'deny', `${list} missing`);
  rec.fail(
    'invalid_request',
    `the ${list} claim${missing.length > 1 ? 's are' : ' is'} missing; this agent type requires ${all} with every token request`,
  );
}

/**
 * The resource must match some allow rule (RFC 8707); then each requested scope is granted when an allow rule
 * for the resource matches it and no deny rule does (RFC 6749 §3.3 lets the server issue a narrower scope).
 * `requested` is null when the scopes were malformed: only the resource is checked then.
 */
function grantScopes(
  policy: BrokerPolicy,
  resource: string,
  requested: readonly string[] | null,
  rec: Recorder,
): { granted: string[]; needsApproval: string[]; approvalTimeoutSeconds: number | null } | null {
  const rules = policy.allow.flatMap((rule, index) =>
    resourceMatches(rule.resource, resource) ? [{ rule, index }] : [],
  );
  if (rules.length === 0) {
    rec.add('allow', 'deny', `no allow rule matches resource '${describeValue(resource)}'`);
    rec.fail('invalid_target', `resource '${describeValue(resource)}' is not allowed for this agent type`);
    return null;
  }
  if (requested === null) return null;
  if (requested.length === 0) {
    const message =
      'no scope requested; this broker grants no default scope, so name the scopes the task needs';
    rec.add('request.scope', 'deny', message);
    rec.fail('invalid_scope', message);
    return null;
  }
  const granted: string[] = [];
  const dropped: string[] = [];
  const needsApproval: string[] = [];
  let approvalTimeoutSeconds: number | null = null;
  for (const scope of requested) {
    const allowedBy = firstMatch(rules, resource, scope);
    if (allowedBy) {
      const { rule, index, pattern } = allowedBy;
      rec.add(
        `allow[${index}]`,
        'allow',
        `resource matches '${rule.resource}' and scope matches '${pattern}'`,
        scope,
      );
    } else rec.add('allow', 'deny', `no allow rule for this resource lists ${scope}`, scope);
    const deniedBy = firstMatch(
      policy.deny.map((rule, index) => ({ rule, index })),
      resource,
      scope,
    );
    if (deniedBy) {
      const { rule, index, pattern } = deniedBy;
      rec.add(
        `deny[${index}]`,
        'deny',
        `resource matches '${rule.resource}' and scope matches '${pattern}'; deny rules win over allow rules`,
        scope,
      );
    }
    if (!allowedBy || deniedBy) {
      dropped.push(scope);
      continue;
    }
    granted.push(scope);
    // Approval is needed when any allow rule for the resource that lists the scope puts it behind approval.
    for (const { rule, index } of rules) {
      if (
        !rule.scopes.some((p) => scopeMatches(p, scope)) ||
        !rule.approval.some((p) => scopeMatches(p, scope))
      ) {
        continue;
      }
      const timeout = rule.approvalTimeoutSeconds!;
      if (!needsApproval.includes(scope)) needsApproval.push(scope);
      approvalTimeoutSeconds = Math.min(approvalTimeoutSeconds ?? timeout, timeout);
      rec.add(
        `allow[${index}].approval`,
        'note',
        `needs a person's approval (timeout ${formatDuration(timeout)})`,
        scope,
      );
    }
  }
  if (granted.length === 0) {
    rec.fail(
      'invalid_scope',
      `none of the requested scopes (${requested.map(describeValue).join(' ')}) may be issued for resource '${describeValue(resource)}'`,
    );
    return null;
  }
  if (dropped.length > 0) {
    rec.add(
      'request.scope',
      'note',
      `dropped ${dropped.join(' ')}; the token carries only the allowed scopes`,
    );
  }
  return { granted, needsApproval, approvalTimeoutSeconds };
}

/** The first rule whose resource and one of whose scope patterns match, with that pattern. */
function firstMatch<R extends { resource: string; scopes: string[] }>(
  rules: ReadonlyArray<{ rule: R; index: number }>,
  resource: string,
  scope: string,
): { rule: R; index: number; pattern: string } | null {
  for (const { rule, index } of rules) {
    if (!resourceMatches(rule.resource, resource)) continue;
    const pattern = rule.scopes.find((p) => scopeMatches(p, scope));
    if (pattern !== undefined) return { rule, index, pattern };
  }
  return null;
}

function chooseLifetime(policy: BrokerPolicy, ttl: number | null | 'invalid', rec: Recorder): number {
  const { maxTtlSeconds, defaultTtlSeconds } = policy.tokens;
  if (ttl === 'invalid') return defaultTtlSeconds;
  if (ttl === null) {
    rec.add(
      'tokens.defaultTtl',
      'note',
      `no lifetime requested; defaultTtl ${formatDuration(defaultTtlSeconds)}`,
    );
    return defaultTtlSeconds;
  }
  if (ttl > maxTtlSeconds) {
    const message = `requested ${formatDuration(ttl)}; capped at maxTtl ${formatDuration(maxTtlSeconds)}`;
    rec.add('tokens.maxTtl', 'note', message);
    return maxTtlSeconds;
  }
  rec.add('request.ttl', 'note', `lifetime ${formatDuration(ttl)} as requested`);
  return ttl;
}

// ---------------------------------------------------------------------------------------------------------
// Text for people

function renderExplanation(
  policy: BrokerPolicy,
  request: ExplainRequest,
  decision: Decision,
  context: DecideContext,
): string {
  const where = context.source ? ` (${context.source.fileName})` : '';
  const requested = splitScope(request.scope);
  const lines: string[] = [
    `Agent type ${policy.agentType}${where}`,
    `Resource:  ${describeValue(request.resource)}`,
    `Requested: ${requested.length === 0 ? '(no scope)' : requested.map(describeValue).join(' ')}`,
  ];
  const ruleText = (r: Explanation) => `${r.rule}${r.line === null ? '' : ` (line ${r.line})`}: ${r.message}`;
  const scoped = decision.reasons.filter((r) => r.scope !== undefined);
  if (scoped.length > 0) {
    lines.push('', 'Scopes:');
    const width = Math.max(...requested.map((s) => s.length));
    for (const scope of requested) {
      scoped
        .filter((r) => r.scope === scope)
        .forEach((r, i) =>
          lines.push(`  ${(i === 0 ? scope : '').padEnd(width)}  ${r.outcome.padEnd(5)}  ${ruleText(r)}`),
        );
    }
  }
  const checks = decision.reasons.filter((r) => r.scope === undefined);
  if (checks.length > 0) {
    lines.push('', 'Checks:');
    for (const r of checks) lines.push(`  ${r.outcome.padEnd(5)}  ${ruleText(r)}`);
  }
  lines.push('');
  if (decision.effect === 'deny') {
    lines.push(`Result: deny (${decision.error}): ${decision.description}`);
  } else {
    const approval =
      decision.needsApproval.length > 0
        ? `; needs a person's approval for ${decision.needsApproval.join(' ')}`
        : '';
    lines.push(
      `Result: allow ${decision.scopes.join(' ')} for ${formatDuration(decision.ttlSeconds)}${approval}`,
    );
    const skipped = decision.reasons.filter((r) => r.outcome === 'skip').map((r) => r.rule);
    if (skipped.length > 0)
      lines.push(`        provided the checks not made here pass: ${skipped.join(', ')}`);
  }
  if (decision.effect === 'deny' && decision.error === 'invalid_target' && policy.allow.length > 0) {
    lines.push(
      `The policy allows these resources: ${[...new Set(policy.allow.map((r) => r.resource))].join(', ')}`,
    );
  }
  return lines.join('\n');
}
