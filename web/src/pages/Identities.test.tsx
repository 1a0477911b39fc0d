// @vitest-environment jsdom
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { TOKEN_KEY } from '../lib/api.js';
import type { Identity, IdentityKind } from '../lib/types-inventory.js';
import { Identities, filterIdentities, readQuery, sortIdentities } from './Identities.js';

const KINDS: IdentityKind[] = ['ai-agent', 'service-account', 'ci-pipeline', 'bot', 'mcp-server'];
const ENVS = ['prod', 'staging', 'dev', null];

function identity(n: number): Identity {
  const id = String(n).padStart(5, '0');
  return {
    id: `idn_${id}`,
    name: `svc-${id}`,
    kind: KINDS[n % KINDS.length]!,
    provider: n % 2 ? 'aws' : 'github',
    externalId: `ext-${id}`,
    environment: ENVS[n % ENVS.length]!,
    owner: n % 10 === 0 ? null : `owner${n % 7}@example.com`,
    sponsor: null,
    description: null,
    tags: [],
    attributes: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    lastSeenAt: null,
    riskScore: n % 11 === 0 ? null : (n * 37) % 101,
  };
}

const ALL = Array.from({ length: 10_000 }, (_, i) => identity(i));

/** GET /api/v1/identities?sort=name&limit&offset over ALL, as the server pages it. */
const requests: string[] = [];
async function serve(url: string): Promise<Response> {
  requests.push(url);
  const u = new URL(url, 'http://localhost');
  expect(u.pathname).toBe('/api/v1/identities');
  const limit = Number(u.searchParams.get('limit'));
  const offset = Number(u.searchParams.get('offset'));
  const body = { items: ALL.slice(offset, offset + limit), total: ALL.length, limit, offset };
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

// jsdom does no layout: give elements the size of a 600px-high scroll box so the virtualiser has a window.
const saved = {
  h: Object.getOwnPropertyDescriptor(Element.prototype, 'clientHeight'),
  w: Object.getOwnPropertyDescriptor(Element.prototype, 'clientWidth'),
};
beforeAll(() => {
  Object.defineProperty(Element.prototype, 'clientHeight', { configurable: true, get: () => 600 });
  Object.defineProperty(Element.prototype, 'clientWidth', { configurable: true, get: () => 1000 });
});
afterAll(() => {
  if (saved.h) Object.defineProperty(Element.prototype, 'clientHeight', saved.h);
  if (saved.w) Object.defineProperty(Element.prototype, 'clientWidth', saved.w);
});
beforeEach(() => {
  sessionStorage.setItem(TOKEN_KEY, 'kwa_test');
  requests.length = 0;
  vi.stubGlobal('fetch', vi.fn(serve));
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

function Where() {
  const loc = useLocation();
  return <div data-testid="where">{loc.pathname + loc.search}</div>;
}

function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/identities" element={<Identities />} />
        <Route path="/identities/:id" element={<p>detail page</p>} />
      </Routes>
      <Where />
    </MemoryRouter>,
  );
}

function bodyRows(): HTMLElement[] {
  const table = screen.getByRole('table', { name: 'Identities' });
  return [...table.querySelectorAll<HTMLElement>('tbody tr.vt-row')];
}

function names(): string[] {
  return bodyRows().map((r) => r.querySelector('td')!.textContent ?? '');
}

describe('Identities', () => {
  it('loads all 10,000 in pages of 1000 and renders only a window of rows', async () => {
    renderAt('/identities');
    await screen.findByText('10,000 of 10,000 identities');
    await waitFor(() => expect(bodyRows().length).toBeGreaterThan(0));
    expect(requests).toHaveLength(10);
    expect(requests[0]).toBe('/api/v1/identities?sort=name&limit=1000&offset=0');
    expect(requests[9]).toBe('/api/v1/identities?sort=name&limit=1000&offset=9000');
    const table = screen.getByRole('table', { name: 'Identities' });
    // 10,000 data rows plus the header row.
    expect(table.getAttribute('aria-rowcount')).toBe('10001');
    const rows = bodyRows();
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(50);
    expect(rows[0]!.getAttribute('aria-rowindex')).toBe('2');
    expect(names().slice(0, 3)).toEqual(['svc-00000', 'svc-00001', 'svc-00002']);
    // Each row's name is a link to the detail page, reachable with Tab.
    const link = within(rows[0]!).getByRole('link', { name: 'svc-00000' });
    expect(link.getAttribute('href')).toBe('/identities/idn_00000');
  });

  it('draws the first page before the other nine arrive, then all of them', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (!url.endsWith('offset=0')) await held;
        return serve(url);
      }),
    );
    renderAt('/identities');
    await screen.findByText('1,000 of 1,000 identities (loading the rest of 10,000…)');
    await waitFor(() => expect(names()[0]).toBe('svc-00000'));
    release();
    await screen.findByText('10,000 of 10,000 identities');
    expect(requests).toHaveLength(10);
  });

  it('sorts by a header button, toggles the direction, and says so with aria-sort', async () => {
    renderAt('/identities');
    await screen.findByText('10,000 of 10,000 identities');
    const riskHeader = screen.getByRole('columnheader', { name: /Risk/ });
    expect(riskHeader.getAttribute('aria-sort')).toBe('none');
    expect(screen.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('ascending');
    fireEvent.click(within(riskHeader).getByRole('button', { name: 'Risk' }));
    await waitFor(() => expect(riskHeader.getAttribute('aria-sort')).toBe('descending'));
    expect(screen.getByTestId('where').textContent).toBe('/identities?sort=risk&dir=desc');
    await waitFor(() => expect(bodyRows()[0]?.querySelector('.badge')?.textContent).toBe('100 (critical)'));
    fireEvent.click(within(riskHeader).getByRole('button', { name: 'Risk' }));
    await waitFor(() => expect(riskHeader.getAttribute('aria-sort')).toBe('ascending'));
    await waitFor(() => expect(bodyRows()[0]?.querySelector('.badge')?.textContent).toBe('0 (none)'));
    // Unscored identities come after every score, also when ascending.
    expect(sortIdentities(ALL, 'risk', 'asc').at(-1)!.riskScore).toBeNull();
  });

  it('filters by kind, environment, minimum risk and search, keeping them in the URL', async () => {
    renderAt('/identities');
    await screen.findByText('10,000 of 10,000 identities');
    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'bot' } });
    fireEvent.change(screen.getByLabelText('Environment'), { target: { value: 'prod' } });
    fireEvent.change(screen.getByLabelText('Minimum risk'), { target: { value: '80' } });
    const expected = filterIdentities(ALL, {
      q: '',
      kind: 'bot',
      environment: 'prod',
      owner: '',
      minRisk: 80,
    });
    await screen.findByText(`${expected.length} of 10,000 identities`);
    expect(screen.getByTestId('where').textContent).toBe('/identities?kind=bot&environment=prod&minRisk=80');
    expect(expected.length).toBeGreaterThan(0);
    await waitFor(() => expect(bodyRows().length).toBe(Math.min(expected.length, 25)));
    for (const r of bodyRows()) {
      expect(r.children[1]!.textContent).toBe('bot');
      expect(r.children[3]!.textContent).toBe('prod');
    }
    // Search within the filtered rows (bots in prod at 80+ whose name starts svc-009: 00928 and 00988).
    fireEvent.change(screen.getByLabelText('Search'), { target: { value: 'SVC-009' } });
    await screen.findByText('2 of 10,000 identities');
    await waitFor(() => expect(names()).toEqual(['svc-00928', 'svc-00988']));
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await screen.findByText('10,000 of 10,000 identities');
    expect(screen.getByTestId('where').textContent).toBe('/identities');
  });

  it('applies the filters of the URL on load and says when nothing matches', async () => {
    renderAt('/identities?q=nobody-has-this&sort=owner');
    await screen.findByText('0 of 10,000 identities');
    expect((screen.getByLabelText('Search') as HTMLInputElement).value).toBe('nobody-has-this');
    expect(screen.getByText('No identity matches these filters.')).toBeTruthy();
    expect(bodyRows()).toHaveLength(0);
  });

  it('opens the detail page when a row is clicked', async () => {
    renderAt('/identities?owner=owner3@');
    await screen.findByText(/of 10,000 identities$/);
    await waitFor(() => expect(bodyRows().length).toBeGreaterThan(0));
    fireEvent.click(bodyRows()[0]!.children[1]!);
    await screen.findByText('detail page');
    expect(screen.getByTestId('where').textContent).toMatch(/^\/identities\/idn_\d{5}$/);
  });
});

describe('identity list helpers', () => {
  const few = [identity(1), identity(10), identity(22), identity(3)];

  it('puts empty values last in both directions', () => {
    const owners = (dir: 'asc' | 'desc') => sortIdentities(few, 'owner', dir).map((i) => i.owner);
    // Owners 1, none, 1, 3; risks 37, 67, none, 10.
    expect(owners('asc')).toEqual(['owner1@example.com', 'owner1@example.com', 'owner3@example.com', null]);
    expect(owners('desc')).toEqual(['owner3@example.com', 'owner1@example.com', 'owner1@example.com', null]);
    expect(sortIdentities(few, 'risk', 'desc').map((i) => i.riskScore)).toEqual([67, 37, 10, null]);
    expect(sortIdentities(few, 'risk', 'asc').map((i) => i.riskScore)).toEqual([10, 37, 67, null]);
  });

  it('searches the name, external id and owner without case', () => {
    const f = { q: '', kind: '', environment: '', owner: '', minRisk: 0 };
    expect(filterIdentities(few, { ...f, q: 'EXT-00003' }).map((i) => i.id)).toEqual(['idn_00003']);
    expect(filterIdentities(few, { ...f, q: 'OWNER1@' }).map((i) => i.id)).toEqual([
      'idn_00001',
      'idn_00022',
    ]);
    expect(filterIdentities(few, { ...f, minRisk: 20 }).map((i) => i.id)).toEqual(['idn_00001', 'idn_00010']);
  });

  it('ignores unknown sort keys and out-of-range risk in the URL', () => {
    expect(readQuery(new URLSearchParams('sort=evil&dir=sideways&minRisk=500'))).toMatchObject({
      sort: 'name',
      dir: 'asc',
      minRisk: 0,
    });
    expect(readQuery(new URLSearchParams('sort=risk'))).toMatchObject({ sort: 'risk', dir: 'desc' });
  });
});
