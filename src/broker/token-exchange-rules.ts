/**
 * The rules of token exchange (RFC 8693): an agent trades a user's or a parent agent's token for one that acts
 * on their behalf. Given the verified claims of the subject token (and of an actor token, when one is sent), the
 * requesting agent's policy decision and the request, these pure helpers compute what the new token may carry:
 * scope = subject scope ∩ agent policy ∩ request, an expiry never beyond the subject token's, and the nested
 * `act` claim, or the OAuth error that refuses the exchange. Signature and audience checks of the incoming
 * tokens are the caller's; these rules trust the claims they are given.
 */
import {
  describeValue,
  formatDuration,
  sourceLine,
  splitScope,
  toErrorDescription,
  type BrokerPolicy,
  type PolicySource,
} from './broker-policy.js';
import type { Decision, Explanation } from './broker-decide.js';

/** The `act` claim (RFC 8693 §4.1): the current actor, with the actor before it nested in its own `act`. */
export interface ActClaim {
  sub: string;
  iss?: string;
  client_id?: string;
  act?: ActClaim;
}

/** The claims of a verified subject token that exchange looks at; `act` and `may_act` are checked here. */
export interface SubjectTokenClaims {
  iss: string;
  sub: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Space-separated scopes; absent means the token carries none. */
  scope?: string | null;
  client_id?: string | null;
  act?: unknown;
  may_act?: unknown;
}

/** The claims of a verified actor token (RFC 8693 §2.1 actor_token), when the request has one. */
export interface ActorTokenClaims {
  iss: string;
  sub: string;
  exp: number;
  client_id?: string | null;
}

/** Everything one exchange is decided on. */
export interface ExchangeInput {
  /** The requesting agent's policy (its agent type's). */
  policy: Pick<BrokerPolicy, 'agentType' | 'exchange'>;
  /** `decide(policy, …)` for this request's scopes (see `exchangeRequestedScope`) and resource. */
  decision: Decision;
  subject: SubjectTokenClaims;
  actor?: ActorTokenClaims | null;
  /** The authenticated client making the request: its subject (agent id) and client_id. */
  client: { sub: string; clientId: string };
  requestedScope: string | readonly string[];
  resource: string;
  now: Date;
}

/** OAuth error codes an exchange can end in. */
export type ExchangeErrorCode =
  'invalid_request' | 'invalid_scope' | 'invalid_target' | 'unauthorized_client';

/** What the exchanged token may carry. */
export interface ExchangeGrant {
  ok: true;
  /** The subject of the new token: the subject token's `sub` (RFC 8693 delegation). */
  sub: string;
  resource: string;
  /** subject scope ∩ policy decision ∩ request, in request order. */
  scopes: string[];
  /** Granted scopes that need a person's approval first. */
  needsApproval: string[];
  approvalTimeoutSeconds: number | null;
  /** Expiry in seconds since the epoch; never after the subject token's (nor the actor token's). */
  expiresAt: number;
  ttlSeconds: number;
  /** The new `act` claim: the current actor outermost, the subject token's chain nested inside. */
  act: ActClaim;
  /** How many actors `act` holds. */
  chainDepth: number;
  reasons: Explanation[];
}

/** The exchange is refused; `error` and `description` go into the OAuth error response. */
export interface ExchangeRefusal {
  ok: false;
  error: ExchangeErrorCode;
  description: string;
  reasons: Explanation[];
}

export type ExchangeOutcome = ExchangeGrant | ExchangeRefusal;

/** Deepest `act` nesting read from a subject token; anything deeper is refused as malformed. */
export const MAX_ACT_NESTING = 64;

/**
 * The scopes to decide an exchange on: the requested ones, or, when the request names none, the subject
 * token's (RFC 8693 §2.1 leaves the default to the server; the subject's scope is the most it could get).
 */
export function exchangeRequestedScope(
  requested: string | readonly string[],
  subject: SubjectTokenClaims,
): string[] {
  const list = splitScope(requested);
  return list.length > 0 ? list : splitScope(subject.scope ?? '');
}

/** Reads an `act` claim into its identity members; null when it is not a chain of objects with a string `sub`. */
export function readActChain(value: unknown): { act: ActClaim | null; depth: number } | null {
  if (value === undefined || value === null) return { act: null, depth: 0 };
  const levels: ActClaim[] = [];
  let node: unknown = value;
  while (node !== undefined) {
    if (levels.length >= MAX_ACT_NESTING) return null;
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return null;
    const o = node as Record<string, unknown>;
    if (typeof o.sub !== 'string' || o.sub === '') return null;
    if (o.iss !== undefined && typeof o.iss !== 'string') return null;
    if (o.client_id !== undefined && typeof o.client_id !== 'string') return null;
    // RFC 8693 §4.1: only identity claims are meaningful inside act; anything else is left behind.
    levels.push({
      sub: o.sub,
      ...(o.iss === undefined ? {} : { iss: o.iss as string }),
      ...(o.client_id === undefined ? {} : { client_id: o.client_id as string }),
    });
    node = o.act;
  }
  let act: ActClaim | null = null;
  for (let i = levels.length - 1; i >= 0; i--) act = act === null ? levels[i]! : { ...levels[i]!, act };
  return { act, depth: levels.length };
}

/**
 * Decides a token exchange. Checks, first failure wins: exchange allowed for the agent type
 * (`unauthorized_client`), subject issuer trusted, subject and actor tokens unexpired, actor token issued to the
 * requesting client, `act` chain well-formed, `may_act` honoured, chain depth (all `invalid_request`, as
 * RFC 8693 §2.2.2 requires for tokens unacceptable by policy), then the policy decision itself, then the scope
 * intersection (`invalid_scope` when empty).
 * @example
 * const requested = exchangeRequestedScope(params.scope ?? '', subject);
 * const decision = decide(policy, { ...request, scope: requested });
 * const out = evaluateExchange({ policy, decision, subject, client, requestedScope: requested, resource, now });
 */
export function evaluateExchange(
  input: ExchangeInput,
  context: { source?: PolicySource } = {},
): ExchangeOutcome {
  const { policy, decision, subject, actor, client, resource, now } = input;
  const reasons: Explanation[] = [];
  const add = (rule: string, outcome: Explanation['outcome'], message: string) =>
    reasons.push({ rule, line: sourceLine(context.source, rule), outcome, message });
  const refuse = (error: ExchangeErrorCode, rule: string, description: string): ExchangeRefusal => {
    add(rule, 'deny', description);
    return { ok: false, error, description: toErrorDescription(description), reasons };
  };
  if (decision.effect === 'allow' && decision.resource !== resource) {
    throw new TypeError('evaluateExchange: the decision was made for another resource');
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const agentType = policy.agentType;

  if (!policy.exchange.allowed) {
    // RFC 6749 §5.2: the client is not authorized to use this grant type.
    return refuse(
      'unauthorized_client',
      'exchange.allowed',
      `agent type ${agentType} may not exchange tokens (exchange.allowed is false)`,
    );
  }
  add('exchange.allowed', 'allow', `agent type ${agentType} may exchange tokens`);

  const issuer = describeValue(subject.iss);
  if (!policy.exchange.subjectIssuers.includes(subject.iss)) {
    return refuse(
      'invalid_request',
      'exchange.subjectIssuers',
      `tokens issued by '${issuer}' may not be exchanged by agent type ${agentType}`,
    );
  }
  add('exchange.subjectIssuers', 'allow', `subject token issuer '${issuer}' is listed`);

  if (!Number.isFinite(subject.exp) || subject.exp <= nowSeconds) {
    return refuse('invalid_request', 'subject_token.exp', 'the subject token has expired');
  }
  if (actor) {
    if (!Number.isFinite(actor.exp) || actor.exp <= nowSeconds) {
      return refuse('invalid_request', 'actor_token.exp', 'the actor token has expired');
    }
    // Otherwise a client could record someone else as the actor in the delegation chain.
    if (actor.sub !== client.sub && actor.client_id !== client.clientId) {
      return refuse(
        'invalid_request',
        'actor_token.sub',
        'the actor token was issued to another party than the client making the request',
      );
    }
  }

  const chain = readActChain(subject.act);
  if (chain === null) {
    return refuse('invalid_request', 'subject_token.act', 'the act claim of the subject token is malformed');
  }
  const current: ActClaim = actor
    ? {
        sub: actor.sub,
        iss: actor.iss,
        ...(typeof actor.client_id === 'string' ? { client_id: actor.client_id } : {}),
      }
    : { sub: client.sub, client_id: client.clientId };

  if (subject.may_act !== undefined && subject.may_act !== null) {
    // RFC 8693 §4.4: may_act names who may act for the subject.
    const may = (typeof subject.may_act === 'object' ? subject.may_act : {}) as Record<string, unknown>;
    const fits =
      typeof may.sub === 'string' &&
      may.sub === current.sub &&
      (may.iss === undefined || current.iss === undefined || may.iss === current.iss);
    if (!fits) {
      return refuse(
        'invalid_request',
        'subject_token.may_act',
        'the subject token does not allow this actor (may_act)',
      );
    }
    add('subject_token.may_act', 'allow', `may_act names ${describeValue(current.sub)}`);
  }

  const depth = chain.depth + 1;
  const maxDepth = policy.exchange.maxChainDepth;
  if (depth > maxDepth) {
    return refuse(
      'invalid_request',
      'exchange.maxChainDepth',
      `the delegation chain would hold ${depth} actors; agent type ${agentType} allows at most ${maxDepth}`,
    );
  }
  add('exchange.maxChainDepth', 'allow', `the delegation chain holds ${depth} of at most ${maxDepth} actors`);

  if (decision.effect === 'deny') {
    reasons.push(...decision.reasons);
    return { ok: false, error: decision.error, description: decision.description, reasons };
  }
  reasons.push(...decision.reasons);

  // Never wider than any of the three: what the subject holds, what the policy allows, what was asked for.
  const subjectScopes = new Set(splitScope(subject.scope ?? ''));
  const requested = new Set(splitScope(input.requestedScope));
  const scopes = decision.scopes.filter((s) => subjectScopes.has(s) && requested.has(s));
  const notHeld = decision.scopes.filter((s) => !subjectScopes.has(s));
  if (notHeld.length > 0) {
    add('subject_token.scope', 'note', `dropped ${notHeld.join(' ')}: the subject token does not carry them`);
  }
  if (scopes.length === 0) {
    const why =
      subjectScopes.size === 0
        ? 'the subject token carries no scope, so there is nothing to delegate'
        : 'none of the requested scopes is both held by the subject token and allowed for this agent type';
    return refuse('invalid_scope', 'subject_token.scope', why);
  }

  let expiresAt = nowSeconds + decision.ttlSeconds;
  if (subject.exp < expiresAt) {
    expiresAt = subject.exp;
    add(
      'subject_token.exp',
      'note',
      `expiry capped at the subject token's (${formatDuration(expiresAt - nowSeconds)} left)`,
    );
  }
  if (actor && actor.exp < expiresAt) {
    expiresAt = actor.exp;
    add(
      'actor_token.exp',
      'note',
      `expiry capped at the actor token's (${formatDuration(expiresAt - nowSeconds)} left)`,
    );
  }
  const act: ActClaim = chain.act === null ? current : { ...current, act: chain.act };
  const needsApproval = decision.needsApproval.filter((s) => scopes.includes(s));
  return {
    ok: true,
    sub: subject.sub,
    resource,
    scopes,
    needsApproval,
    approvalTimeoutSeconds: needsApproval.length > 0 ? decision.approvalTimeoutSeconds : null,
    expiresAt,
    ttlSeconds: expiresAt - nowSeconds,
    act,
    chainDepth: depth,
    reasons,
  };
}
