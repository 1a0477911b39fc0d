import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NewEvent } from '../core/types.js';
import { createSqliteStore } from '../store/index.js';
import type { Store } from '../store/store-types.js';
import { parseBrokerPolicy } from './broker-policy-parse.js';
import { computeRightsizing } from './rightsize.js';
import { loadRightsizingInput, loadUsageTotals } from './rightsize-load.js';
import { usageByAgent } from './rightsize-usage.js';
import { NOW, SUPPORT_V1, SUPPORT_YAML, WINDOW } from './rightsize-test-support.js';

let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

const ctx = (time: string) => ({ time, actor: 'test' });

/** A store holding the support agent's two policy versions, its agents, and token and proxy events. */
async function seeded() {
  const s = createSqliteStore({ filename: ':memory:' });
  store = s;
  await s.migrate();
  const base = { name: 'support-agent', owner: 'farid@example.com', policySource: 'support.yaml' };
  await s.upsertAgentType({ ...base, policy: SUPPORT_V1 }, ctx('2026-01-10T08:00:00.000Z'));
  const current = parseBrokerPolicy('support.yaml', SUPPORT_YAML);
  const { agentType } = await s.upsertAgentType(
    { ...base, policy: JSON.parse(JSON.stringify(current.document)) as Record<string, unknown> },
    ctx('2026-05-25T12:00:00.000Z'),
  );
  // Stored in the normalised model form: read back through policyToDocument.
  await s.upsertAgentType(
    {
      name: 'model-form',
      owner: 'o',
      policySource: 'api',
      policy: JSON.parse(
        JSON.stringify({
          ...current.policy,
          agentType: 'model-form',
          allow: [current.policy.allow[0]],
        }),
      ) as Record<string, unknown>,
    },
    ctx('2026-01-01T00:00:00.000Z'),
  );
  await s.upsertAgentType(
    {
      name: 'broken',
      owner: 'o',
      policySource: 'api',
      policy: { agentType: 'broken', owner: 'o', allow: 'all' },
    },
    ctx('2026-01-01T00:00:00.000Z'),
  );
  const agent = (name: string, clientId: string, status: 'active' | 'disabled' = 'active') =>
    s.createAgent(
      {
        agentTypeId: agentType.id,
        name,
        clientId,
        status,
        auth: { secretHash: null, jwks: null, federated: [] },
      },
      ctx('2026-01-11T00:00:00.000Z'),
    );
  const alpha = await agent('alpha', 'kwc_alpha001');
  const beta = await agent('beta', 'kwc_beta0001');
  await agent('gamma', 'kwc_gamma001', 'disabled');

  const token = (
    time: string,
    jti: string,
    agentId: string,
    clientId: string,
    resource: string,
    scopes: string[],
  ) =>
    ({
      time,
      type: 'broker.token.issued',
      actor: clientId,
      subject: agentId,
      data: {
        jti,
        agentId,
        agentTypeId: agentType.id,
        clientId,
        grantType: 'client_credentials',
        scopes,
        resource,
      },
    }) satisfies NewEvent;
  const proxied = (time: string, jti: string, clientId: string, upstream: string, scope: string) =>
    ({
      time,
      type: 'proxy.call',
      actor: clientId,
      subject: null,
      data: { upstream, method: 'GET', path: '/x', scope, status: 200, jti, clientId },
    }) satisfies NewEvent;
  await s.appendEvents([
    // Before the window and its lookback: never read.
    token('2026-04-01T00:00:00.000Z', 'old', alpha.id, 'kwc_alpha001', 'https://billing.internal.example', [
      'invoices:refund',
    ]),
    // Issued before the window, used in it.
    token('2026-05-01T23:00:00.000Z', 'j0', alpha.id, 'kwc_alpha001', 'keyward:upstream:github', [
      'repo:read',
    ]),
    proxied('2026-05-02T00:00:00.000Z', 'j0', 'kwc_alpha001', 'github', 'repo:read'),
    token('2026-05-10T09:00:00.000Z', 'j1', alpha.id, 'kwc_alpha001', 'keyward:upstream:github', [
      'repo:read',
      'issues:write',
    ]),
    proxied('2026-05-10T09:01:00.000Z', 'j1', 'kwc_alpha001', 'github', 'repo:read'),
    { time: '2026-05-10T09:01:30.000Z', type: 'inventory.other', actor: 't', subject: null, data: {} },
    token('2026-05-20T10:00:00.000Z', 'j2', alpha.id, 'kwc_alpha001', 'https://billing.internal.example', [
      'invoices:read',
    ]),
    token('2026-05-21T10:00:00.000Z', 'j3', beta.id, 'kwc_beta0001', 'keyward:upstream:docs', [
      'docs:read',
      'docs:search',
    ]),
    proxied('2026-05-21T10:05:00.000Z', 'j3', 'kwc_beta0001', 'docs', 'docs:read'),
    // After the window.
    proxied('2026-06-01T00:00:00.001Z', 'j3', 'kwc_beta0001', 'docs', 'docs:write'),
  ]);
  return { store: s, agentTypeId: agentType.id, alpha, beta };
}

describe('loadRightsizingInput', () => {
  it('reads agent types, policy history, agents and the window’s usage from the store', async () => {
    const { store: s, agentTypeId } = await seeded();
    const input = await loadRightsizingInput(s, { window: WINDOW, now: NOW, pageSize: 2 });
    expect(input.events).toBeUndefined();
    expect(input.invalidAgentTypes).toEqual([
      {
        id: expect.stringMatching(/^aty_/) as string,
        name: 'broken',
        problem: 'agent type broken: policy.allow: expected a list of allow rules, got text',
      },
    ]);
    expect(input.agentTypes.map((t) => [t.name, t.policyHistory.map((h) => h.time)])).toEqual([
      ['model-form', ['2026-01-01T00:00:00.000Z']],
      ['support-agent', ['2026-01-10T08:00:00.000Z', '2026-05-25T12:00:00.000Z']],
    ]);
    const report = computeRightsizing(input);
    expect(report.agentTypes.map((t) => t.name)).toEqual(['model-form', 'support-agent']);
    const support = report.agentTypes[1]!;
    expect(support.id).toBe(agentTypeId);
    expect([support.tokensIssued, support.proxyCalls]).toEqual([3, 3]);
    expect(support.rows.map((r) => [r.scope, r.issued, r.used, r.firstAllowed, r.verdict, r.action])).toEqual(
      [
        ['repo:read', 1, 2, '2026-01-10T08:00:00.000Z', 'used', 'keep'],
        ['issues:write', 1, 0, '2026-01-10T08:00:00.000Z', 'issued-not-used', 'keep'],
        ['pulls:write', 0, 0, '2026-05-25T12:00:00.000Z', 'kept-recent', 'keep'],
        ['invoices:read', 1, 0, '2026-01-10T08:00:00.000Z', 'issued-not-used', 'keep'],
        ['invoices:refund', 0, 0, '2026-01-10T08:00:00.000Z', 'unused', 'remove'],
        ['docs:*', 2, 1, '2026-01-10T08:00:00.000Z', 'wildcard', 'replace'],
        ['search:query', 0, 0, '2026-05-25T12:00:00.000Z', 'kept-recent', 'keep'],
      ],
    );
    expect(support.agentsWithoutTokens.map((a) => [a.name, a.clientId, a.status])).toEqual([
      ['gamma', 'kwc_gamma001', 'disabled'],
    ]);
    expect(support.proposal.diff).toContain('-      - invoices:refund\n');
    // The model-form type was read and, with no usage, gets no proposal.
    expect(report.agentTypes[0]!.proposal.changed).toBe(false);
    // Paging does not change the result.
    const whole = computeRightsizing(await loadRightsizingInput(s, { window: WINDOW, now: NOW }));
    expect(whole).toEqual(report);
  });

  it('reads events one page at a time, from one token lifetime before the window', async () => {
    const { store: s } = await seeded();
    const spy = vi.spyOn(s, 'readEventsByType');
    await loadRightsizingInput(s, { window: WINDOW, now: NOW, pageSize: 3 });
    const calls = spy.mock.calls.map(([types, since, limit, afterSeq]) => [
      types.join(','),
      since,
      limit,
      afterSeq,
    ]);
    expect(calls.every(([, , limit]) => limit === 3)).toBe(true);
    const usageCalls = calls.filter(([types]) => types !== 'broker.agent-type.applied');
    expect(usageCalls.map(([, since]) => since)).toEqual(usageCalls.map(() => '2026-05-01T00:00:00.000Z'));
    // 8 usage events from the lookback on (the one of April is not read): pages of 3, 3, 2.
    expect(usageCalls.length).toBe(3);
  });

  it('gives per-agent usage of the window', async () => {
    const { store: s, alpha } = await seeded();
    const usage = usageByAgent(await loadUsageTotals(s, { window: WINDOW }));
    expect(usage.find((a) => a.agentId === alpha.id)).toMatchObject({
      clientId: 'kwc_alpha001',
      tokensIssued: 2,
      proxyCalls: 2,
      lastUsed: '2026-05-20T10:00:00.000Z',
      scopesUsed: ['repo:read'],
      callsByUpstream: { github: 2 },
    });
  });

  it('refuses a window that is not one', async () => {
    const { store: s } = await seeded();
    await expect(loadRightsizingInput(s, { window: { from: 'x', to: NOW }, now: NOW })).rejects.toThrow(
      "window: expected ISO-8601 instants, got from 'x'",
    );
  });
});
