import { describe, expect, it } from 'vitest';
import type { AgentSummary, AgentType, Approval, UpstreamSummary } from '../core/broker-types.js';
import {
  agentAuthMethods,
  renderAgents,
  renderAgentTypes,
  renderApprovals,
  renderUpstreams,
  savedVerb,
} from './cli-broker-render.js';
import type { RenderOptions } from './cli-render.js';

const now = new Date('2026-06-01T12:00:00.000Z');
const pipe: RenderOptions = { tty: false, color: false, now };
const tty: RenderOptions = { tty: true, color: false, now, width: 200 };

const agentType: AgentType = {
  id: 'aty_1',
  name: 'support-agent',
  owner: 'farid@example.com',
  description: null,
  policy: {},
  policySource: 'support.yaml',
  policyVersion: 3,
  createdAt: '2026-05-01T12:00:00.000Z',
  updatedAt: '2026-06-01T10:00:00.000Z',
};

const agent: AgentSummary = {
  id: 'agt_1',
  clientId: 'kwc_1',
  agentTypeId: 'aty_1',
  name: 'bot-1',
  status: 'active',
  auth: { hasSecret: true, jwks: { keys: [] }, federated: [] },
  createdAt: '2026-05-01T12:00:00.000Z',
  updatedAt: '2026-05-01T12:00:00.000Z',
  lastUsedAt: '2026-06-01T11:00:00.000Z',
};

const upstream: UpstreamSummary = {
  id: 'ups_1',
  name: 'tickets',
  baseUrl: 'https://tickets.example.com/api',
  auth: { kind: 'header', headerName: 'X-Api-Key' },
  secretFingerprint: 'ab'.repeat(32),
  secretPreview: 'tk_l…9c2e',
  routes: [
    { scope: 'tickets:read', methods: ['GET', 'HEAD'], paths: ['/tickets/*', '/me'] },
    { scope: 'tickets:write', methods: ['POST'], paths: ['/tickets'] },
  ],
  createdAt: '2026-05-01T12:00:00.000Z',
  updatedAt: '2026-05-01T12:00:00.000Z',
};

const approval: Approval = {
  id: 'apr_1',
  agentId: 'agt_1',
  agentTypeId: 'aty_1',
  scopes: ['invoices:refund'],
  resource: 'https://billing.internal.example',
  task: null,
  purpose: null,
  status: 'pending',
  requestedAt: '2026-06-01T11:58:00.000Z',
  expiresAt: '2026-06-01T12:08:00.000Z',
  decidedAt: null,
  decidedBy: null,
  reason: null,
  tokenJti: null,
};

describe('savedVerb', () => {
  it('names the outcome of an upsert', () => {
    expect(savedVerb({ created: true, changed: true })).toBe('created');
    expect(savedVerb({ created: false, changed: true })).toBe('changed');
    expect(savedVerb({ created: false, changed: false })).toBe('unchanged');
  });
});

describe('renderAgentTypes', () => {
  it('tab-separated when piped, aligned with relative times on a terminal', () => {
    expect(renderAgentTypes([agentType], pipe)).toBe(
      'name\towner\tversion\tsource\tupdated\n' +
        'support-agent\tfarid@example.com\t3\tsupport.yaml\t2026-06-01T10:00:00.000Z\n',
    );
    expect(renderAgentTypes([agentType], tty)).toBe(
      'NAME           OWNER              VERSION  SOURCE        UPDATED\n' +
        'support-agent  farid@example.com        3  support.yaml  2h ago\n',
    );
  });

  it('says how to add one when there are none (terminal only)', () => {
    expect(renderAgentTypes([], tty)).toBe(
      'no agent types; add one with `keyward agent-types apply <policy.yaml>`\n',
    );
    expect(renderAgentTypes([], pipe)).toBe('name\towner\tversion\tsource\tupdated\n');
  });
});

describe('renderAgents', () => {
  it('names the type and the login methods, never a secret', () => {
    expect(renderAgents([agent], new Map([['aty_1', 'support-agent']]), pipe)).toBe(
      'id\tname\ttype\tclient_id\tstatus\tauth\tlast used\n' +
        'agt_1\tbot-1\tsupport-agent\tkwc_1\tactive\tsecret+jwks\t2026-06-01T11:00:00.000Z\n',
    );
  });

  it('falls back to the type id', () => {
    expect(renderAgents([agent], new Map(), pipe)).toContain('\taty_1\t');
  });

  it('agentAuthMethods lists every method or -', () => {
    expect(agentAuthMethods(agent)).toBe('secret+jwks');
    expect(
      agentAuthMethods({
        ...agent,
        auth: { hasSecret: false, jwks: null, federated: [{ issuer: 'https://i', claims: {} }] },
      }),
    ).toBe('federated');
    expect(agentAuthMethods({ ...agent, auth: { hasSecret: false, jwks: null, federated: [] } })).toBe('-');
  });
});

describe('renderUpstreams', () => {
  it('shows the preview, never the fingerprint or a credential, and the routes', () => {
    const text = renderUpstreams([upstream], pipe);
    expect(text).toBe(
      'name\tbase url\tauth\tcredential\troutes\n' +
        'tickets\thttps://tickets.example.com/api\theader X-Api-Key\ttk_l…9c2e\ttickets:read GET,HEAD /tickets/*,/me; tickets:write POST /tickets\n',
    );
    expect(renderUpstreams([{ ...upstream, auth: { kind: 'bearer' } }], pipe)).toContain('\tbearer\t');
  });
});

describe('renderApprovals', () => {
  it('lists requests with their deadline', () => {
    expect(renderApprovals([approval], pipe)).toBe(
      'id\tstatus\tagent\tscopes\tresource\trequested\texpires\tdecided by\n' +
        'apr_1\tpending\tagt_1\tinvoices:refund\thttps://billing.internal.example\t2026-06-01T11:58:00.000Z\t2026-06-01T12:08:00.000Z\t-\n',
    );
    expect(renderApprovals([approval], tty)).toContain('2m ago');
    expect(renderApprovals([approval], tty)).toContain('in 8m');
    expect(renderApprovals([], tty)).toBe('no approval requests match\n');
  });
});
