// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { TOKEN_KEY } from '../lib/api.js';
import { startStream, stopStream } from '../lib/stream.js';
import { mockFetch, on, page } from '../lib/test-fetch.js';
import type { Alert, AlertDetail as AlertDetailData, EventRecord } from '../lib/types-ops.js';
import { AlertDetail } from './AlertDetail.js';
import { Alerts } from './Alerts.js';

afterEach(() => {
  stopStream();
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

function alert(over: Partial<Alert>): Alert {
  return {
    id: 'alt_5d1c0e',
    ruleId: 'keyward-broker-token-burst',
    ruleTitle: 'Burst of broker tokens for one agent',
    level: 'high',
    tags: ['keyward/broker', 'attack.credential_access'],
    groupKey: { agentId: 'agt_release_bot' },
    windowStart: Date.parse('2026-11-29T16:00:00Z'),
    windowEnd: Date.parse('2026-11-29T16:04:30Z'),
    eventIds: ['evt_1', 'evt_2', 'evt_3'],
    eventCount: 3,
    summary: 'agt_release_bot was issued 3 tokens in 5 minutes',
    acknowledgedAt: null,
    acknowledgedBy: null,
    ackNote: null,
    source: 'stream',
    createdAt: '2026-11-29T16:04:31.000Z',
    ...over,
  };
}

function event(id: string, seq: number): EventRecord {
  return {
    seq,
    id,
    time: `2026-11-29T16:0${seq}:00.000Z`,
    type: 'broker.token.issued',
    actor: 'agt_release_bot',
    subject: null,
    data: { jti: `jti_${seq}`, scope: 'npm:publish' },
    prevHash: '0'.repeat(64),
    hash: 'a'.repeat(64),
  };
}

const OLD = alert({ id: 'alt_old', ruleTitle: 'Access key used from a new country', level: 'medium' });

describe('Alerts', () => {
  it('asks for the filters from the URL, newest first, and pages', async () => {
    const { requests } = mockFetch([
      on('GET', '/api/v1/detect/alerts', () => ({ body: { ...page([OLD]), total: 120 } })),
    ]);
    render(
      <MemoryRouter initialEntries={['/alerts?level=medium&acknowledged=false&rule=keyward-geo']}>
        <Routes>
          <Route path="/alerts" element={<Alerts />} />
        </Routes>
      </MemoryRouter>,
    );
    expect(await screen.findByRole('link', { name: 'Access key used from a new country' })).toBeTruthy();
    expect(requests.at(-1)!.url).toBe(
      '/api/v1/detect/alerts?level=medium&acknowledged=false&ruleId=keyward-geo&limit=50&offset=0',
    );
    expect(screen.getByText(/Page 1 of 3 · 120 alerts/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() =>
      expect(requests.at(-1)!.url).toBe(
        '/api/v1/detect/alerts?level=medium&acknowledged=false&ruleId=keyward-geo&limit=50&offset=50',
      ),
    );
  });

  it('puts an alert from the live stream at the top and announces it', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'kwa_test');
    const { stream } = mockFetch([on('GET', '/api/v1/detect/alerts', () => ({ body: page([OLD]) }))]);
    render(
      <MemoryRouter initialEntries={['/alerts']}>
        <Routes>
          <Route path="/alerts" element={<Alerts />} />
        </Routes>
      </MemoryRouter>,
    );
    await screen.findByRole('link', { name: 'Access key used from a new country' });
    startStream();
    await stream.opened;
    await act(async () => {
      stream.send('approval', { id: 'apr_x' }, '41');
      stream.send('alert', alert({}), '42');
      await new Promise((r) => setTimeout(r, 20));
    });
    const rows = await waitFor(() => {
      const r = within(screen.getByRole('table')).getAllByRole('row').slice(1);
      expect(r).toHaveLength(2);
      return r;
    });
    expect(rows[0]!.textContent).toContain('Burst of broker tokens for one agent');
    expect(rows[1]!.textContent).toContain('Access key used from a new country');
    expect(screen.getByRole('status').textContent).toBe(
      'New high alert: Burst of broker tokens for one agent',
    );
    // A live alert the filters exclude is not added.
    await act(async () => {
      stream.send('alert', alert({ id: 'alt_acked', acknowledgedAt: '2026-11-29T17:00:00Z' }), '43');
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(within(screen.getByRole('table')).getAllByRole('row')).toHaveLength(4);
  });
});

describe('AlertDetail', () => {
  it('shows the alert, its events and the ids not in the log, and acknowledges it with a note', async () => {
    let acked = false;
    const detail = (): AlertDetailData => ({
      ...alert({}),
      ...(acked
        ? {
            acknowledgedAt: '2026-11-29T17:01:00.000Z',
            acknowledgedBy: 'api:admin',
            ackNote: 'planned release',
          }
        : {}),
      events: [event('evt_1', 1), event('evt_2', 2)],
    });
    const { requests } = mockFetch([
      on('GET', '/api/v1/detect/alerts/alt_5d1c0e', () => ({ body: detail() })),
      on('POST', '/api/v1/detect/alerts/alt_5d1c0e/ack', () => {
        acked = true;
        const { events: _events, ...rest } = detail();
        return { body: rest };
      }),
    ]);
    render(
      <MemoryRouter initialEntries={['/alerts/alt_5d1c0e']}>
        <Routes>
          <Route path="/alerts/:id" element={<AlertDetail />} />
        </Routes>
      </MemoryRouter>,
    );
    expect(
      await screen.findByRole('heading', { level: 1, name: 'Burst of broker tokens for one agent' }),
    ).toBeTruthy();
    const main = document.body.textContent!;
    expect(main).toContain('keyward-broker-token-burst');
    expect(main).toContain('agentId=agt_release_bot');
    expect(main).toContain('2026-11-29 16:00 UTC – 2026-11-29 16:04 UTC');
    expect(main).toContain('attack.credential_access');
    expect(within(screen.getAllByRole('table')[0]!).getAllByRole('row')).toHaveLength(3);
    expect(screen.getByRole('heading', { name: 'Not in the event log (1)' })).toBeTruthy();
    expect(screen.getByText('evt_3')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Acknowledge' }));
    const dialog = screen.getByRole('dialog', { name: 'Acknowledge alert' });
    fireEvent.change(within(dialog).getByLabelText('Note (optional)'), {
      target: { value: 'planned release' },
    });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Acknowledge' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(requests.filter((r) => r.method === 'POST')).toEqual([
      { method: 'POST', url: '/api/v1/detect/alerts/alt_5d1c0e/ack', body: { note: 'planned release' } },
    ]);
    await waitFor(() =>
      expect(document.body.textContent).toContain(
        'acknowledged by api:admin on 2026-11-29 17:01 UTC: planned release',
      ),
    );
    expect(screen.queryByRole('button', { name: 'Acknowledge' })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('status'));
    expect(screen.getByRole('status').textContent).toBe('Alert acknowledged.');
  });

  it('acknowledges without a note with an empty body', async () => {
    const { requests } = mockFetch([
      on('GET', '/api/v1/detect/alerts/alt_5d1c0e', () => ({ body: { ...alert({}), events: [] } })),
      on('POST', '/api/v1/detect/alerts/alt_5d1c0e/ack', () => ({ body: alert({}) })),
    ]);
    render(
      <MemoryRouter initialEntries={['/alerts/alt_5d1c0e']}>
        <Routes>
          <Route path="/alerts/:id" element={<AlertDetail />} />
        </Routes>
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Acknowledge' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Acknowledge' }));
    await waitFor(() => expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1));
    expect(requests.find((r) => r.method === 'POST')!.body).toEqual({});
    expect(screen.getByText('None of the contributing events is in the event log.')).toBeTruthy();
  });
});
