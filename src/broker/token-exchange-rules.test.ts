import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBrokerPolicy } from './broker-policy-parse.js';
import { decide, type TokenRequest } from './broker-decide.js';
import {
  evaluateExchange,
  exchangeRequestedScope,
  readActChain,
  type ActClaim,
  type ActorTokenClaims,
  type ExchangeInput,
  type SubjectTokenClaims,
} from './token-exchange-rules.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'policies', 'valid');
const load = (name: string) => parseBrokerPolicy(name, readFileSync(join(fixtures, name), 'utf8'));
const { policy, source } = load('support-agent.yaml');
const { policy: noExchange } = load('minimal.yaml');

const NOW = new Date('2026-01-13T09:00:00Z'); // Tuesday, inside the support agent's office hours
const NOW_S = NOW.getTime() / 1000;
const client = { sub: 'agt_support1', clientId: 'kwc_support1' };

const request: TokenRequest = {
  scope: 'repo:read issues:write',
  resource: 'https://api.github.com',
  dpop: true,
  sourceIp: '10.1.2.3',
  now: NOW,
  claims: { task: 'TICKET-42', purpose: 'answer the customer' },
};

const alice: SubjectTokenClaims = {
  iss: 'https://keyward.example',
  sub: 'user:alice',
  exp: NOW_S + 3600,
  scope: 'repo:read issues:write invoices:read',
  client_id: 'kwc_portal',
};

/** An exchange of `subject` by the support agent for `scope` on `resource`, decided against its policy. */
function exchange(
  subject: SubjectTokenClaims,
  overrides: Partial<ExchangeInput> & { scope?: string; resource?: string } = {},
) {
  const { scope = 'repo:read issues:write', resource = 'https://api.github.com', ...rest } = overrides;
  const p = rest.policy ?? policy;
  const requested = exchangeRequestedScope(scope, subject);
  const decision = rest.decision ?? decide(policy, { ...request, scope: requested, resource });
  return evaluateExchange(
    { policy: p, decision, subject, client, requestedScope: requested, resource, now: NOW, ...rest },
    { source },
  );
}

describe('evaluateExchange', () => {
  it('delegates a user token to the agent: sub stays the user, the agent becomes the actor', () => {
    const out = exchange(alice);
    expect(out).toEqual({
      ok: true,
      sub: 'user:alice',
      resource: 'https://api.github.com',
      scopes: ['repo:read', 'issues:write'],
      needsApproval: [],
      approvalTimeoutSeconds: null,
      expiresAt: NOW_S + 300,
      ttlSeconds: 300,
      act: { sub: 'agt_support1', client_id: 'kwc_support1' },
      chainDepth: 1,
      reasons: [
        {
          rule: 'exchange.allowed',
          line: 26,
          outcome: 'allow',
          message: 'agent type support-agent may exchange tokens',
        },
        {
          rule: 'exchange.subjectIssuers',
          line: 28,
          outcome: 'allow',
          message: "subject token issuer 'https://keyward.example' is listed",
        },
        {
          rule: 'exchange.maxChainDepth',
          line: 27,
          outcome: 'allow',
          message: 'the delegation chain holds 1 of at most 2 actors',
        },
        ...(out.ok ? out.reasons.slice(3) : []),
      ],
    });
    // The policy decision's own reasons follow the exchange checks.
    expect(out.reasons.slice(3).map((r) => r.rule)).toEqual([
      'conditions.sourceCidrs',
      'conditions.timeWindows[0]',
      'tokens.requireDpop',
      'tokens.requireClaims',
      'allow[0]',
      'allow[0]',
      'tokens.defaultTtl',
    ]);
  });

  it('never grants a scope the subject token does not hold', () => {
    const out = exchange({ ...alice, scope: 'repo:read invoices:read' });
    expect(out).toMatchObject({ ok: true, scopes: ['repo:read'] });
    expect(out.reasons).toContainEqual({
      rule: 'subject_token.scope',
      line: null,
      outcome: 'note',
      message: 'dropped issues:write: the subject token does not carry them',
    });
  });

  it('never outlives the subject token', () => {
    const out = exchange({ ...alice, exp: NOW_S + 120 });
    expect(out).toMatchObject({ ok: true, expiresAt: NOW_S + 120, ttlSeconds: 120 });
    expect(out.reasons).toContainEqual({
      rule: 'subject_token.exp',
      line: null,
      outcome: 'note',
      message: "expiry capped at the subject token's (2m left)",
    });
  });

  it('nests the prior actors inside the new act claim, current actor outermost (RFC 8693 §4.1)', () => {
    const parent = {
      ...alice,
      act: { sub: 'agt_planner', client_id: 'kwc_planner', exp: 123, aud: 'ignored' },
    };
    expect(exchange(parent)).toMatchObject({
      ok: true,
      sub: 'user:alice',
      chainDepth: 2,
      act: {
        sub: 'agt_support1',
        client_id: 'kwc_support1',
        act: { sub: 'agt_planner', client_id: 'kwc_planner' },
      },
    });
  });

  it('refuses a chain deeper than exchange.maxChainDepth', () => {
    const deep = { ...alice, act: { sub: 'agt_b', act: { sub: 'agt_a' } } };
    expect(exchange(deep)).toEqual({
      ok: false,
      error: 'invalid_request',
      description: 'the delegation chain would hold 3 actors; agent type support-agent allows at most 2',
      reasons: [
        {
          rule: 'exchange.allowed',
          line: 26,
          outcome: 'allow',
          message: 'agent type support-agent may exchange tokens',
        },
        {
          rule: 'exchange.subjectIssuers',
          line: 28,
          outcome: 'allow',
          message: "subject token issuer 'https://keyward.example' is listed",
        },
        {
          rule: 'exchange.maxChainDepth',
          line: 27,
          outcome: 'deny',
          message: 'the delegation chain would hold 3 actors; agent type support-agent allows at most 2',
        },
      ],
    });
  });

  it('uses the actor token as the actor, bounded by its expiry', () => {
    const actor: ActorTokenClaims = {
      iss: 'https://keyward.example',
      sub: 'agt_support1',
      exp: NOW_S + 60,
      client_id: 'kwc_support1',
    };
    expect(exchange(alice, { actor })).toMatchObject({
      ok: true,
      act: { sub: 'agt_support1', iss: 'https://keyward.example', client_id: 'kwc_support1' },
      expiresAt: NOW_S + 60,
      ttlSeconds: 60,
    });
  });

  it('honours may_act (RFC 8693 §4.4)', () => {
    expect(exchange({ ...alice, may_act: { sub: 'agt_support1' } })).toMatchObject({ ok: true });
  });

  const refusals: Array<
    [
      string,
      SubjectTokenClaims,
      Partial<ExchangeInput> & { scope?: string; resource?: string },
      string,
      string,
    ]
  > = [
    [
      'an agent type without exchange',
      alice,
      { policy: noExchange },
      'unauthorized_client',
      'agent type ci-deployer may not exchange tokens (exchange.allowed is false)',
    ],
    [
      'a subject token from an issuer not listed',
      { ...alice, iss: 'https://evil.example' },
      {},
      'invalid_request',
      "tokens issued by 'https://evil.example' may not be exchanged by agent type support-agent",
    ],
    [
      'an expired subject token',
      { ...alice, exp: NOW_S },
      {},
      'invalid_request',
      'the subject token has expired',
    ],
    [
      'an expired actor token',
      alice,
      { actor: { iss: 'https://keyward.example', sub: 'agt_support1', exp: NOW_S - 1 } },
      'invalid_request',
      'the actor token has expired',
    ],
    [
      "someone else's actor token",
      alice,
      {
        actor: { iss: 'https://keyward.example', sub: 'agt_other', exp: NOW_S + 60, client_id: 'kwc_other' },
      },
      'invalid_request',
      'the actor token was issued to another party than the client making the request',
    ],
    [
      'a malformed act claim',
      { ...alice, act: 'agt_x' },
      {},
      'invalid_request',
      'the act claim of the subject token is malformed',
    ],
    [
      'an act claim without sub',
      { ...alice, act: { sub: 'agt_b', act: { client_id: 'kwc_a' } } },
      {},
      'invalid_request',
      'the act claim of the subject token is malformed',
    ],
    [
      'a may_act naming another actor',
      { ...alice, may_act: { sub: 'agt_other' } },
      {},
      'invalid_request',
      'the subject token does not allow this actor (may_act)',
    ],
    [
      'a subject token without scope',
      { ...alice, scope: undefined },
      { scope: 'repo:read' },
      'invalid_scope',
      'the subject token carries no scope, so there is nothing to delegate',
    ],
    [
      'a request for scopes the subject does not hold',
      { ...alice, scope: 'invoices:read' },
      { scope: 'repo:read' },
      'invalid_scope',
      'none of the requested scopes is both held by the subject token and allowed for this agent type',
    ],
    [
      'a resource the policy does not allow (the decision is passed through)',
      alice,
      { resource: 'https://evil.example' },
      'invalid_target',
      "resource 'https://evil.example' is not allowed for this agent type",
    ],
  ];

  it.each(refusals)('refuses %s', (_name, subject, overrides, error, description) => {
    expect(exchange(subject, overrides)).toMatchObject({ ok: false, error, description });
  });

  it('refuses an act claim nested deeper than it reads', () => {
    let act: ActClaim = { sub: 'a0' };
    for (let i = 1; i <= 64; i++) act = { sub: `a${i}`, act };
    expect(readActChain(act)).toBeNull();
    expect(exchange({ ...alice, act })).toMatchObject({ ok: false, error: 'invalid_request' });
  });

  it('refuses a decision made for another resource as a programming error', () => {
    const decision = decide(policy, {
      ...request,
      resource: 'https://billing.internal.example',
      scope: 'invoices:read',
    });
    expect(() => exchange(alice, { decision })).toThrow(
      'evaluateExchange: the decision was made for another resource',
    );
  });
});

describe('exchangeRequestedScope and readActChain', () => {
  it("falls back to the subject token's scope when the request names none", () => {
    expect(exchangeRequestedScope('', alice)).toEqual(['repo:read', 'issues:write', 'invoices:read']);
    expect(exchangeRequestedScope('repo:read', alice)).toEqual(['repo:read']);
    expect(exchangeRequestedScope([], { ...alice, scope: null })).toEqual([]);
  });

  it('reads act chains keeping identity claims only', () => {
    expect(readActChain(undefined)).toEqual({ act: null, depth: 0 });
    expect(readActChain({ sub: 'b', iss: 'https://i', nbf: 1, act: { sub: 'a', client_id: 'c' } })).toEqual({
      act: { sub: 'b', iss: 'https://i', act: { sub: 'a', client_id: 'c' } },
      depth: 2,
    });
    expect(readActChain({ sub: 'b', iss: 5 })).toBeNull();
    expect(readActChain([{ sub: 'a' }])).toBeNull();
    expect(readActChain({ sub: '' })).toBeNull();
  });
});

describe('evaluateExchange: properties', () => {
  const scopes = ['repo:read', 'issues:write', 'invoices:read', 'admin:org', 'other:x'];
  const scopeSet = fc.uniqueArray(fc.constantFrom(...scopes), { maxLength: 5 });
  const chainArb = fc.array(fc.stringMatching(/^agt_[a-z]{1,4}$/), { maxLength: 2 }).map((subs) => {
    let act: ActClaim | undefined;
    for (const sub of subs) act = act ? { sub, act } : { sub };
    return act;
  });

  it('never widens the scope, never extends the expiry, and adds exactly one actor', () => {
    let granted = 0;
    fc.assert(
      fc.property(
        scopeSet,
        scopeSet,
        fc.integer({ min: 1, max: 7200 }),
        fc.option(fc.integer({ min: 1, max: 7200 }), { nil: undefined }),
        chainArb,
        (held, requested, expIn, ttl, prior) => {
          const subject: SubjectTokenClaims = {
            ...alice,
            scope: held.join(' '),
            exp: NOW_S + expIn,
            act: prior,
          };
          const wanted = exchangeRequestedScope(requested, subject);
          const decision = decide(policy, { ...request, scope: wanted, ttlSeconds: ttl ?? null });
          const out = evaluateExchange({
            policy,
            decision,
            subject,
            client,
            requestedScope: wanted,
            resource: request.resource,
            now: NOW,
          });
          if (!out.ok) {
            // Refused only when the chain is too deep or nothing could be granted.
            const priorDepth = readActChain(prior)?.depth ?? 0;
            if (out.error === 'invalid_request') expect(priorDepth + 1).toBeGreaterThan(2);
            else {
              const possible =
                decision.effect === 'allow'
                  ? decision.scopes.filter((s) => held.includes(s) && wanted.includes(s))
                  : [];
              expect(possible).toEqual([]);
            }
            return;
          }
          granted++;
          for (const s of out.scopes) {
            expect(held).toContain(s);
            expect(wanted).toContain(s);
            expect(decision.effect === 'allow' && decision.scopes).toContain(s);
          }
          expect(out.expiresAt).toBeLessThanOrEqual(subject.exp);
          expect(out.expiresAt).toBeLessThanOrEqual(NOW_S + policy.tokens.maxTtlSeconds);
          expect(out.ttlSeconds).toBeGreaterThan(0);
          expect(out.chainDepth).toBe((readActChain(prior)?.depth ?? 0) + 1);
          expect(out.act.sub).toBe(client.sub);
          expect(out.act.act).toEqual(prior);
        },
      ),
      { numRuns: 300 },
    );
    // The generators must reach the interesting case often, not only refusals.
    expect(granted).toBeGreaterThan(50);
  });
});
