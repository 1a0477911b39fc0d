// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { mockFetch, on, page } from '../lib/test-fetch.js';
import type { Finding } from '../lib/types-ops.js';
import { Findings } from './Findings.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function finding(over: Partial<Finding>): Finding {
  return {
    id: 'fnd_7f3a9c',
    ruleId: 'nhi7-secret-not-rotated',
    owasp: 'NHI7',
    severity: 'high',
    title: 'Access key not rotated for 412 days',
    message: 'AKIA…QX7Z of ci-deployer was last rotated 2025-10-13 (412 days ago).',
    remediation: 'Rotate the key and move the workload to short-lived credentials.',
    identityId: 'idn_ci_deployer',
    credentialId: 'crd_aws_1',
    evidence: { keyPreview: 'AKIA…QX7Z', ageDays: 412, maxAgeDays: 90 },
    firstSeenAt: '2026-11-01T08:00:00.000Z',
    lastSeenAt: '2026-11-29T08:00:00.000Z',
    status: 'open',
    statusReason: null,
    statusBy: null,
    statusAt: null,
    ...over,
  };
}

const LEAK = finding({
  id: 'fnd_2b81e0',
  ruleId: 'nhi2-secret-in-repo',
  owasp: 'NHI2',
  severity: 'critical',
  title: 'Secret committed to a repository',
  identityId: 'idn_billing_api',
  credentialId: null,
  evidence: { identity: 'billing-api', file: 'config/prod.env', line: 12, rule: 'stripe-live-key' },
});
const ROTATE = finding({});

function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/findings" element={<Findings />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe('Findings', () => {
  it('lists open findings with identity link, evidence and dates, and counts them by OWASP category', async () => {
    const { requests } = mockFetch([on('GET', '/api/v1/findings', () => ({ body: page([LEAK, ROTATE]) }))]);
    renderAt('/findings');
    expect(await screen.findByRole('heading', { name: 'Secret committed to a repository' })).toBeTruthy();
    expect(requests[0]!.url).toBe('/api/v1/findings?status=open&limit=1000&offset=0');
    const item = screen.getByRole('listitem', { name: 'Access key not rotated for 412 days' });
    expect(within(item).getByRole('link', { name: 'idn_ci_deployer' }).getAttribute('href')).toBe(
      '/identities/idn_ci_deployer',
    );
    const evidence = within(item).getByLabelText('Evidence');
    expect([...evidence.querySelectorAll('div')].map((d) => d.textContent)).toEqual([
      'keyPreviewAKIA…QX7Z',
      'ageDays412',
      'maxAgeDays90',
    ]);
    expect(item.textContent).toContain('First seen 2026-11-01 08:00 UTC');
    const leak = screen.getByRole('listitem', { name: 'Secret committed to a repository' });
    expect(within(leak).getByRole('link', { name: 'billing-api' }).getAttribute('href')).toBe(
      '/identities/idn_billing_api',
    );
    expect(item.textContent).toContain('Rotate the key and move the workload');
    const counts = screen.getByRole('navigation', { name: 'Findings by OWASP NHI category' });
    expect(within(counts).getByRole('button', { name: /NHI2 Secret Leakage 1/ })).toBeTruthy();
    expect(within(counts).getByRole('button', { name: /NHI7 Long-Lived Secrets 1/ })).toBeTruthy();
    expect(within(counts).getByRole('button', { name: /NHI1 Improper Offboarding 0/ })).toBeTruthy();
  });

  it('filters by OWASP id, severity and status from the URL query', async () => {
    const { requests } = mockFetch([
      on('GET', '/api/v1/findings', () => ({
        body: page([
          { ...LEAK, status: 'accepted' },
          { ...ROTATE, status: 'accepted' },
        ]),
      })),
    ]);
    renderAt('/findings?owasp=NHI7&severity=high&status=accepted');
    expect(await screen.findByRole('heading', { name: 'Access key not rotated for 412 days' })).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Secret committed to a repository' })).toBeNull();
    expect(requests[0]!.url).toBe('/api/v1/findings?status=accepted&minSeverity=high&limit=1000&offset=0');
    expect(screen.getByRole('button', { name: /NHI7/, pressed: true })).toBeTruthy();
    expect(screen.getAllByRole('button', { name: /^Reopen/ })).toHaveLength(1);
  });

  it('accepts a finding only with a reason, posts the exact body and refreshes the list', async () => {
    let accepted = false;
    const { requests } = mockFetch([
      on('GET', '/api/v1/findings', () => ({ body: page(accepted ? [LEAK] : [LEAK, ROTATE]) })),
      on('POST', '/api/v1/findings/fnd_7f3a9c/status', (req) => {
        accepted = true;
        return {
          body: { ...ROTATE, status: 'accepted', statusReason: (req.body as { reason: string }).reason },
        };
      }),
    ]);
    renderAt('/findings');
    const opener = await screen.findByRole('button', { name: 'Accept Access key not rotated for 412 days' });
    opener.focus();
    fireEvent.click(opener);
    const dialog = screen.getByRole('dialog', { name: 'Accept finding' });
    const reason = within(dialog).getByLabelText('Reason');
    expect(document.activeElement).toBe(reason);

    fireEvent.click(within(dialog).getByRole('button', { name: 'Accept' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Reason is required.');
    fireEvent.change(reason, { target: { value: '   ' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Accept' }));
    expect(requests.filter((r) => r.method === 'POST')).toEqual([]);

    fireEvent.change(reason, { target: { value: '  Key is used by a legacy job retired in December  ' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Accept' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(requests.filter((r) => r.method === 'POST')).toEqual([
      {
        method: 'POST',
        url: '/api/v1/findings/fnd_7f3a9c/status',
        body: { status: 'accepted', reason: 'Key is used by a legacy job retired in December' },
      },
    ]);
    expect(screen.getByText('Finding “Access key not rotated for 412 days” accepted.')).toBeTruthy();
    await waitFor(() =>
      expect(screen.queryByRole('heading', { name: 'Access key not rotated for 412 days' })).toBeNull(),
    );
    expect(requests.filter((r) => r.method === 'GET')).toHaveLength(2);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('status')));
  });

  it('keeps the dialog open with the API error message when the change fails, and Escape cancels', async () => {
    mockFetch([
      on('GET', '/api/v1/findings', () => ({ body: page([LEAK]) })),
      on('POST', '/api/v1/findings/fnd_2b81e0/status', () => ({
        status: 404,
        body: { code: 'KW_NOT_FOUND', message: 'no finding "fnd_2b81e0"' },
      })),
    ]);
    renderAt('/findings');
    const opener = await screen.findByRole('button', { name: 'Resolve Secret committed to a repository' });
    opener.focus();
    fireEvent.click(opener);
    const dialog = screen.getByRole('dialog', { name: 'Resolve finding' });
    fireEvent.change(within(dialog).getByLabelText('Reason'), { target: { value: 'key revoked' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Resolve' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe('no finding "fnd_2b81e0"');
    expect(screen.getByRole('dialog')).toBe(dialog);
    fireEvent.keyDown(within(dialog).getByLabelText('Reason'), { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(
      screen.getByRole('button', { name: 'Resolve Secret committed to a repository' }),
    );
  });
});
