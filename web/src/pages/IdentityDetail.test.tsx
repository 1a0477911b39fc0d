// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { TOKEN_KEY } from '../lib/api.js';
import type {
  EventPage,
  IdentityDetail as Detail,
  IdentityGraph,
  IdentityTokens,
} from '../lib/types-inventory.js';
import { IdentityDetail, summarizeData, unusedScopes } from './IdentityDetail.js';

const identity = {
  id: 'idn_42',
  name: 'release-agent',
  kind: 'ai-agent' as const,
  provider: 'github',
  externalId: 'acme/release-agent',
  environment: 'prod',
  owner: null,
  sponsor: null,
  description: null,
  tags: ['release'],
  attributes: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  lastSeenAt: null,
  riskScore: 81,
};

const detail: Detail = {
  identity,
  credentials: [
    {
      id: 'crd_1',
      identityId: 'idn_42',
      type: 'pat',
      provider: 'github',
      fingerprint: 'f'.repeat(64),
      fingerprintSource: 'value',
      preview: 'ghp_…a1B2',
      externalId: null,
      name: 'release PAT',
      scopes: ['repo'],
      status: 'active',
      createdAt: '2025-01-01T00:00:00.000Z',
      expiresAt: null,
      lastUsedAt: null,
      lastRotatedAt: null,
      attributes: {},
      locations: [],
      recordedAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    },
  ],
  grants: [],
  findings: [
    {
      id: 'fnd_low',
      ruleId: 'kw.stale',
      owasp: 'NHI1',
      severity: 'low',
      title: 'Not seen for 90 days',
      message: 'release-agent was last seen long ago',
      remediation: 'Remove it',
      identityId: 'idn_42',
      credentialId: null,
      evidence: {},
      firstSeenAt: '2026-10-01T00:00:00.000Z',
      lastSeenAt: '2026-11-01T00:00:00.000Z',
      status: 'open',
      statusReason: null,
      statusBy: null,
      statusAt: null,
    },
    {
      id: 'fnd_crit',
      ruleId: 'kw.no-owner',
      owasp: 'NHI1',
      severity: 'critical',
      title: 'No owner',
      message: 'release-agent has no accountable owner',
      remediation: 'Set an owner',
      identityId: 'idn_42',
      credentialId: null,
      evidence: {},
      firstSeenAt: '2026-10-01T00:00:00.000Z',
      lastSeenAt: '2026-11-01T00:00:00.000Z',
      status: 'accepted',
      statusReason: 'owned by the platform team',
      statusBy: 'api:admin',
      statusAt: '2026-11-02T00:00:00.000Z',
    },
  ],
  risk: {
    identityId: 'idn_42',
    score: 81,
    factors: [{ name: 'kw.no-owner', points: 40, detail: 'critical: No owner' }],
  },
};

const graph: IdentityGraph = {
  identityId: 'idn_42',
  nodes: [
    {
      type: 'identity',
      id: 'idn_42',
      label: 'release-agent',
      kind: 'ai-agent',
      provider: 'github',
      environment: 'prod',
      owner: null,
      riskScore: 81,
    },
    {
      type: 'credential',
      id: 'crd_1',
      label: 'release PAT',
      credentialType: 'pat',
      provider: 'github',
      preview: 'ghp_…a1B2',
      fingerprint: 'ffffffffffff',
      status: 'active',
      expiresAt: null,
    },
    {
      type: 'grant',
      id: 'grt_1',
      label: 'app-installation:acme',
      effect: 'allow',
      actions: ['contents:write'],
      resources: ['github:acme/*'],
      admin: false,
    },
    {
      type: 'grant',
      id: 'grt_2',
      label: 'org-admin',
      effect: 'allow',
      actions: ['*'],
      resources: ['github:acme/api'],
      admin: true,
    },
    {
      type: 'resource',
      id: 'res_api',
      label: 'github:acme/api',
      resourceType: 'github:repository',
      provider: 'github',
      environment: null,
    },
    {
      type: 'resource',
      id: 'res_web',
      label: 'github:acme/web',
      resourceType: 'github:repository',
      provider: 'github',
      environment: null,
    },
  ],
  edges: [
    { type: 'holds', from: 'idn_42', to: 'crd_1' },
    { type: 'granted', from: 'idn_42', to: 'grt_1' },
    { type: 'granted', from: 'idn_42', to: 'grt_2' },
    {
      type: 'allows',
      from: 'grt_1',
      to: 'res_api',
      actions: ['contents:write'],
      pattern: 'github:acme/*',
      reach: 'all',
    },
    {
      type: 'allows',
      from: 'grt_1',
      to: 'res_web',
      actions: ['contents:write'],
      pattern: 'github:acme/*',
      reach: 'all',
    },
    {
      type: 'allows',
      from: 'grt_2',
      to: 'res_api',
      actions: ['*'],
      pattern: 'github:acme/api',
      reach: 'all',
    },
  ],
};

const tokens: IdentityTokens = {
  agentIds: ['agt_release'],
  tokensIssued: 12,
  scopesGranted: ['repo:read', 'repo:write', 'packages:publish'],
  scopesUsed: ['repo:read'],
  recent: [
    {
      time: '2026-11-28T10:00:00.000Z',
      jti: 'jti_1',
      scope: 'repo:read',
      audience: 'https://api.github.com',
    },
  ],
};

const events: EventPage = {
  items: [
    {
      seq: 9,
      id: 'evt_9',
      time: '2026-11-28T10:00:00.000Z',
      type: 'broker.token.issued',
      actor: 'agt_release',
      subject: 'idn_42',
      data: { scope: 'repo:read', audience: 'https://api.github.com', nested: { a: 1 } },
      prevHash: '8'.repeat(64),
      hash: '9'.repeat(64),
    },
    {
      seq: 3,
      id: 'evt_3',
      time: '2026-01-01T00:00:00.000Z',
      type: 'identity.created',
      actor: 'importer:github',
      subject: 'idn_42',
      data: {},
      prevHash: '2'.repeat(64),
      hash: '3'.repeat(64),
    },
  ],
  total: 9,
  limit: 100,
  offset: 0,
  next: null,
};

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const requests: string[] = [];
beforeEach(() => {
  sessionStorage.setItem(TOKEN_KEY, 'kwa_test');
  requests.length = 0;
  vi.stubGlobal('fetch', async (url: string) => {
    requests.push(url);
    if (url === '/api/v1/identities/idn_42') return json(detail);
    if (url === '/api/v1/identities/idn_42/graph') return json(graph);
    if (url === '/api/v1/identities/idn_42/tokens') return json(tokens);
    if (url.startsWith('/api/v1/events?')) return json(events);
    return json(
      { code: 'KW_NOT_FOUND', message: 'no identity with id "nope"', details: [], requestId: 'r1' },
      404,
    );
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/identities/:id" element={<IdentityDetail />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe('IdentityDetail', () => {
  it('says clearly when the identity does not exist', async () => {
    renderAt('/identities/nope%20x');
    expect(await screen.findByRole('heading', { level: 1, name: 'Identity not found' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toContain('No identity has the id or name “nope x”.');
    expect(requests).toEqual(['/api/v1/identities/nope%20x']);
    expect(screen.getByRole('link', { name: 'Search the identities' }).getAttribute('href')).toBe(
      '/identities',
    );
  });

  it('shows a server error other than 404 as it is', async () => {
    vi.stubGlobal('fetch', async () => json({ code: 'KW_INTERNAL', message: 'database is locked' }, 500));
    renderAt('/identities/idn_42');
    expect((await screen.findByRole('alert')).textContent).toBe('database is locked');
    expect(screen.queryByText('Identity not found')).toBeNull();
  });

  it('shows the header, risk factors, findings by severity, scopes and the timeline', async () => {
    renderAt('/identities/idn_42');
    expect(await screen.findByRole('heading', { level: 1, name: 'release-agent' })).toBeTruthy();
    const risk = screen.getByRole('region', { name: /^Risk/ });
    expect(within(risk).getByText('critical: No owner')).toBeTruthy();
    expect(within(risk).getByText('(critical)')).toBeTruthy();

    const findings = screen.getByRole('region', { name: 'Findings (2)' });
    const rows = within(findings).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.querySelector('.badge')!.textContent)).toEqual(['critical', 'low']);
    expect(within(findings).getByText('owned by the platform team')).toBeTruthy();

    const tokensSection = await screen.findByRole('region', { name: 'Tokens and scopes' });
    await within(tokensSection).findByText('repo:write');
    const unused = within(tokensSection).getAllByText('unused: right-sizing candidate');
    expect(unused.map((b) => b.closest('li')!.querySelector('code')!.textContent)).toEqual([
      'repo:write',
      'packages:publish',
    ]);
    expect(
      within(tokensSection).getByText('repo:read', { selector: '.scope code' }).closest('li')!.className,
    ).toBe('scope used');

    const activity = screen.getByRole('region', { name: 'Activity' });
    await within(activity).findByText('broker.token.issued');
    const items = within(activity).getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('code')!.textContent)).toEqual([
      'broker.token.issued',
      'identity.created',
    ]);
    expect(requests).toContain('/api/v1/events?subject=idn_42&order=desc&limit=100');
  });

  it('draws the blast radius; selecting a node highlights its paths and shows its details', async () => {
    renderAt('/identities/idn_42');
    const graphGroup = await screen.findByRole('group', {
      name: /^Blast radius of release-agent: 1 credential, 2 grants, 2 resources or patterns reached\./,
    });
    const nodes = within(graphGroup).getAllByRole('button');
    expect(nodes).toHaveLength(6);
    const grant = within(graphGroup).getByRole('button', { name: /^Grant app-installation:acme/ });
    expect(grant.getAttribute('tabindex')).toBe('0');
    fireEvent.click(grant);
    expect(grant.getAttribute('aria-pressed')).toBe('true');
    const panel = screen.getByRole('complementary', { name: 'Selected node' });
    expect(within(panel).getByRole('heading', { name: 'Grant: app-installation:acme' })).toBeTruthy();
    expect(within(panel).getByText('github:acme/*')).toBeTruthy();
    const cls = (id: string) => graphGroup.querySelector(`[data-node-id="${id}"]`)!.getAttribute('class')!;
    expect(cls('grt_1')).toContain('selected');
    expect(cls('res_web')).toContain('lit');
    expect(cls('idn_42')).toContain('lit');
    expect(cls('grt_2')).toContain('dim');
    expect(cls('crd_1')).toContain('dim');

    // Keyboard: Enter on a resource selects it; its panel names both grants that reach it.
    const api = within(graphGroup).getByRole('button', { name: /^Resource github:acme\/api/ });
    fireEvent.keyDown(api, { key: 'Enter' });
    expect(api.getAttribute('aria-pressed')).toBe('true');
    expect(grant.getAttribute('aria-pressed')).toBe('false');
    expect(within(panel).getAllByText(/allowed by/)).toHaveLength(2);
    fireEvent.keyDown(api, { key: 'Escape' });
    expect(api.getAttribute('aria-pressed')).toBe('false');
    expect(cls('grt_2')).not.toContain('dim');
  });
});

describe('identity detail helpers', () => {
  it('lists granted scopes no token used, in grant order', () => {
    expect(unusedScopes(tokens)).toEqual(['repo:write', 'packages:publish']);
    expect(unusedScopes({ ...tokens, scopesUsed: [...tokens.scopesGranted] })).toEqual([]);
  });

  it('summarises plain event data and counts arrays, skipping objects', () => {
    expect(summarizeData({ a: 'x', n: 2, ok: false, list: [1, 2], obj: { k: 1 } })).toBe(
      'a: x · n: 2 · ok: false · list: 2 items',
    );
    expect(summarizeData({ long: 'y'.repeat(100) })).toBe(`long: ${'y'.repeat(79)}…`);
    expect(summarizeData({ a: 1, b: 2, c: 3 }, 2)).toBe('a: 1 · b: 2');
  });
});
