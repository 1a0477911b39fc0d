import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resourceMatches, scopeMatches, type BrokerPolicy } from './broker-policy.js';
import { parseBrokerPolicy, parseBrokerPolicyValue } from './broker-policy-parse.js';
import { decide, explain, type Decision, type Explanation, type TokenRequest } from './broker-decide.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'policies', 'valid');
const { policy, source } = parseBrokerPolicy(
  'support-agent.yaml',
  readFileSync(join(fixtures, 'support-agent.yaml'), 'utf8'),
);

// Tuesday 13 January 2026, 10:00 in Berlin (UTC+1): inside the office-hours window.
const TUESDAY_10_BERLIN = new Date('2026-01-13T09:00:00Z');

const base: TokenRequest = {
  scope: 'repo:read issues:write',
  resource: 'https://api.github.com',
  dpop: true,
  sourceIp: '10.1.2.3',
  now: TUESDAY_10_BERLIN,
  claims: { task: 'TICKET-42', purpose: 'answer the customer' },
};

/** The four checks the support-agent policy makes, all passing for `base`. */
const CHECKS_PASS: Explanation[] = [
  {
    rule: 'conditions.sourceCidrs',
    line: 23,
    outcome: 'allow',
    message: 'source address 10.1.2.3 is in 10.0.0.0/8',
  },
  {
    rule: 'conditions.timeWindows[0]',
    line: 24,
    outcome: 'allow',
    message: 'Tue 10:00 Europe/Berlin is inside mon-fri 08:00-18:00 Europe/Berlin',
  },
  {
    rule: 'tokens.requireDpop',
    line: 8,
    outcome: 'allow',
    message: 'DPoP is required and the request carries a proof',
  },
  { rule: 'tokens.requireClaims', line: 9, outcome: 'allow', message: 'task and purpose present' },
];
const DEFAULT_TTL: Explanation = {
  rule: 'tokens.defaultTtl',
  line: 7,
  outcome: 'note',
  message: 'no lifetime requested; defaultTtl 5m',
};
const github = (scope: string): Explanation => ({
  rule: 'allow[0]',
  line: 11,
  outcome: 'allow',
  scope,
  message: `resource matches 'https://api.github.com' and scope matches '${scope}'`,
});
const notListed = (scope: string): Explanation => ({
  rule: 'allow',
  line: 10,
  outcome: 'deny',
  scope,
  message: `no allow rule for this resource lists ${scope}`,
});
const deniedAdmin = (scope: string): Explanation => ({
  rule: 'deny[0]',
  line: 20,
  outcome: 'deny',
  scope,
  message: "resource matches '*' and scope matches 'admin:*'; deny rules win over allow rules",
});

interface Case {
  name: string;
  request: Partial<TokenRequest>;
  expected: Decision;
}

const cases: Case[] = [
  {
    name: 'grants every requested scope the policy allows, for the default lifetime',
    request: {},
    expected: {
      effect: 'allow',
      resource: 'https://api.github.com',
      scopes: ['repo:read', 'issues:write'],
      ttlSeconds: 300,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [...CHECKS_PASS, github('repo:read'), github('issues:write'), DEFAULT_TTL],
    },
  },
  {
    name: 'takes the scope as a list too',
    request: { scope: ['issues:write', 'repo:read', 'issues:write'] },
    expected: {
      effect: 'allow',
      resource: 'https://api.github.com',
      scopes: ['issues:write', 'repo:read'],
      ttlSeconds: 300,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [...CHECKS_PASS, github('issues:write'), github('repo:read'), DEFAULT_TTL],
    },
  },
  {
    name: 'issues the allowed part when only some requested scopes are allowed (RFC 6749 §3.3)',
    request: { scope: 'repo:read repo:write admin:org' },
    expected: {
      effect: 'allow',
      resource: 'https://api.github.com',
      scopes: ['repo:read'],
      ttlSeconds: 300,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [
        ...CHECKS_PASS,
        github('repo:read'),
        notListed('repo:write'),
        notListed('admin:org'),
        deniedAdmin('admin:org'),
        {
          rule: 'request.scope',
          line: null,
          outcome: 'note',
          message: 'dropped repo:write admin:org; the token carries only the allowed scopes',
        },
        DEFAULT_TTL,
      ],
    },
  },
  {
    name: 'refuses with invalid_scope when no requested scope is allowed',
    request: { scope: 'repo:write admin:org' },
    expected: {
      effect: 'deny',
      error: 'invalid_scope',
      description:
        "none of the requested scopes (repo:write admin:org) may be issued for resource 'https://api.github.com'",
      reasons: [
        ...CHECKS_PASS,
        notListed('repo:write'),
        notListed('admin:org'),
        deniedAdmin('admin:org'),
        DEFAULT_TTL,
      ],
    },
  },
  {
    name: 'grants no default scope when none is requested',
    request: { scope: '' },
    expected: {
      effect: 'deny',
      error: 'invalid_scope',
      description:
        'no scope requested; this broker grants no default scope, so name the scopes the task needs',
      reasons: [
        ...CHECKS_PASS,
        {
          rule: 'request.scope',
          line: null,
          outcome: 'deny',
          message:
            'no scope requested; this broker grants no default scope, so name the scopes the task needs',
        },
        DEFAULT_TTL,
      ],
    },
  },
  {
    name: 'marks scopes that need approval, with the rule timeout',
    request: { scope: 'invoices:read invoices:refund', resource: 'https://billing.internal.example' },
    expected: {
      effect: 'allow',
      resource: 'https://billing.internal.example',
      scopes: ['invoices:read', 'invoices:refund'],
      ttlSeconds: 300,
      needsApproval: ['invoices:refund'],
      approvalTimeoutSeconds: 600,
      reasons: [
        ...CHECKS_PASS,
        {
          rule: 'allow[1]',
          line: 13,
          outcome: 'allow',
          scope: 'invoices:read',
          message: "resource matches 'https://billing.internal.example' and scope matches 'invoices:read'",
        },
        {
          rule: 'allow[1]',
          line: 13,
          outcome: 'allow',
          scope: 'invoices:refund',
          message: "resource matches 'https://billing.internal.example' and scope matches 'invoices:refund'",
        },
        {
          rule: 'allow[1].approval',
          line: 15,
          outcome: 'note',
          scope: 'invoices:refund',
          message: "needs a person's approval (timeout 10m)",
        },
        DEFAULT_TTL,
      ],
    },
  },
  {
    name: 'matches glob resources and scopes',
    request: { scope: 'docs:read', resource: 'https://wiki.internal.example/spaces/support' },
    expected: {
      effect: 'allow',
      resource: 'https://wiki.internal.example/spaces/support',
      scopes: ['docs:read'],
      ttlSeconds: 300,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [
        ...CHECKS_PASS,
        {
          rule: 'allow[2]',
          line: 17,
          outcome: 'allow',
          scope: 'docs:read',
          message: "resource matches 'https://*.internal.example/*' and scope matches 'docs:*'",
        },
        DEFAULT_TTL,
      ],
    },
  },
  {
    name: 'caps a requested lifetime at maxTtl',
    request: { ttlSeconds: 3600 },
    expected: {
      effect: 'allow',
      resource: 'https://api.github.com',
      scopes: ['repo:read', 'issues:write'],
      ttlSeconds: 900,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [
        ...CHECKS_PASS,
        github('repo:read'),
        github('issues:write'),
        { rule: 'tokens.maxTtl', line: 6, outcome: 'note', message: 'requested 1h; capped at maxTtl 15m' },
      ],
    },
  },
  {
    name: 'gives a shorter requested lifetime as asked',
    request: { ttlSeconds: 60 },
    expected: {
      effect: 'allow',
      resource: 'https://api.github.com',
      scopes: ['repo:read', 'issues:write'],
      ttlSeconds: 60,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [
        ...CHECKS_PASS,
        github('repo:read'),
        github('issues:write'),
        { rule: 'request.ttl', line: null, outcome: 'note', message: 'lifetime 1m as requested' },
      ],
    },
  },
  {
    name: 'accepts an IPv4 client seen through a dual-stack socket',
    request: { scope: 'repo:read', sourceIp: '::ffff:10.9.8.7' },
    expected: {
      effect: 'allow',
      resource: 'https://api.github.com',
      scopes: ['repo:read'],
      ttlSeconds: 300,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [
        {
          rule: 'conditions.sourceCidrs',
          line: 23,
          outcome: 'allow',
          message: 'source address ::ffff:10.9.8.7 is in 10.0.0.0/8',
        },
        ...CHECKS_PASS.slice(1),
        github('repo:read'),
        DEFAULT_TTL,
      ],
    },
  },
];

describe('decide', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(decide(policy, { ...base, ...c.request }, { source })).toEqual(c.expected);
  });

  // Refusals: the error code and description a client sees, and the reason that decided it.
  const refusals: Array<[string, Partial<TokenRequest>, string, string, Explanation]> = [
    [
      'source address outside every CIDR',
      { sourceIp: '203.0.113.9' },
      'unauthorized_client',
      'source address 203.0.113.9 is outside the networks this agent type may request tokens from',
      {
        rule: 'conditions.sourceCidrs',
        line: 23,
        outcome: 'deny',
        message: 'source address 203.0.113.9 is in none of 10.0.0.0/8, 192.168.1.0/24, ::1/128',
      },
    ],
    [
      'unknown source address',
      { sourceIp: null },
      'unauthorized_client',
      'the source address is unknown; this agent type accepts requests only from listed networks',
      { rule: 'conditions.sourceCidrs', line: 23, outcome: 'deny', message: 'the source address is unknown' },
    ],
    [
      'unreadable source address',
      { sourceIp: 'localhost' },
      'unauthorized_client',
      "cannot read source address 'localhost'; this agent type accepts requests only from listed networks",
      {
        rule: 'conditions.sourceCidrs',
        line: 23,
        outcome: 'deny',
        message: "cannot read source address 'localhost'",
      },
    ],
    [
      'outside the time window (Saturday)',
      { now: new Date('2026-01-17T10:00:00Z') },
      'unauthorized_client',
      'token requests for this agent type are allowed only mon-fri 08:00-18:00 Europe/Berlin (it is Sat 11:00 Europe/Berlin)',
      {
        rule: 'conditions.timeWindows',
        line: 24,
        outcome: 'deny',
        message: 'Sat 11:00 Europe/Berlin is outside mon-fri 08:00-18:00 Europe/Berlin',
      },
    ],
    [
      'outside the time window (Tuesday 18:00 Berlin)',
      { now: new Date('2026-01-13T17:00:00Z') },
      'unauthorized_client',
      'token requests for this agent type are allowed only mon-fri 08:00-18:00 Europe/Berlin (it is Tue 18:00 Europe/Berlin)',
      {
        rule: 'conditions.timeWindows',
        line: 24,
        outcome: 'deny',
        message: 'Tue 18:00 Europe/Berlin is outside mon-fri 08:00-18:00 Europe/Berlin',
      },
    ],
    [
      'DPoP required but absent',
      { dpop: false },
      'invalid_request',
      'this agent type requires DPoP-bound tokens; send a DPoP proof with the request (RFC 9449)',
      {
        rule: 'tokens.requireDpop',
        line: 8,
        outcome: 'deny',
        message: 'DPoP is required and the request carries no DPoP proof',
      },
    ],
    [
      'a required claim missing',
      { claims: { task: 'TICKET-42', purpose: '  ' } },
      'invalid_request',
      'the purpose claim is missing; this agent type requires task and purpose with every token request',
      { rule: 'tokens.requireClaims', line: 9, outcome: 'deny', message: 'purpose missing' },
    ],
    [
      'both required claims missing',
      { claims: {} },
      'invalid_request',
      'the task and purpose claims are missing; this agent type requires task and purpose with every token request',
      { rule: 'tokens.requireClaims', line: 9, outcome: 'deny', message: 'task and purpose missing' },
    ],
    [
      'a resource no allow rule names (RFC 8707)',
      { resource: 'https://evil.example' },
      'invalid_target',
      "resource 'https://evil.example' is not allowed for this agent type",
      {
        rule: 'allow',
        line: 10,
        outcome: 'deny',
        message: "no allow rule matches resource 'https://evil.example'",
      },
    ],
    [
      'a host wildcard asked to cross a path',
      { resource: 'https://evil.example/.internal.example/x', scope: 'docs:read' },
      'invalid_target',
      "resource 'https://evil.example/.internal.example/x' is not allowed for this agent type",
      {
        rule: 'allow',
        line: 10,
        outcome: 'deny',
        message: "no allow rule matches resource 'https://evil.example/.internal.example/x'",
      },
    ],
    [
      'a resource that is not an absolute URI',
      { resource: 'api.github.com' },
      'invalid_target',
      'the resource must be an absolute URI such as https://api.example.com (RFC 8707)',
      {
        rule: 'request.resource',
        line: null,
        outcome: 'deny',
        message: 'the resource must be an absolute URI such as https://api.example.com (RFC 8707)',
      },
    ],
    [
      'a wildcard scope',
      { scope: 'repo:*' },
      'invalid_scope',
      "scope 'repo:*' is malformed: wildcards belong in policies; request the concrete scopes the task needs",
      {
        rule: 'request.scope',
        line: null,
        outcome: 'deny',
        message:
          "scope 'repo:*' is malformed: wildcards belong in policies; request the concrete scopes the task needs",
      },
    ],
    [
      'a scope with a quote',
      { scope: ['repo:"read"'] },
      'invalid_scope',
      "scope 'repo:?read?' is malformed: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 3.3)",
      {
        rule: 'request.scope',
        line: null,
        outcome: 'deny',
        message:
          "scope 'repo:?read?' is malformed: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 3.3)",
      },
    ],
    [
      'a lifetime of zero',
      { ttlSeconds: 0 },
      'invalid_request',
      'the requested lifetime must be a whole number of seconds greater than 0',
      {
        rule: 'request.ttl',
        line: null,
        outcome: 'deny',
        message: 'the requested lifetime must be a whole number of seconds greater than 0',
      },
    ],
    [
      'an overlong task claim',
      { claims: { task: 'x'.repeat(257), purpose: 'p' } },
      'invalid_request',
      'the task claim is longer than 256 characters',
      {
        rule: 'request.claims',
        line: null,
        outcome: 'deny',
        message: 'the task claim is longer than 256 characters',
      },
    ],
  ];

  it.each(refusals)('refuses %s', (_name, change, error, description, reason) => {
    const d = decide(policy, { ...base, ...change }, { source });
    expect(d).toMatchObject({ effect: 'deny', error, description });
    expect(d.reasons).toContainEqual(reason);
  });

  it('reports the first failure in order: request form, conditions, token requirements, resource, scope', () => {
    const all = { sourceIp: '203.0.113.9', dpop: false, resource: 'https://evil.example', claims: {} };
    expect(decide(policy, { ...base, ...all })).toMatchObject({ error: 'unauthorized_client' });
    expect(decide(policy, { ...base, ...all, sourceIp: '10.0.0.1' })).toMatchObject({
      error: 'invalid_request',
    });
    expect(decide(policy, { ...base, ...all, scope: 'a:*' })).toMatchObject({ error: 'invalid_scope' });
    expect(decide(policy, { ...base, resource: 'https://evil.example', scope: 'nope' })).toMatchObject({
      error: 'invalid_target',
    });
  });

  it('fails closed on fields a caller left out', () => {
    const loose = {
      scope: 'repo:read',
      resource: 'https://api.github.com',
      now: TUESDAY_10_BERLIN,
    } as TokenRequest;
    expect(decide(policy, loose)).toMatchObject({
      effect: 'deny',
      error: 'unauthorized_client',
      description:
        'the source address is unknown; this agent type accepts requests only from listed networks',
    });
    expect(decide(policy, { ...loose, sourceIp: '10.0.0.1' })).toMatchObject({ error: 'invalid_request' });
    expect(() => decide(policy, { ...base, now: new Date('nope') })).toThrow(
      'decide: request.now must be a valid Date',
    );
  });

  it('lets deny rules win over allow rules, names rules without a file, and needs no conditions', () => {
    const { policy: open } = parseBrokerPolicyValue({
      agentType: 'ops',
      owner: 'ops@example.com',
      allow: [
        { resource: 'https://k8s.example/*', scopes: ['pods:*', 'secrets:read'], approval: ['pods:delete'] },
      ],
      deny: [{ resource: 'https://k8s.example/prod/*', scopes: ['pods:delete', 'secrets:*'] }],
    });
    const request = {
      scope: 'pods:read pods:delete secrets:read',
      dpop: false,
      sourceIp: null,
      now: TUESDAY_10_BERLIN,
    };
    expect(decide(open, { ...request, resource: 'https://k8s.example/prod/api' })).toEqual({
      effect: 'allow',
      resource: 'https://k8s.example/prod/api',
      scopes: ['pods:read'],
      ttlSeconds: 900,
      needsApproval: [],
      approvalTimeoutSeconds: null,
      reasons: [
        {
          rule: 'allow[0]',
          line: null,
          outcome: 'allow',
          scope: 'pods:read',
          message: "resource matches 'https://k8s.example/*' and scope matches 'pods:*'",
        },
        {
          rule: 'allow[0]',
          line: null,
          outcome: 'allow',
          scope: 'pods:delete',
          message: "resource matches 'https://k8s.example/*' and scope matches 'pods:*'",
        },
        {
          rule: 'deny[0]',
          line: null,
          outcome: 'deny',
          scope: 'pods:delete',
          message:
            "resource matches 'https://k8s.example/prod/*' and scope matches 'pods:delete'; deny rules win over allow rules",
        },
        {
          rule: 'allow[0]',
          line: null,
          outcome: 'allow',
          scope: 'secrets:read',
          message: "resource matches 'https://k8s.example/*' and scope matches 'secrets:read'",
        },
        {
          rule: 'deny[0]',
          line: null,
          outcome: 'deny',
          scope: 'secrets:read',
          message:
            "resource matches 'https://k8s.example/prod/*' and scope matches 'secrets:*'; deny rules win over allow rules",
        },
        {
          rule: 'request.scope',
          line: null,
          outcome: 'note',
          message: 'dropped pods:delete secrets:read; the token carries only the allowed scopes',
        },
        {
          rule: 'tokens.defaultTtl',
          line: null,
          outcome: 'note',
          message: 'no lifetime requested; defaultTtl 15m',
        },
      ],
    });
    expect(decide(open, { ...request, resource: 'https://k8s.example/dev/api' })).toMatchObject({
      effect: 'allow',
      scopes: ['pods:read', 'pods:delete', 'secrets:read'],
      needsApproval: ['pods:delete'],
      approvalTimeoutSeconds: 600,
    });
  });

  it('asks for approval when any matching rule puts the scope behind it, with the shortest timeout', () => {
    const { policy: two } = parseBrokerPolicyValue({
      agentType: 'pay',
      owner: 'o',
      allow: [
        { resource: '*', scopes: ['pay:*'], approval: ['pay:send'], approvalTimeout: '30m' },
        {
          resource: 'https://pay.example',
          scopes: ['pay:send'],
          approval: ['pay:send'],
          approvalTimeout: '2m',
        },
        { resource: 'https://pay.example', scopes: ['pay:read'] },
      ],
    });
    expect(
      decide(two, {
        scope: 'pay:read pay:send',
        resource: 'https://pay.example',
        dpop: false,
        sourceIp: null,
        now: TUESDAY_10_BERLIN,
      }),
    ).toMatchObject({
      effect: 'allow',
      scopes: ['pay:read', 'pay:send'],
      needsApproval: ['pay:send'],
      approvalTimeoutSeconds: 120,
    });
  });
});

describe('decide: properties', () => {
  const scopeWord = fc.constantFrom('a', 'b', 'c', 'd');
  const scopeArb = fc.tuple(scopeWord, scopeWord).map(([x, y]) => `${x}:${y}`);
  const patternArb = fc.oneof(
    scopeArb,
    scopeWord.map((x) => `${x}:*`),
    fc.constant('*'),
    fc.constant('?:a'),
  );
  const resources = ['https://one.example', 'https://two.example/api', 'urn:x:y'];
  const resourcePatternArb = fc.constantFrom(
    '*',
    'https://one.example',
    'https://*.example/*',
    'urn:x:*',
    'https://two.example/*',
  );
  const ruleArb = fc.record({
    resource: resourcePatternArb,
    scopes: fc.uniqueArray(patternArb, { minLength: 1, maxLength: 3 }),
  });
  const policyArb: fc.Arbitrary<BrokerPolicy> = fc
    .record({
      allow: fc.array(ruleArb, { maxLength: 4 }),
      deny: fc.array(ruleArb, { maxLength: 2 }),
      maxTtl: fc.integer({ min: 1, max: 86_400 }),
    })
    .map(
      ({ allow, deny, maxTtl }) =>
        parseBrokerPolicyValue({ agentType: 'p', owner: 'o', tokens: { maxTtl: `${maxTtl}s` }, allow, deny })
          .policy,
    );
  const requestArb = fc.record({
    scope: fc.array(scopeArb, { maxLength: 5 }),
    resource: fc.constantFrom(...resources),
    ttlSeconds: fc.option(fc.integer({ min: 1, max: 200_000 }), { nil: undefined }),
  });

  it('grants exactly the requested scopes that some allow rule and no deny rule matches, never more', () => {
    let allowed = 0;
    fc.assert(
      fc.property(policyArb, requestArb, (p, r) => {
        const d = decide(p, { ...r, dpop: false, sourceIp: null, now: TUESDAY_10_BERLIN });
        const allowedHere = (s: string) =>
          p.allow.some(
            (a) => resourceMatches(a.resource, r.resource) && a.scopes.some((x) => scopeMatches(x, s)),
          ) &&
          !p.deny.some(
            (x) => resourceMatches(x.resource, r.resource) && x.scopes.some((y) => scopeMatches(y, s)),
          );
        const expected = [...new Set(r.scope)].filter(allowedHere);
        if (d.effect === 'allow') {
          allowed++;
          expect(d.scopes).toEqual(expected);
          for (const s of d.scopes) expect(r.scope).toContain(s);
          expect(d.ttlSeconds).toBeLessThanOrEqual(p.tokens.maxTtlSeconds);
          expect(d.ttlSeconds).toBeGreaterThanOrEqual(1);
          if (r.ttlSeconds !== undefined) expect(d.ttlSeconds).toBeLessThanOrEqual(r.ttlSeconds);
        } else {
          expect(expected).toEqual([]);
          expect(['invalid_scope', 'invalid_target']).toContain(d.error);
        }
      }),
      { numRuns: 500 },
    );
    // The generators must reach grants often, not only refusals.
    expect(allowed).toBeGreaterThan(50);
  });

  it('always writes descriptions error_description allows, whatever the request holds', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        (scope, resource) => {
          for (const res of [resource, `https://x.example/${resource}`]) {
            const d = decide(policy, { ...base, scope, resource: res });
            if (d.effect === 'deny') expect(d.description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
          }
        },
      ),
    );
  });
});

describe('explain', () => {
  it('says which rule allows or denies each scope and which checks were not made', () => {
    const out = explain(
      policy,
      {
        scope: 'invoices:read invoices:refund admin:write export:all',
        resource: 'https://billing.internal.example',
      },
      { source },
    );
    expect(out.text).toBe(
      [
        'Agent type support-agent (support-agent.yaml)',
        'Resource:  https://billing.internal.example',
        'Requested: invoices:read invoices:refund admin:write export:all',
        '',
        'Scopes:',
        "  invoices:read    allow  allow[1] (line 13): resource matches 'https://billing.internal.example' and scope matches 'invoices:read'",
        "  invoices:refund  allow  allow[1] (line 13): resource matches 'https://billing.internal.example' and scope matches 'invoices:refund'",
        "                   note   allow[1].approval (line 15): needs a person's approval (timeout 10m)",
        '  admin:write      deny   allow (line 10): no allow rule for this resource lists admin:write',
        "                   deny   deny[0] (line 20): resource matches '*' and scope matches 'admin:*'; deny rules win over allow rules",
        '  export:all       deny   allow (line 10): no allow rule for this resource lists export:all',
        '',
        'Checks:',
        '  skip   conditions.sourceCidrs (line 23): not checked: no source address given',
        '  skip   conditions.timeWindows (line 24): not checked: no time given',
        '  skip   tokens.requireDpop (line 8): DPoP is required; not checked: no request given',
        '  skip   tokens.requireClaims (line 9): task and purpose required; not checked: no claims given',
        '  note   request.scope: dropped admin:write export:all; the token carries only the allowed scopes',
        '  note   tokens.defaultTtl (line 7): no lifetime requested; defaultTtl 5m',
        '',
        "Result: allow invoices:read invoices:refund for 5m; needs a person's approval for invoices:refund",
        '        provided the checks not made here pass: conditions.sourceCidrs, conditions.timeWindows, tokens.requireDpop, tokens.requireClaims',
      ].join('\n'),
    );
    expect(out.decision).toMatchObject({ effect: 'allow', scopes: ['invoices:read', 'invoices:refund'] });
    expect(out.reasons).toBe(out.decision.reasons);
  });

  it('lists the allowed resources when the resource is unknown, and checks what it is given', () => {
    const out = explain(policy, {
      scope: 'repo:read',
      resource: 'https://gitlab.example',
      sourceIp: '10.0.0.1',
    });
    expect(out.text).toBe(
      [
        'Agent type support-agent',
        'Resource:  https://gitlab.example',
        'Requested: repo:read',
        '',
        'Checks:',
        '  allow  conditions.sourceCidrs: source address 10.0.0.1 is in 10.0.0.0/8',
        '  skip   conditions.timeWindows: not checked: no time given',
        '  skip   tokens.requireDpop: DPoP is required; not checked: no request given',
        '  skip   tokens.requireClaims: task and purpose required; not checked: no claims given',
        "  deny   allow: no allow rule matches resource 'https://gitlab.example'",
        '  note   tokens.defaultTtl: no lifetime requested; defaultTtl 5m',
        '',
        "Result: deny (invalid_target): resource 'https://gitlab.example' is not allowed for this agent type",
        'The policy allows these resources: https://api.github.com, https://billing.internal.example, https://*.internal.example/*',
      ].join('\n'),
    );
  });
});

describe('docs/broker-policy.md', () => {
  const docs = readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'broker-policy.md'),
    'utf8',
  );
  /** The fenced block right after an HTML comment marker. */
  const blockAfter = (marker: string): string => {
    const at = docs.indexOf(`<!-- ${marker}`);
    expect(at, marker).toBeGreaterThan(-1);
    const m = /```[a-z]*\n([\s\S]*?)\n```/.exec(docs.slice(at));
    return m![1]!;
  };

  it('shows the example policy the fixture holds, line for line', () => {
    const shown = parseBrokerPolicy('support-agent.yaml', `${blockAfter('policy-example')}\n`);
    expect(shown.policy).toEqual(policy);
    expect(shown.source).toEqual(source);
  });

  it('shows explain output exactly as explain writes it', () => {
    expect(
      explain(
        policy,
        { scope: 'invoices:read invoices:refund admin:write', resource: 'https://billing.internal.example' },
        { source },
      ).text,
    ).toBe(blockAfter('explain-example-1'));
    expect(
      explain(
        policy,
        {
          scope: 'repo:read',
          resource: 'https://api.github.com',
          now: new Date('2026-01-17T10:00:00Z'),
          sourceIp: '10.4.0.12',
          dpop: true,
          claims: { task: 'T-7', purpose: 'triage' },
        },
        { source },
      ).text,
    ).toBe(blockAfter('explain-example-2'));
  });
});
