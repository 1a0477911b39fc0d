// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { mockFetch, on } from '../lib/test-fetch.js';
import type { EventRecord } from '../lib/types-ops.js';
import { Events } from './Events.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function event(seq: number, type: string): EventRecord {
  return {
    seq,
    id: `evt_${seq}`,
    time: '2026-11-29T16:00:00.000Z',
    type,
    actor: 'cli',
    subject: null,
    data: { n: seq },
    prevHash: '0'.repeat(64),
    hash: 'b'.repeat(64),
  };
}

describe('Events', () => {
  it('shows the newest events first, filters by type, pages back by sequence number, and verifies the chain', async () => {
    const newest = Array.from({ length: 100 }, (_, i) =>
      event(250 - i, i % 2 ? 'finding.accepted' : 'broker.token.issued'),
    );
    let verify: unknown = { ok: true, checked: 250, lastSeq: 250, lastHash: 'c'.repeat(64) };
    const { requests } = mockFetch([
      on('GET', /^\/api\/v1\/events\?order=desc&limit=100$/, () => ({
        body: { items: newest, total: 250, limit: 100, offset: 0, next: null },
      })),
      on('GET', /^\/api\/v1\/events\?order=desc&before=151&limit=100$/, () => ({
        body: {
          items: Array.from({ length: 100 }, (_, i) => event(150 - i, 'identity.created')),
          total: 250,
          limit: 100,
          offset: 0,
          next: 51,
        },
      })),
      on('GET', '/api/v1/audit/verify', () => ({ body: verify })),
    ]);
    render(
      <MemoryRouter>
        <Events />
      </MemoryRouter>,
    );
    const table = await screen.findByRole('table', { name: 'Events, newest first' });
    expect(requests[0]!.url).toBe('/api/v1/events?order=desc&limit=100');
    expect(within(table).getAllByRole('row')[1]!.textContent).toContain('250');
    fireEvent.change(screen.getByLabelText('Type contains'), { target: { value: 'FINDING.' } });
    expect(within(table).getAllByRole('row')).toHaveLength(51);
    fireEvent.change(screen.getByLabelText('Type contains'), { target: { value: '' } });

    expect(screen.getByText(/Page 1 of 3 · 250 events/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() => expect(screen.getByText(/Page 2 of 3/)).toBeTruthy());
    const rows = within(screen.getByRole('table')).getAllByRole('row');
    expect(rows[1]!.firstElementChild!.textContent).toBe('150');
    expect(rows.at(-1)!.firstElementChild!.textContent).toBe('51');

    fireEvent.click(screen.getByRole('button', { name: 'Verify chain' }));
    expect(await screen.findByText(/Chain intact: 250 records checked, last #250/)).toBeTruthy();
    verify = {
      ok: false,
      checked: 41,
      problem: { seq: 42, kind: 'changed', message: 'record 42 does not match its hash' },
    };
    fireEvent.click(screen.getByRole('button', { name: 'Verify chain' }));
    expect(
      await screen.findByText(
        'Chain broken at #42 (changed): record 42 does not match its hash. 41 records before it are intact.',
      ),
    ).toBeTruthy();
  });
});
