import { describe, expect, it } from 'vitest';
import { foldUsage, usageByAgent } from './rightsize-usage.js';
import { call, ev, issued, NOW, supportEvents, WINDOW } from './rightsize-test-support.js';

describe('usageByAgent', () => {
  it('gives, per agent and per resource, the last use and the scopes issued and used', () => {
    expect(usageByAgent(supportEvents())).toEqual([
      {
        agentId: 'agt_a',
        agentTypeId: 'aty_support',
        clientId: 'kwc_alpha001',
        tokensIssued: 2,
        lastIssued: '2026-05-20T10:00:00.000Z',
        proxyCalls: 2,
        lastCall: '2026-05-10T09:02:00.000Z',
        lastUsed: '2026-05-20T10:00:00.000Z',
        scopesIssued: ['invoices:read', 'issues:write', 'repo:read'],
        scopesUsed: ['repo:read'],
        callsByUpstream: { github: 2 },
        grants: [
          {
            resource: 'https://billing.internal.example',
            tokensIssued: 1,
            lastIssued: '2026-05-20T10:00:00.000Z',
            proxyCalls: 0,
            lastCall: null,
            scopesIssued: ['invoices:read'],
            scopesUsed: [],
          },
          {
            resource: 'keyward:upstream:github',
            tokensIssued: 1,
            lastIssued: '2026-05-10T09:00:00.000Z',
            proxyCalls: 2,
            lastCall: '2026-05-10T09:02:00.000Z',
            scopesIssued: ['issues:write', 'repo:read'],
            scopesUsed: ['repo:read'],
          },
        ],
      },
      {
        agentId: 'agt_b',
        agentTypeId: 'aty_support',
        clientId: 'kwc_beta0001',
        tokensIssued: 1,
        lastIssued: '2026-05-21T10:00:00.000Z',
        proxyCalls: 1,
        lastCall: '2026-05-21T10:05:00.000Z',
        lastUsed: '2026-05-21T10:05:00.000Z',
        scopesIssued: ['docs:read', 'docs:search'],
        scopesUsed: ['docs:read'],
        callsByUpstream: { docs: 1 },
        grants: [
          {
            resource: 'keyward:upstream:docs',
            tokensIssued: 1,
            lastIssued: '2026-05-21T10:00:00.000Z',
            proxyCalls: 1,
            lastCall: '2026-05-21T10:05:00.000Z',
            scopesIssued: ['docs:read', 'docs:search'],
            scopesUsed: ['docs:read'],
          },
        ],
      },
    ]);
  });

  it('counts only the window when one is given, and reads folded totals as well', () => {
    const window = { from: '2026-05-15T00:00:00.000Z', to: NOW };
    const only = usageByAgent(supportEvents(), { window });
    expect(only.map((a) => [a.agentId, a.tokensIssued, a.proxyCalls, a.scopesUsed])).toEqual([
      ['agt_a', 1, 0, []],
      ['agt_b', 1, 1, ['docs:read']],
    ]);
    expect(usageByAgent(foldUsage(supportEvents(), { window }))).toEqual(only);
  });

  it('puts a call made in the window with a token issued before it on that token’s agent and resource', () => {
    const events = [
      issued('2026-05-01T23:50:00.000Z', 'early', 'agt_a', 'https://custom.example', ['x:read']),
      call('2026-05-02T00:05:00.000Z', 'early', 'kwc_alpha001', 'custom', 'x:read'),
      // A client the fold does not know, with a token it never saw: the agent cannot be told.
      call('2026-05-02T00:06:00.000Z', 'other', 'kwc_unknown', 'custom', 'x:read'),
    ];
    const totals = foldUsage(events, { window: WINDOW });
    expect(totals.unreadable).toBe(1);
    const [a] = usageByAgent(totals);
    expect(a).toMatchObject({ agentId: 'agt_a', tokensIssued: 0, proxyCalls: 1, scopesUsed: ['x:read'] });
    expect(a!.grants.map((g) => g.resource)).toEqual(['https://custom.example']);
    // Known agents let a call be put on its agent by client id alone.
    const known = foldUsage(events.slice(2), {
      window: WINDOW,
      agents: [{ id: 'agt_u', clientId: 'kwc_unknown', agentTypeId: 'aty_u' }],
    });
    expect(usageByAgent(known)[0]).toMatchObject({
      agentId: 'agt_u',
      agentTypeId: 'aty_u',
      grants: [{ resource: 'keyward:upstream:custom', scopesUsed: ['x:read'] }],
    });
    expect(known.byAgentType.get('aty_u')!.calls).toBe(1);
  });

  it('accepts scopes as a list or a space-separated string, under scope or scopes', () => {
    const events = [
      ev('broker.token.exchanged', '2026-05-10T00:00:00.000Z', {
        jti: 'x1',
        agentId: 'agt_x',
        agentTypeId: 'aty_x',
        scopes: 'a b',
        resource: 'https://r.example',
        actChainDepth: 2,
      }),
      ev('proxy.call', '2026-05-10T00:00:01.000Z', {
        jti: 'x1',
        clientId: 'kwc_x',
        upstream: 'r',
        scopes: ['a'],
      }),
      ev('proxy.call', '2026-05-10T00:00:02.000Z', {
        jti: 'x1',
        clientId: 'kwc_x',
        upstream: 'r',
        scope: 'b',
      }),
    ];
    const [x] = usageByAgent(events);
    expect(x).toMatchObject({
      tokensIssued: 1,
      proxyCalls: 2,
      scopesIssued: ['a', 'b'],
      scopesUsed: ['a', 'b'],
    });
    expect(x!.grants.map((g) => g.resource)).toEqual(['https://r.example']);
  });

  it('forgets tokens long expired once it remembers many, so memory stays bounded', () => {
    const t0 = Date.parse('2026-05-03T00:00:00.000Z');
    const at = (ms: number) => new Date(ms).toISOString();
    const token = (ms: number, jti: string, resource: string) =>
      ev('broker.token.issued', at(ms), {
        jti,
        agentId: 'agt_m',
        agentTypeId: 'aty_m',
        scopes: ['s'],
        resource,
        exp: Math.floor(ms / 1000) + 60,
      });
    const late = t0 + 3_600_000;
    const events = [
      token(t0, 'first', 'https://first.example'),
      ...Array.from({ length: 50_000 }, (_, i) => token(late, `t${i}`, 'https://r.example')),
      call(at(late + 1), 'first', 'kwc_m', 'up', 's'),
      call(at(late + 2), 't1', 'kwc_m', 'up', 's'),
    ];
    const agents = [{ id: 'agt_m', clientId: 'kwc_m', agentTypeId: 'aty_m' }];
    const [m] = usageByAgent(foldUsage(events, { window: WINDOW, agents }));
    // The first token expired an hour before: forgotten, so its call falls back to the upstream's resource.
    expect(m!.grants.map((g) => [g.resource, g.proxyCalls])).toEqual([
      ['https://first.example', 0],
      ['https://r.example', 1],
      ['keyward:upstream:up', 1],
    ]);
  });

  it('counts an exchanged token once, although the broker logs it as issued and as exchanged', () => {
    const data = {
      jti: 'x1',
      agentId: 'agt_x',
      clientId: 'kwc_x0000001',
      scopes: ['a'],
      resource: 'https://r.example',
      exp: '2026-05-10T00:15:00.000Z',
    };
    const events = [
      ev('broker.token.issued', '2026-05-10T00:00:00.000Z', {
        ...data,
        agentTypeId: 'aty_x',
        actChainDepth: 1,
      }),
      ev('broker.token.exchanged', '2026-05-10T00:00:00.000Z', { ...data, actChainDepth: 1 }),
    ];
    const totals = foldUsage(events, { window: WINDOW });
    expect(totals.byAgentType.get('aty_x')!.tokens).toBe(1);
    expect(usageByAgent(totals)[0]).toMatchObject({
      agentId: 'agt_x',
      agentTypeId: 'aty_x',
      tokensIssued: 1,
    });
  });
});
