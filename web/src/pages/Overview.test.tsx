// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { TOKEN_KEY } from '../lib/api.js';
import { startStream, stopStream } from '../lib/stream.js';
import type { Overview as OverviewAnswer } from '../lib/types-inventory.js';
import { Overview, dueText, postureBand } from './Overview.js';

const TITLES = [
  'Improper Offboarding',
  'Secret Leakage',
  'Vulnerable Third-Party NHI',
  'Insecure Authentication',
  'Overprivileged NHI',
  'Insecure Cloud Deployment Configurations',
  'Long-Lived Secrets',
  'Environment Isolation',
  'NHI Reuse',
  'Human Use of NHI',
];

function day(i: number): string {
  return new Date(Date.UTC(2026, 9, 31 + i)).toISOString().slice(0, 10);
}

/** An answer of GET /api/v1/overview as the contract describes it. */
function overviewAnswer(score = 63): OverviewAnswer {
  return {
    postureScore: score,
    counts: { identities: 42, credentials: 57, openFindings: 19, openAlerts: 4, pendingApprovals: 2 },
    findingsByOwasp: TITLES.map((title, i) => ({
      owasp: `NHI${i + 1}`,
      title,
      critical: i === 1 ? 2 : 0,
      high: i === 1 ? 1 : i === 4 ? 3 : 0,
      medium: i === 6 ? 5 : 0,
      low: 0,
      info: 0,
    })),
    findingsBySeverity: { critical: 2, high: 4, medium: 5, low: 0, info: 0 },
    identitiesByRisk: { critical: 1, high: 3, medium: 6, low: 12, none: 20 },
    alertsOverTime: Array.from({ length: 30 }, (_, i) => ({
      day: day(i),
      total: i === 29 ? 3 : i === 10 ? 1 : 0,
      critical: i === 29 ? 1 : 0,
      high: i === 29 ? 2 : 0,
      medium: 0,
      low: i === 10 ? 1 : 0,
      informational: 0,
    })),
    riskiestIdentities: [
      {
        id: 'idn_a1',
        name: 'deploy-bot',
        kind: 'ci-pipeline',
        provider: 'github',
        environment: 'prod',
        owner: 'ana@example.com',
        riskScore: 88,
        openFindings: 4,
      },
    ],
    credentialsDue: [
      {
        id: 'crd_1',
        identityId: 'idn_a1',
        identityName: 'deploy-bot',
        type: 'pat',
        preview: 'ghp_…a1B2',
        expiresAt: '2026-11-20T00:00:00.000Z',
        lastRotatedAt: null,
        due: 'expired',
        days: 9,
      },
      {
        id: 'crd_2',
        identityId: 'idn_b2',
        identityName: 'billing-sa',
        type: 'access-key',
        preview: 'AKIA…WXYZ',
        expiresAt: null,
        lastRotatedAt: '2026-06-01T00:00:00.000Z',
        due: 'rotation-overdue',
        days: 91,
      },
    ],
  };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

beforeEach(() => sessionStorage.setItem(TOKEN_KEY, 'kwa_test'));
afterEach(() => {
  stopStream();
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

function renderOverview() {
  return render(
    <MemoryRouter>
      <Overview />
    </MemoryRouter>,
  );
}

describe('Overview', () => {
  it('shows the posture score with its band, the counts as links, and tables of identities and credentials', async () => {
    const fetchMock = vi.fn(async (url: string) => {
      expect(url).toBe('/api/v1/overview');
      return json(overviewAnswer());
    });
    vi.stubGlobal('fetch', fetchMock);
    renderOverview();
    const posture = await screen.findByRole('region', { name: 'Posture score' });
    expect(within(posture).getByText('63')).toBeTruthy();
    expect(within(posture).getByText('fair')).toBeTruthy();

    const counts = screen.getByRole('list', { name: 'Counts' });
    const links = within(counts)
      .getAllByRole('link')
      .map((a) => [a.textContent, a.getAttribute('href')]);
    expect(links).toEqual([
      ['42 Identities', '/identities'],
      ['57 Credentials', '#credentials-due'],
      ['19 Open findings', '/findings'],
      ['4 Open alerts', '/alerts'],
      ['2 Pending approvals', '/approvals'],
    ]);

    const riskiest = screen.getByRole('region', { name: 'Riskiest identities' });
    expect(within(riskiest).getByRole('link', { name: 'deploy-bot' }).getAttribute('href')).toBe(
      '/identities/idn_a1',
    );
    expect(within(riskiest).getByText('(critical)')).toBeTruthy();
    const due = screen.getByRole('region', { name: 'Credentials expiring or overdue for rotation' });
    expect(within(due).getByText('expired 9 days ago')).toBeTruthy();
    expect(within(due).getByText('rotation overdue by 91 days')).toBeTruthy();
    expect(within(due).getByRole('link', { name: 'billing-sa' }).getAttribute('href')).toBe(
      '/identities/idn_b2',
    );
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('labels every chart with its numbers and offers them as tables', async () => {
    vi.stubGlobal('fetch', async () => json(overviewAnswer()));
    renderOverview();
    const owasp = await screen.findByRole('img', {
      name: /^Open findings by OWASP NHI category and severity:/,
    });
    const owaspLabel = owasp.getAttribute('aria-label')!;
    expect(owaspLabel).toContain('NHI1 Improper Offboarding 0;');
    expect(owaspLabel).toContain('NHI2 Secret Leakage 3 (2 critical, 1 high);');
    expect(owaspLabel).toContain('NHI5 Overprivileged NHI 3 high;');
    expect(owaspLabel).toContain('NHI7 Long-Lived Secrets 5 medium;');

    expect(screen.getByRole('img', { name: /^Identities by risk band:/ }).getAttribute('aria-label')).toBe(
      'Identities by risk band: Critical (80–100) 1; High (60–79) 3; Medium (40–59) 6; Low (1–39) 12; None (0 or not scored) 20.',
    );
    expect(screen.getByRole('img', { name: /^Alerts per day/ }).getAttribute('aria-label')).toBe(
      `Alerts per day over the last 30 days by level: 4 in 30 days, from ${day(0)} to ${day(29)}; most on ${day(29)} with 3 (1 critical, 2 high).`,
    );

    // The OWASP data table links each category to the findings it counts.
    const table = screen.getByRole('table', { name: 'Open findings by OWASP NHI category and severity' });
    const nhi2 = within(table).getByRole('link', { name: 'NHI2 Secret Leakage' });
    expect(nhi2.getAttribute('href')).toBe('/findings?owasp=NHI2');
    const row = nhi2.closest('tr')!;
    expect([...row.querySelectorAll('td')].map((td) => td.textContent)).toEqual([
      '2',
      '1',
      '0',
      '0',
      '0',
      '3',
    ]);
    // The alerts table has one row per day plus the header.
    const alerts = screen.getByRole('table', { name: 'Alerts per day over the last 30 days by level' });
    expect(within(alerts).getAllByRole('row')).toHaveLength(31);
  });

  it('shows the server error in an alert', async () => {
    vi.stubGlobal('fetch', async () => json({ code: 'KW_INTERNAL', message: 'the store is locked' }, 500));
    renderOverview();
    expect((await screen.findByRole('alert')).textContent).toBe('the store is locked');
  });

  it('reloads once after a burst of live alert and finding messages', async () => {
    let overviews = 0;
    const encoder = new TextEncoder();
    vi.stubGlobal('fetch', async (url: string) => {
      if (url.startsWith('/api/v1/stream')) {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(
              encoder.encode(
                'id: 5\nevent: alert\ndata: {"id":"alt_1"}\n\nid: 6\nevent: finding\ndata: {"id":"fnd_1","status":"accepted"}\n\n',
              ),
            );
          },
        });
        return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }
      overviews += 1;
      return json(overviewAnswer(overviews === 1 ? 63 : 91));
    });
    renderOverview();
    await screen.findByText('63');
    startStream();
    await waitFor(() => expect(screen.getByText('91')).toBeTruthy(), { timeout: 3000 });
    expect(screen.getByText('good')).toBeTruthy();
    expect(overviews).toBe(2);
  });
});

describe('overview helpers', () => {
  it('names posture bands at 80, 60 and 40', () => {
    expect([100, 80, 79, 60, 59, 40, 39, 0].map((s) => postureBand(s).label)).toEqual([
      'good',
      'good',
      'fair',
      'fair',
      'poor',
      'poor',
      'critical',
      'critical',
    ]);
  });

  it('words each due state, with singular days', () => {
    const base = {
      id: 'c',
      identityId: 'i',
      identityName: 'n',
      type: 'pat',
      preview: 'p',
      expiresAt: null,
      lastRotatedAt: null,
    };
    expect(dueText({ ...base, due: 'expiring', days: 1 })).toBe('expires in 1 day');
    expect(dueText({ ...base, due: 'expired', days: 0 })).toBe('expired 0 days ago');
    expect(dueText({ ...base, due: 'rotation-overdue', days: 120 })).toBe('rotation overdue by 120 days');
  });
});
