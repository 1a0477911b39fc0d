// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { mockFetch, on, page } from '../lib/test-fetch.js';
import type { Approval } from '../lib/types-ops.js';
import { Approvals, countdown } from './Approvals.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function approval(over: Partial<Approval>): Approval {
  return {
    id: 'apr_01JDEMO1',
    agentId: 'agt_release_bot',
    agentTypeId: 'release-agent',
    scopes: ['github:contents:write', 'npm:publish'],
    resource: 'github:acme/payments',
    task: 'release-4812',
    purpose: 'Publish v2.3.0 of @acme/payments',
    status: 'pending',
    requestedAt: '2026-11-29T16:50:00.000Z',
    expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    decidedAt: null,
    decidedBy: null,
    reason: null,
    tokenJti: null,
    ...over,
  };
}

describe('countdown', () => {
  it('says how long is left, and when the deadline passed', () => {
    const now = Date.parse('2026-11-29T17:00:00Z');
    expect(countdown('2026-11-29T17:04:05Z', now)).toBe('4 min 05 s left');
    expect(countdown('2026-11-29T19:10:00Z', now)).toBe('2 h 10 min left');
    expect(countdown('2026-12-01T20:00:00Z', now)).toBe('2 d 3 h left');
    expect(countdown('2026-11-29T16:59:59Z', now)).toBe('deadline passed');
    expect(countdown('not a date', now)).toBe('—');
  });
});

describe('Approvals', () => {
  it('approves a pending request with a POST to its approve URL and moves the row to the decided list', async () => {
    const first = approval({});
    const second = approval({
      id: 'apr_01JDEMO2',
      agentId: 'agt_support_bot',
      scopes: ['zendesk:tickets:read'],
    });
    const decided = approval({
      id: 'apr_01JOLD',
      status: 'denied',
      decidedAt: '2026-11-28T10:00:00.000Z',
      decidedBy: 'api:admin',
      reason: 'not in change window',
    });
    let approved: Approval | null = null;
    const { requests } = mockFetch([
      on('GET', '/api/v1/broker/agents', () => ({
        body: page([
          { id: 'agt_release_bot', name: 'release-bot' },
          { id: 'agt_support_bot', name: 'support-bot' },
        ]),
      })),
      on('GET', '/api/v1/broker/agent-types', () => ({
        body: page([{ id: 'release-agent', name: 'releaser' }]),
      })),
      on('GET', /^\/api\/v1\/broker\/approvals\?status=pending/, () => ({
        body: page(approved ? [second] : [first, second]),
      })),
      on('GET', '/api/v1/broker/approvals', () => ({
        body: page(approved ? [approved, second, decided] : [first, second, decided]),
      })),
      on('POST', '/api/v1/broker/approvals/apr_01JDEMO1/approve', () => {
        approved = {
          ...first,
          status: 'approved',
          decidedAt: '2026-11-29T17:00:00.000Z',
          decidedBy: 'api:admin',
        };
        return { body: approved };
      }),
    ]);
    render(
      <MemoryRouter>
        <Approvals />
      </MemoryRouter>,
    );
    const pendingTable = await screen.findByRole('table', { name: 'Pending approval requests' });
    const row = (await within(pendingTable).findByText('release-bot')).closest('tr')!;
    expect(row.textContent).toContain('agt_release_bot');
    expect(row.textContent).toContain('type releaser');
    expect(row.textContent).toContain('github:acme/payments');
    expect(row.textContent).toContain('Publish v2.3.0 of @acme/payments');
    expect(row.textContent).toMatch(/(9|10) min \d\d s left/);
    const decidedTable = await screen.findByRole('table', { name: 'Decided approval requests' });
    expect(within(decidedTable).getAllByRole('row')).toHaveLength(2);

    fireEvent.click(screen.getByRole('button', { name: 'Approve apr_01JDEMO1 for release-bot' }));
    await waitFor(() =>
      expect(screen.getByRole('status').textContent).toBe('Request apr_01JDEMO1 of release-bot approved.'),
    );
    expect(requests.filter((r) => r.method === 'POST')).toEqual([
      { method: 'POST', url: '/api/v1/broker/approvals/apr_01JDEMO1/approve', body: {} },
    ]);
    await waitFor(() => expect(within(pendingTable).queryByText('release-bot')).toBeNull());
    expect(within(pendingTable).getByText('support-bot')).toBeTruthy();
    const decidedRow = within(screen.getByRole('table', { name: 'Decided approval requests' }))
      .getByText('apr_01JDEMO1')
      .closest('tr')!;
    expect(decidedRow.textContent).toContain('release-bot');
    expect(decidedRow.textContent).toContain('approved');
    expect(decidedRow.textContent).toContain('api:admin');
  });

  it('shows the API error when a decision fails, and keeps the request pending', async () => {
    mockFetch([
      on('GET', /^\/api\/v1\/broker\/approvals/, () => ({ body: page([approval({})]) })),
      on('POST', '/api/v1/broker/approvals/apr_01JDEMO1/deny', () => ({
        status: 409,
        body: { code: 'KW_CONFLICT', message: 'approval apr_01JDEMO1 is already expired' },
      })),
    ]);
    render(
      <MemoryRouter>
        <Approvals />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Deny apr_01JDEMO1 for agt_release_bot' }));
    await waitFor(() =>
      expect(screen.getByRole('status').textContent).toBe(
        'Could not deny apr_01JDEMO1: approval apr_01JDEMO1 is already expired',
      ),
    );
    expect(
      within(screen.getByRole('table', { name: 'Pending approval requests' })).getByText('agt_release_bot'),
    ).toBeTruthy();
  });
});
