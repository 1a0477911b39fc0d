import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import type { BrokerPolicy } from './broker-policy.js';
import { decide } from './broker-decide.js';
import { parseBrokerPolicyValue } from './broker-policy-parse.js';
import {
  computeRightsizing,
  parseWindow,
  windowEndingAt,
  type RightsizingInput,
  type ScopeRow,
} from './rightsize.js';
import {
  call,
  ev,
  idleType,
  issued,
  NOW,
  supportEvents,
  supportType,
  WINDOW,
} from './rightsize-test-support.js';

function input(over: Partial<RightsizingInput> = {}): RightsizingInput {
  return {
    agentTypes: [supportType(), idleType()],
    events: supportEvents(),
    window: WINDOW,
    now: NOW,
    ...over,
  };
}

const row = (r: Partial<ScopeRow> & Pick<ScopeRow, 'rule' | 'resource' | 'scope'>): ScopeRow => ({
  issued: 0,
  used: 0,
  lastIssued: null,
  lastUsed: null,
  firstAllowed: '2026-01-10T08:00:00.000Z',
  verdict: 'unused',
  action: 'keep',
  replaceWith: null,
  concrete: null,
  note: null,
  ...r,
});

describe('computeRightsizing', () => {
  it('reports each allowed scope with its usage, verdict and action', () => {
    const report = computeRightsizing(input());
    expect(report.window).toEqual(WINDOW);
    expect(report.keepRecentDays).toBe(14);
    expect(report.keptSince).toBe('2026-05-18T00:00:00.000Z');
    expect(report.unreadableEvents).toBe(0);
    expect(report.agentTypes.map((t) => t.name)).toEqual(['idle-bot', 'support-agent']);
    const support = report.agentTypes[1]!;
    expect(support.tokensIssued).toBe(3);
    expect(support.proxyCalls).toBe(3);
    const gh = 'keyward:upstream:github';
    const billing = 'https://billing.internal.example';
    expect(support.rows).toEqual([
      row({
        rule: 0,
        resource: gh,
        scope: 'repo:read',
        issued: 1,
        used: 2,
        lastIssued: '2026-05-10T09:00:00.000Z',
        lastUsed: '2026-05-10T09:02:00.000Z',
        verdict: 'used',
      }),
      row({
        rule: 0,
        resource: gh,
        scope: 'issues:write',
        issued: 1,
        lastIssued: '2026-05-10T09:00:00.000Z',
        verdict: 'issued-not-used',
      }),
      row({
        rule: 0,
        resource: gh,
        scope: 'pulls:write',
        firstAllowed: '2026-05-25T12:00:00.000Z',
        verdict: 'kept-recent',
      }),
      row({
        rule: 1,
        resource: billing,
        scope: 'invoices:read',
        issued: 1,
        lastIssued: '2026-05-20T10:00:00.000Z',
        verdict: 'issued-not-used',
      }),
      row({ rule: 1, resource: billing, scope: 'invoices:refund', verdict: 'unused', action: 'remove' }),
      row({
        rule: 2,
        resource: 'keyward:upstream:docs',
        scope: 'docs:*',
        issued: 2,
        used: 1,
        lastIssued: '2026-05-21T10:00:00.000Z',
        lastUsed: '2026-05-21T10:05:00.000Z',
        verdict: 'wildcard',
        action: 'replace',
        replaceWith: ['docs:read', 'docs:search'],
        concrete: [
          {
            scope: 'docs:read',
            issued: 1,
            used: 1,
            lastIssued: '2026-05-21T10:00:00.000Z',
            lastUsed: '2026-05-21T10:05:00.000Z',
            verdict: 'used',
          },
          {
            scope: 'docs:search',
            issued: 1,
            used: 0,
            lastIssued: '2026-05-21T10:00:00.000Z',
            lastUsed: null,
            verdict: 'issued-not-used',
          },
        ],
      }),
      row({
        rule: 3,
        resource: 'https://search.internal.example',
        scope: 'search:query',
        firstAllowed: '2026-05-25T12:00:00.000Z',
        verdict: 'kept-recent',
      }),
    ]);
    expect(support.agentsWithoutTokens).toEqual([
      { id: 'agt_c', name: 'gamma', clientId: 'kwc_gamma001', status: 'disabled' },
    ]);
  });

  it('proposes the narrower policy as a document, a change list and the exact YAML diff', () => {
    const support = computeRightsizing(input()).agentTypes[1]!;
    const p = support.proposal;
    expect(p.changed).toBe(true);
    expect(p.note).toBeNull();
    expect(p.removedScopes).toEqual([
      { rule: 1, resource: 'https://billing.internal.example', scope: 'invoices:refund' },
      { rule: 2, resource: 'keyward:upstream:docs', scope: 'docs:*' },
    ]);
    expect(p.addedScopes).toEqual([
      { rule: 2, resource: 'keyward:upstream:docs', scope: 'docs:read', replaces: 'docs:*' },
      { rule: 2, resource: 'keyward:upstream:docs', scope: 'docs:search', replaces: 'docs:*' },
    ]);
    expect(p.removedRules).toEqual([]);
    expect(p.document.allow).toEqual([
      { resource: 'keyward:upstream:github', scopes: ['repo:read', 'issues:write', 'pulls:write'] },
      { resource: 'https://billing.internal.example', scopes: ['invoices:read'] },
      { resource: 'keyward:upstream:docs', scopes: ['docs:read', 'docs:search'] },
      { resource: 'https://search.internal.example', scopes: ['search:query'] },
    ]);
    expect(p.document.deny).toEqual([{ resource: '*', scopes: ['admin:*'] }]);
    expect(p.diff).toBe(
      [
        '--- support-agent (current)',
        '+++ support-agent (proposed)',
        '@@ -9,13 +9,10 @@',
        '   - resource: https://billing.internal.example',
        '     scopes:',
        '       - invoices:read',
        '-      - invoices:refund',
        '-    approval:',
        '-      - invoices:refund',
        '-    approvalTimeout: 10m',
        '   - resource: keyward:upstream:docs',
        '     scopes:',
        '-      - docs:*',
        '+      - docs:read',
        '+      - docs:search',
        '   - resource: https://search.internal.example',
        '     scopes:',
        '       - search:query',
        '',
      ].join('\n'),
    );
    // What is proposed is a valid policy for the same agent type.
    expect(
      parseBrokerPolicyValue(p.document, { expectedAgentType: 'support-agent' }).policy.allow,
    ).toHaveLength(4);
  });

  it('proposes nothing for an agent type that got no token in the window', () => {
    const idle = computeRightsizing(input()).agentTypes[0]!;
    expect(idle.tokensIssued).toBe(0);
    expect(idle.rows).toEqual([
      row({
        rule: 0,
        resource: 'https://api.example.com',
        scope: 'a:read',
        firstAllowed: '2025-12-01T00:00:00.000Z',
        verdict: 'unused',
        action: 'keep',
      }),
    ]);
    expect(idle.agentsWithoutTokens).toEqual([
      { id: 'agt_i', name: 'idle-1', clientId: 'kwc_idle0001', status: 'active' },
    ]);
    expect(idle.proposal).toEqual({
      changed: false,
      note: 'no token was issued to agents of this type in the window, so there is no usage to narrow the policy to',
      document: idleType().document,
      removedScopes: [],
      addedScopes: [],
      removedRules: [],
      diff: '',
    });
  });

  it('leaves the policy unchanged when every scope is used', () => {
    const { policy, document } = parseBrokerPolicyValue({
      agentType: 'ci',
      owner: 'ci@example.com',
      allow: [{ resource: 'keyward:upstream:github', scopes: ['repo:read'] }],
    });
    const type = { id: 'aty_ci', name: 'ci', policy, document, policyHistory: [] };
    const report = computeRightsizing({
      agentTypes: [type],
      events: [
        issued(
          '2026-05-10T00:00:00.000Z',
          'c1',
          'agt_ci',
          'keyward:upstream:github',
          ['repo:read'],
          'aty_ci',
        ),
        call('2026-05-10T00:00:01.000Z', 'c1', 'kwc_ci', 'github', 'repo:read'),
      ],
      window: WINDOW,
      now: NOW,
    });
    const t = report.agentTypes[0]!;
    expect(t.rows.map((r) => [r.scope, r.verdict, r.action, r.firstAllowed])).toEqual([
      ['repo:read', 'used', 'keep', null],
    ]);
    expect(t.proposal.changed).toBe(false);
    expect(t.proposal.note).toBeNull();
    expect(t.proposal.diff).toBe('');
    expect(t.proposal.document).toBe(document);
  });

  it('counts events exactly at the ends of the window and none outside it', () => {
    const { policy } = parseBrokerPolicyValue({
      agentType: 'edge',
      owner: 'o',
      allow: [{ resource: 'https://r.example', scopes: ['at:from', 'at:to', 'before', 'after'] }],
    });
    const e = (time: string, scope: string) =>
      issued(time, `j-${scope}`, 'agt_e', 'https://r.example', [scope], 'aty_edge');
    const report = computeRightsizing({
      agentTypes: [{ id: 'aty_edge', name: 'edge', policy, policyHistory: [] }],
      events: [
        e('2026-05-01T23:59:59.999Z', 'before'),
        e(WINDOW.from, 'at:from'),
        e(WINDOW.to, 'at:to'),
        e('2026-06-01T00:00:00.001Z', 'after'),
      ],
      window: WINDOW,
      now: NOW,
    });
    expect(report.agentTypes[0]!.rows.map((r) => [r.scope, r.issued, r.verdict])).toEqual([
      ['at:from', 1, 'issued-not-used'],
      ['at:to', 1, 'issued-not-used'],
      ['before', 0, 'unused'],
      ['after', 0, 'unused'],
    ]);
  });

  it('keeps scopes added within the keep period, measured from now, both ends included', () => {
    const { policy, document } = parseBrokerPolicyValue({
      agentType: 'recent',
      owner: 'o',
      allow: [
        { resource: 'https://r.example', scopes: ['used', 'day14', 'day14plus', 'readded', 'globbed'] },
      ],
    });
    const v = (scopes: string[]) => ({ allow: [{ resource: 'https://r.example', scopes }] });
    const report = computeRightsizing({
      agentTypes: [
        {
          id: 'aty_r',
          name: 'recent',
          policy,
          policyHistory: [
            { time: '2026-01-01T00:00:00.000Z', policy: v(['used', 'day14plus', 'readded', 'glob*']) },
            // Exactly 14 days before now: still kept.
            { time: '2026-05-18T00:00:00.000Z', policy: v(['used', 'day14', 'day14plus', 'glob*']) },
            { time: '2026-05-18T00:00:00.001Z', policy: document },
          ],
        },
      ],
      events: [
        issued('2026-05-10T00:00:00.000Z', 'r1', 'agt_r', 'https://r.example', ['used'], 'aty_r'),
        call('2026-05-10T00:00:01.000Z', 'r1', 'kwc_r', 'r', 'used'),
      ],
      window: WINDOW,
      now: NOW,
    });
    const rows = report.agentTypes[0]!.rows;
    expect(rows.map((r) => [r.scope, r.firstAllowed, r.verdict, r.action])).toEqual([
      ['used', '2026-01-01T00:00:00.000Z', 'used', 'keep'],
      ['day14', '2026-05-18T00:00:00.000Z', 'kept-recent', 'keep'],
      // Added 2026-05-18T00:00:00.001Z: within the period.
      ['day14plus', '2026-01-01T00:00:00.000Z', 'unused', 'remove'],
      // Removed on 2026-05-18 and added back a millisecond later: the clock starts again.
      ['readded', '2026-05-18T00:00:00.001Z', 'kept-recent', 'keep'],
      // Allowed by the glob glob* before it was listed by name: allowed since then.
      ['globbed', '2026-01-01T00:00:00.000Z', 'unused', 'remove'],
    ]);
    const shorter = computeRightsizing({
      agentTypes: [
        {
          id: 'aty_r',
          name: 'recent',
          policy,
          policyHistory: [{ time: '2026-05-18T00:00:00.000Z', policy: document }],
        },
      ],
      events: [issued('2026-05-10T00:00:00.000Z', 'r1', 'agt_r', 'https://r.example', ['used'], 'aty_r')],
      window: WINDOW,
      now: NOW,
      keepRecentDays: 13,
    });
    expect(shorter.agentTypes[0]!.rows.map((r) => r.verdict)).toEqual([
      'issued-not-used',
      'unused',
      'unused',
      'unused',
      'unused',
    ]);
  });

  it('keeps a recently added glob as it is, with its concrete scopes listed', () => {
    const { policy, document } = parseBrokerPolicyValue({
      agentType: 'g',
      owner: 'o',
      allow: [{ resource: 'https://r.example', scopes: ['read', 'issues:*'] }],
    });
    const report = computeRightsizing({
      agentTypes: [
        {
          id: 'aty_g',
          name: 'g',
          policy,
          policyHistory: [{ time: '2026-05-30T00:00:00.000Z', policy: document }],
        },
      ],
      events: [
        issued(
          '2026-05-31T00:00:00.000Z',
          'g1',
          'agt_g',
          'https://r.example',
          ['read', 'issues:write'],
          'aty_g',
        ),
      ],
      window: WINDOW,
      now: NOW,
    });
    const glob = report.agentTypes[0]!.rows[1]!;
    expect([glob.verdict, glob.action, glob.replaceWith]).toEqual(['kept-recent', 'keep', null]);
    expect(glob.concrete!.map((c) => [c.scope, c.verdict])).toEqual([['issues:write', 'issued-not-used']]);
    expect(report.agentTypes[0]!.proposal.changed).toBe(false);
  });

  it('removes a glob nothing was issued under, and a rule left without scopes', () => {
    const { policy } = parseBrokerPolicyValue({
      agentType: 'g',
      owner: 'o',
      allow: [
        { resource: 'https://a.example', scopes: ['read'] },
        { resource: 'https://b.example', scopes: ['b:*', 'b:write'], description: 'b' },
      ],
    });
    const report = computeRightsizing({
      agentTypes: [{ id: 'aty_g', name: 'g', policy, policyHistory: [] }],
      events: [issued('2026-05-31T00:00:00.000Z', 'g1', 'agt_g', 'https://a.example', ['read'], 'aty_g')],
      window: WINDOW,
      now: NOW,
    });
    const t = report.agentTypes[0]!;
    expect(t.rows.map((r) => [r.scope, r.verdict, r.action, r.concrete])).toEqual([
      ['read', 'issued-not-used', 'keep', null],
      ['b:*', 'wildcard', 'remove', []],
      ['b:write', 'unused', 'remove', null],
    ]);
    expect(t.proposal.removedRules).toEqual([1]);
    expect(t.proposal.document.allow).toEqual([{ resource: 'https://a.example', scopes: ['read'] }]);
    expect(t.proposal.diff).toContain(
      [
        '   - resource: https://a.example',
        '     scopes:',
        '       - read',
        '-  - resource: https://b.example',
      ].join('\n'),
    );
  });

  it('replaces a glob in an approval list by the concrete scopes that remain', () => {
    const { policy } = parseBrokerPolicyValue({
      agentType: 'pay',
      owner: 'o',
      allow: [
        {
          resource: 'https://pay.example',
          scopes: ['pay:*', 'read'],
          approval: ['pay:*'],
          approvalTimeout: '5m',
        },
      ],
    });
    const events = [
      issued(
        '2026-05-20T00:00:00.000Z',
        'p1',
        'agt_p',
        'https://pay.example',
        ['pay:refund', 'read'],
        'aty_p',
      ),
      issued('2026-05-21T00:00:00.000Z', 'p2', 'agt_p', 'https://pay.example', ['pay:charge'], 'aty_p'),
    ];
    const report = computeRightsizing({
      agentTypes: [{ id: 'aty_p', name: 'pay', policy, policyHistory: [] }],
      events,
      window: WINDOW,
      now: NOW,
    });
    expect(report.agentTypes[0]!.proposal.document.allow).toEqual([
      {
        resource: 'https://pay.example',
        scopes: ['pay:charge', 'pay:refund', 'read'],
        approval: ['pay:charge', 'pay:refund'],
        approvalTimeout: '5m',
      },
    ]);
  });

  it('keeps the scopes an approval glob marks when a remaining glob may overlap it', () => {
    const { policy } = parseBrokerPolicyValue({
      agentType: 'pay',
      owner: 'o',
      allow: [{ resource: 'https://pay.example', scopes: ['*:write', 'docs:*'], approval: ['*:write'] }],
    });
    const report = computeRightsizing({
      agentTypes: [
        {
          id: 'aty_p',
          name: 'pay',
          policy,
          // docs:* was added today and is kept; *:write is old and nothing was issued under it.
          policyHistory: [
            {
              time: '2026-01-01T00:00:00.000Z',
              policy: { allow: [{ resource: 'https://pay.example', scopes: ['*:write'] }] },
            },
            {
              time: '2026-05-31T00:00:00.000Z',
              policy: { allow: [{ resource: 'https://pay.example', scopes: ['*:write', 'docs:*'] }] },
            },
          ],
        },
      ],
      events: [
        issued('2026-05-20T00:00:00.000Z', 'p1', 'agt_p', 'https://pay.example', ['docs:read'], 'aty_p'),
      ],
      window: WINDOW,
      now: NOW,
    });
    const t = report.agentTypes[0]!;
    // Dropping *:write would leave docs:write allowed by docs:* without approval.
    expect(t.rows.map((r) => [r.scope, r.verdict, r.action, r.note])).toEqual([
      [
        '*:write',
        'wildcard',
        'keep',
        'kept: approval pattern *:write also covers scopes a remaining glob allows',
      ],
      ['docs:*', 'kept-recent', 'keep', null],
    ]);
    expect(t.proposal.changed).toBe(false);
  });

  it('does not remove a scope behind approval when another rule allows it without approval', () => {
    const { policy } = parseBrokerPolicyValue({
      agentType: 'pay',
      owner: 'o',
      allow: [
        { resource: 'https://pay.example/*', scopes: ['refund', 'read'], approval: ['refund'] },
        { resource: 'https://*.example/*', scopes: ['refund'] },
      ],
    });
    const report = computeRightsizing({
      agentTypes: [{ id: 'aty_p', name: 'pay', policy, policyHistory: [] }],
      events: [
        issued('2026-05-20T00:00:00.000Z', 'p1', 'agt_p', 'https://other.example/x', ['refund'], 'aty_p'),
      ],
      window: WINDOW,
      now: NOW,
    });
    const t = report.agentTypes[0]!;
    expect(t.rows.map((r) => [r.rule, r.scope, r.verdict, r.action, r.note])).toEqual([
      [
        0,
        'refund',
        'unused',
        'keep',
        'kept: it needs approval under this rule, and allow[1] may allow it without approval; removing it here would drop the approval',
      ],
      [0, 'read', 'unused', 'remove', null],
      [1, 'refund', 'issued-not-used', 'keep', null],
    ]);
    expect(t.proposal.document.allow[0]).toEqual({
      resource: 'https://pay.example/*',
      scopes: ['refund'],
      approval: ['refund'],
      approvalTimeout: '10m',
    });
  });

  it('also removes issued but unused scopes when asked to', () => {
    const support = computeRightsizing(input({ dropIssuedNotUsed: true })).agentTypes[1]!;
    expect(support.rows.map((r) => [r.scope, r.verdict, r.action, r.replaceWith])).toEqual([
      ['repo:read', 'used', 'keep', null],
      ['issues:write', 'issued-not-used', 'remove', null],
      ['pulls:write', 'kept-recent', 'keep', null],
      ['invoices:read', 'issued-not-used', 'remove', null],
      ['invoices:refund', 'unused', 'remove', null],
      ['docs:*', 'wildcard', 'replace', ['docs:read']],
      ['search:query', 'kept-recent', 'keep', null],
    ]);
    expect(support.proposal.removedRules).toEqual([1]);
  });

  it('reads usage folded beforehand the same way as events', () => {
    const a = computeRightsizing(input());
    const { usage: _unused, ...rest } = input();
    expect(computeRightsizing({ ...rest, events: supportEvents() })).toEqual(a);
  });

  it('puts a proxy call whose token it did not see on the upstream resource and the client agent', () => {
    const report = computeRightsizing(
      input({
        events: [call('2026-05-10T09:01:00.000Z', 'unknown-jti', 'kwc_alpha001', 'github', 'repo:read')],
      }),
    );
    const support = report.agentTypes[1]!;
    expect(support.proxyCalls).toBe(1);
    expect(support.rows[0]).toMatchObject({ scope: 'repo:read', issued: 0, used: 1, verdict: 'used' });
  });

  it('counts events it cannot read without failing', () => {
    const report = computeRightsizing(
      input({
        events: [
          ev('broker.token.issued', '2026-05-10T00:00:00.000Z', { agentId: 'agt_a', scopes: [] }),
          ev('proxy.call', '2026-05-10T00:00:00.000Z', { scope: 'repo:read' }),
          ev('broker.token.issued', 'not a time', {}),
          ev('broker.token.issued', '2026-05-10T00:00:00.000Z', {
            agentTypeId: 'aty_support',
            scopes: 'repo:read',
            resource: 'keyward:upstream:github',
          }),
        ],
      }),
    );
    expect(report.unreadableEvents).toBe(3);
    expect(report.agentTypes[1]!.rows[0]).toMatchObject({ scope: 'repo:read', issued: 1 });
  });

  it('refuses a window that ends before it starts', () => {
    expect(() => computeRightsizing(input({ window: { from: NOW, to: WINDOW.from } }))).toThrow(
      ValidationError,
    );
    expect(() => computeRightsizing(input({ now: 'yesterday' }))).toThrow(
      'now: expected an ISO-8601 instant',
    );
  });
});

describe('the proposal never widens (property)', () => {
  const word = fc.constantFrom('a', 'b', 'c');
  const scope = fc.tuple(word, word).map(([x, y]) => `${x}:${y}`);
  const scopePattern = fc.oneof(
    scope,
    word.map((x) => `${x}:*`),
    fc.constant('*:a'),
    fc.constant('?:b'),
  );
  const resources = ['https://r1.example', 'https://r2.example/x', 'https://r2.example/y'];
  const resourcePattern = fc.constantFrom(...resources, 'https://r2.example/*', '*');
  const rule = fc
    .record({
      resource: resourcePattern,
      scopes: fc.uniqueArray(scopePattern, { minLength: 1, maxLength: 4 }),
      approvalPick: fc.array(fc.nat(), { maxLength: 2 }),
    })
    .map(({ resource, scopes, approvalPick }) => {
      const approval = [...new Set(approvalPick.map((i) => scopes[i % scopes.length]!))];
      return { resource, scopes, ...(approval.length > 0 ? { approval } : {}) };
    });
  const policyArb = fc
    .record({
      allow: fc.array(rule, { maxLength: 4 }),
      deny: fc.array(
        fc.record({
          resource: resourcePattern,
          scopes: fc.uniqueArray(scopePattern, { minLength: 1, maxLength: 2 }),
        }),
        { maxLength: 1 },
      ),
    })
    .map((p) => parseBrokerPolicyValue({ agentType: 'p', owner: 'o', ...p }));
  const eventArb = fc.record({
    kind: fc.constantFrom('issued', 'call'),
    resource: fc.constantFrom(...resources),
    scopes: fc.uniqueArray(scope, { minLength: 1, maxLength: 3 }),
    day: fc.integer({ min: 0, max: 40 }),
  });
  const historyDay = fc.option(fc.integer({ min: 0, max: 200 }), { nil: null });

  const decideAt = (policy: BrokerPolicy, resource: string, s: string) =>
    decide(policy, { scope: [s], resource, dpop: false, sourceIp: null, now: new Date(NOW) });

  it('allows only (resource, scope) pairs the current policy allows, and keeps every approval', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(eventArb, { maxLength: 8 }),
        historyDay,
        fc.boolean(),
        ({ policy, document }, evs, day, dropIssuedNotUsed) => {
          const events = evs.map((e, i) => {
            const time = new Date(Date.parse(NOW) - e.day * 86_400_000).toISOString();
            return e.kind === 'issued'
              ? issued(time, `p${i}`, 'agt_p', e.resource, e.scopes, 'aty_p')
              : ev('proxy.call', time, {
                  agentTypeId: 'aty_p',
                  agentId: 'agt_p',
                  resource: e.resource,
                  scope: e.scopes[0],
                });
          });
          const history =
            day === null
              ? []
              : [{ time: new Date(Date.parse(NOW) - day * 86_400_000).toISOString(), policy: document }];
          const report = computeRightsizing({
            agentTypes: [{ id: 'aty_p', name: 'p', policy, document, policyHistory: history }],
            events,
            window: WINDOW,
            now: NOW,
            dropIssuedNotUsed,
          });
          const proposed = parseBrokerPolicyValue(report.agentTypes[0]!.proposal.document).policy;
          for (const r of resources) {
            for (const x of ['a', 'b', 'c']) {
              for (const y of ['a', 'b', 'c']) {
                const s = `${x}:${y}`;
                const after = decideAt(proposed, r, s);
                if (after.effect !== 'allow') continue;
                const before = decideAt(policy, r, s);
                expect(before.effect).toBe('allow');
                if (before.effect === 'allow' && before.needsApproval.includes(s)) {
                  expect(after.needsApproval).toContain(s);
                }
              }
            }
          }
          // A scope that was used in the window is still allowed for the resource it was used with.
          for (const e of evs) {
            if (e.day > 30 || e.kind !== 'call') continue;
            if (decideAt(policy, e.resource, e.scopes[0]!).effect !== 'allow') continue;
            expect(decideAt(proposed, e.resource, e.scopes[0]!).effect).toBe('allow');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseWindow', () => {
  it('reads days, hours and minutes', () => {
    expect(parseWindow('30d')).toBe(30 * 86_400_000);
    expect(parseWindow('12h')).toBe(12 * 3_600_000);
    expect(parseWindow('90m')).toBe(90 * 60_000);
    expect(parseWindow(' 7d ')).toBe(7 * 86_400_000);
    expect(parseWindow('3650d')).toBe(3650 * 86_400_000);
  });

  it('refuses anything else with a message naming the option', () => {
    const message = (text: string) => {
      try {
        parseWindow(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).message;
      }
      throw new Error('expected an error');
    };
    const bad = (t: string) =>
      `--window: '${t}' is not a window length; write a whole number and a unit: 30d (days), 12h (hours) or 90m (minutes)`;
    for (const t of ['30', 'd', '30s', '1.5d', '-3d', '30 d', '1d12h', '', '1w'])
      expect(message(t)).toBe(bad(t));
    expect(message('0d')).toBe('--window: must be longer than 0');
    expect(message('3651d')).toBe("--window: '3651d' is longer than 3650d (ten years)");
    expect(() => parseWindow('x', '--since')).toThrow(/^--since: 'x' is not a window length/);
  });

  it('makes the window ending now', () => {
    expect(windowEndingAt(NOW, parseWindow('30d'))).toEqual(WINDOW);
  });
});
