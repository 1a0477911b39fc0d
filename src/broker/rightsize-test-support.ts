/** Shared fixtures of the rightsizing tests: a support agent's policy, its history, its agents and events. */
import type { EventRecord } from '../core/types.js';
import { parseBrokerPolicy, parseBrokerPolicyValue } from './broker-policy-parse.js';
import type { RightsizingAgentType } from './rightsize.js';

export const NOW = '2026-06-01T00:00:00.000Z';
export const WINDOW = { from: '2026-05-02T00:00:00.000Z', to: NOW };

export const SUPPORT_YAML = `agentType: support-agent
owner: farid@example.com
allow:
  - resource: keyward:upstream:github
    scopes: [repo:read, issues:write, pulls:write]
  - resource: https://billing.internal.example
    scopes: [invoices:read, invoices:refund]
    approval: [invoices:refund]
    approvalTimeout: 10m
  - resource: keyward:upstream:docs
    scopes: ['docs:*']
  - resource: https://search.internal.example
    scopes: [search:query]
deny:
  - resource: '*'
    scopes: ['admin:*']
`;

/** The policy as it was before pulls:write and the search rule were added on 2026-05-25. */
export const SUPPORT_V1 = {
  agentType: 'support-agent',
  owner: 'farid@example.com',
  allow: [
    { resource: 'keyward:upstream:github', scopes: ['repo:read', 'issues:write'] },
    {
      resource: 'https://billing.internal.example',
      scopes: ['invoices:read', 'invoices:refund'],
      approval: ['invoices:refund'],
    },
    { resource: 'keyward:upstream:docs', scopes: ['docs:*'] },
  ],
};

const CLIENT_IDS: Record<string, string> = { agt_a: 'kwc_alpha001', agt_b: 'kwc_beta0001' };

let seq = 0;
export function ev(type: string, time: string, data: Record<string, unknown>): EventRecord {
  seq++;
  return { seq, id: `evt_${seq}`, time, type, actor: 't', subject: null, data, prevHash: '0', hash: '0' };
}

export function issued(
  time: string,
  jti: string,
  agentId: string,
  resource: string,
  scopes: string[],
  agentTypeId = 'aty_support',
) {
  return ev('broker.token.issued', time, {
    jti,
    agentId,
    agentTypeId,
    clientId: CLIENT_IDS[agentId] ?? `kwc_${agentId.slice(4)}`,
    grantType: 'client_credentials',
    scopes,
    resource,
    task: 'T-1',
    purpose: 'support',
    exp: new Date(Date.parse(time) + 900_000).toISOString(),
  });
}

/** A proxy call as the credential proxy records it: the client and the jti, no agent or resource. */
export function call(time: string, jti: string, clientId: string, upstream: string, scope: string) {
  return ev('proxy.call', time, {
    upstream,
    upstreamId: `ups_${upstream}`,
    method: 'GET',
    path: '/x',
    scope,
    status: 200,
    outcome: 'completed',
    bytesIn: 0,
    bytesOut: 10,
    latencyMs: 5,
    durationMs: 6,
    jti,
    clientId,
    sub: 'agt_x',
    task: 'T-1',
  });
}

export function supportType(): RightsizingAgentType {
  const { policy, document } = parseBrokerPolicy('support.yaml', SUPPORT_YAML);
  return {
    id: 'aty_support',
    name: 'support-agent',
    policy,
    document,
    policyHistory: [
      { time: '2026-05-25T12:00:00.000Z', policy: document },
      { time: '2026-01-10T08:00:00.000Z', policy: SUPPORT_V1 },
    ],
    agents: [
      { id: 'agt_a', name: 'alpha', clientId: 'kwc_alpha001', status: 'active' },
      { id: 'agt_b', name: 'beta', clientId: 'kwc_beta0001', status: 'active' },
      { id: 'agt_c', name: 'gamma', clientId: 'kwc_gamma001', status: 'disabled' },
    ],
  };
}

export function idleType(): RightsizingAgentType {
  const { policy, document } = parseBrokerPolicyValue({
    agentType: 'idle-bot',
    owner: 'ops@example.com',
    allow: [{ resource: 'https://api.example.com', scopes: ['a:read'] }],
  });
  return {
    id: 'aty_idle',
    name: 'idle-bot',
    policy,
    document,
    policyHistory: [{ time: '2025-12-01T00:00:00.000Z', policy: document }],
    agents: [{ id: 'agt_i', name: 'idle-1', clientId: 'kwc_idle0001', status: 'active' }],
  };
}

export function supportEvents(): EventRecord[] {
  return [
    issued('2026-05-10T09:00:00.000Z', 'j1', 'agt_a', 'keyward:upstream:github', [
      'repo:read',
      'issues:write',
    ]),
    call('2026-05-10T09:01:00.000Z', 'j1', 'kwc_alpha001', 'github', 'repo:read'),
    call('2026-05-10T09:02:00.000Z', 'j1', 'kwc_alpha001', 'github', 'repo:read'),
    issued('2026-05-20T10:00:00.000Z', 'j2', 'agt_a', 'https://billing.internal.example', ['invoices:read']),
    issued('2026-05-21T10:00:00.000Z', 'j3', 'agt_b', 'keyward:upstream:docs', ['docs:read', 'docs:search']),
    call('2026-05-21T10:05:00.000Z', 'j3', 'kwc_beta0001', 'docs', 'docs:read'),
  ];
}
