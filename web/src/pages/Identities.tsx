/**
 * Every identity, loaded once in pages of 1000 and then searched, filtered and sorted in the browser. The
 * table is virtualised (only the rows in view are in the DOM) so 10,000 identities stay smooth; search,
 * filters and sort live in the URL query so a reload or a shared link keeps them.
 */
import { useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { ArrowDown, ArrowUp, ArrowUpDown } from 'lucide-react';
import { apiGetAll } from '../lib/api.js';
import { Loadable, RiskBadge } from '../components/ui.js';
import type { Identity } from '../lib/types-inventory.js';

export const SORT_KEYS = ['name', 'kind', 'environment', 'owner', 'risk'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';

/** The search and filters of the list, as read from the URL query. */
export interface IdentityFilter {
  /** Case-insensitive substring of the name, external id or owner. */
  q: string;
  kind: string;
  environment: string;
  /** Case-insensitive substring of the owner. */
  owner: string;
  /** Only identities with a risk score at or above this (0: all, including unscored). */
  minRisk: number;
}

/** Height of one table row in pixels (CSS keeps rows on one line at this height). */
export const ROW_HEIGHT = 41;

/** The identities matching every filter that is set. */
export function filterIdentities(items: readonly Identity[], f: IdentityFilter): Identity[] {
  const q = f.q.trim().toLowerCase();
  const owner = f.owner.trim().toLowerCase();
  return items.filter(
    (i) =>
      (!f.kind || i.kind === f.kind) &&
      (!f.environment || i.environment === f.environment) &&
      (!owner || (i.owner ?? '').toLowerCase().includes(owner)) &&
      (f.minRisk <= 0 || (i.riskScore ?? 0) >= f.minRisk) &&
      (!q ||
        i.name.toLowerCase().includes(q) ||
        i.externalId.toLowerCase().includes(q) ||
        (i.owner ?? '').toLowerCase().includes(q)),
  );
}

function sortValue(i: Identity, key: SortKey): string | number | null {
  switch (key) {
    case 'name':
      return i.name;
    case 'kind':
      return i.kind;
    case 'environment':
      return i.environment;
    case 'owner':
      return i.owner;
    case 'risk':
      return i.riskScore;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** A sorted copy; empty values (no owner, no score) go last in both directions, ties by name then id. */
export function sortIdentities(items: readonly Identity[], key: SortKey, dir: SortDir): Identity[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va !== vb) {
      if (va === null) return 1;
      if (vb === null) return -1;
      const c =
        typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
      if (c !== 0) return sign * c;
    }
    return collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
}

/** Reads the filter and sort from the URL query, accepting only known values. */
export function readQuery(params: URLSearchParams): IdentityFilter & { sort: SortKey; dir: SortDir } {
  const sortRaw = params.get('sort');
  const sort = (SORT_KEYS as readonly string[]).includes(sortRaw ?? '') ? (sortRaw as SortKey) : 'name';
  const dirRaw = params.get('dir');
  const dir: SortDir = dirRaw === 'asc' || dirRaw === 'desc' ? dirRaw : sort === 'risk' ? 'desc' : 'asc';
  const min = Number(params.get('minRisk') ?? 0);
  return {
    q: params.get('q') ?? '',
    kind: params.get('kind') ?? '',
    environment: params.get('environment') ?? '',
    owner: params.get('owner') ?? '',
    minRisk: Number.isInteger(min) && min > 0 && min <= 100 ? min : 0,
    sort,
    dir,
  };
}

const COLUMNS: Array<{ key: SortKey | 'provider'; label: string; className: string }> = [
  { key: 'name', label: 'Name', className: 'col-name' },
  { key: 'kind', label: 'Kind', className: 'col-kind' },
  { key: 'provider', label: 'Provider', className: 'col-provider' },
  { key: 'environment', label: 'Environment', className: 'col-env' },
  { key: 'owner', label: 'Owner', className: 'col-owner' },
  { key: 'risk', label: 'Risk', className: 'col-risk' },
];

const RISK_OPTIONS = [
  { value: 0, label: 'Any' },
  { value: 1, label: 'Low and above (1+)' },
  { value: 40, label: 'Medium and above (40+)' },
  { value: 60, label: 'High and above (60+)' },
  { value: 80, label: 'Critical (80+)' },
];

function distinct(values: Array<string | null>): string[] {
  return [...new Set(values.filter((v): v is string => !!v))].sort(collator.compare);
}

function Field({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

function IdentityTable({ all, total }: { all: Identity[]; total: number }) {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const query = readQuery(params);
  // Filtering 10,000 rows on each keystroke runs at low priority: typing stays responsive.
  const deferredSearch = useDeferredValue(params.toString());
  const kinds = useMemo(() => distinct(all.map((i) => i.kind)), [all]);
  const environments = useMemo(() => distinct(all.map((i) => i.environment)), [all]);
  const owners = useMemo(() => distinct(all.map((i) => i.owner)), [all]);
  const rows = useMemo(() => {
    const q = readQuery(new URLSearchParams(deferredSearch));
    return sortIdentities(filterIdentities(all, q), q.sort, q.dir);
  }, [all, deferredSearch]);

  const set = (changes: Record<string, string | null>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );

  const sortBy = (key: SortKey) => {
    const dir: SortDir =
      query.sort === key ? (query.dir === 'asc' ? 'desc' : 'asc') : key === 'risk' ? 'desc' : 'asc';
    set({
      sort: key === 'name' && dir === 'asc' ? null : key,
      dir: key === 'name' && dir === 'asc' ? null : dir,
    });
  };

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  const filtered = query.q || query.kind || query.environment || query.owner || query.minRisk > 0;

  return (
    <>
      <form
        className="toolbar"
        role="search"
        aria-label="Filter identities"
        onSubmit={(e) => e.preventDefault()}
      >
        <Field id="idn-q" label="Search">
          <input
            id="idn-q"
            type="search"
            placeholder="Name, external id or owner"
            value={query.q}
            onChange={(e) => set({ q: e.target.value })}
          />
        </Field>
        <Field id="idn-kind" label="Kind">
          <select id="idn-kind" value={query.kind} onChange={(e) => set({ kind: e.target.value })}>
            <option value="">All kinds</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <Field id="idn-env" label="Environment">
          <select
            id="idn-env"
            value={query.environment}
            onChange={(e) => set({ environment: e.target.value })}
          >
            <option value="">All environments</option>
            {environments.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <Field id="idn-owner" label="Owner">
          <input
            id="idn-owner"
            type="text"
            list="idn-owners"
            value={query.owner}
            onChange={(e) => set({ owner: e.target.value })}
          />
          <datalist id="idn-owners">
            {owners.slice(0, 500).map((o) => (
              <option key={o} value={o} />
            ))}
          </datalist>
        </Field>
        <Field id="idn-risk" label="Minimum risk">
          <select
            id="idn-risk"
            value={String(query.minRisk)}
            onChange={(e) => set({ minRisk: e.target.value === '0' ? null : e.target.value })}
          >
            {RISK_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </Field>
        {filtered && (
          <button
            type="button"
            className="button secondary"
            onClick={() => set({ q: null, kind: null, environment: null, owner: null, minRisk: null })}
          >
            Clear filters
          </button>
        )}
      </form>
      <p role="status" aria-live="polite" className="muted">
        {rows.length.toLocaleString('en')} of {all.length.toLocaleString('en')} identities
        {all.length < total && ` (loading the rest of ${total.toLocaleString('en')}…)`}
      </p>
      <div ref={scrollRef} className="vt-scroll" tabIndex={-1}>
        <table className="vt-table" aria-rowcount={rows.length + 1} aria-label="Identities">
          <colgroup>
            {COLUMNS.map((c) => (
              <col key={c.key} className={c.className} />
            ))}
          </colgroup>
          <thead>
            <tr aria-rowindex={1}>
              {COLUMNS.map((c) => {
                if (c.key === 'provider')
                  return (
                    <th key={c.key} scope="col">
                      {c.label}
                    </th>
                  );
                const key = c.key;
                const active = query.sort === key;
                const Icon = !active ? ArrowUpDown : query.dir === 'asc' ? ArrowUp : ArrowDown;
                return (
                  <th
                    key={key}
                    scope="col"
                    aria-sort={active ? (query.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
                  >
                    <button type="button" className="sort-button" onClick={() => sortBy(key)}>
                      {c.label} <Icon aria-hidden size={14} />
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {padTop > 0 && (
              <tr aria-hidden className="vt-spacer">
                <td colSpan={COLUMNS.length} style={{ height: padTop }} />
              </tr>
            )}
            {items.map((v) => {
              const i = rows[v.index]!;
              const href = `/identities/${encodeURIComponent(i.id)}`;
              return (
                <tr
                  key={i.id}
                  aria-rowindex={v.index + 2}
                  className="vt-row"
                  onClick={(e) => {
                    if (!(e.target instanceof Element) || !e.target.closest('a')) void navigate(href);
                  }}
                >
                  <td className="cell-name">
                    <Link to={href} title={i.name}>
                      {i.name}
                    </Link>
                  </td>
                  <td>{i.kind}</td>
                  <td>{i.provider}</td>
                  <td>{i.environment ?? <span className="muted">—</span>}</td>
                  <td title={i.owner ?? 'no owner'}>{i.owner ?? <span className="muted">no owner</span>}</td>
                  <td>
                    <RiskBadge score={i.riskScore} />
                  </td>
                </tr>
              );
            })}
            {padBottom > 0 && (
              <tr aria-hidden className="vt-spacer">
                <td colSpan={COLUMNS.length} style={{ height: padBottom }} />
              </tr>
            )}
          </tbody>
        </table>
        {rows.length === 0 && <p className="muted empty-row">No identity matches these filters.</p>}
      </div>
    </>
  );
}

interface AllIdentities {
  data: Identity[] | undefined;
  /** How many the server has; more than data.length while the later pages load. */
  total: number;
  error: Error | undefined;
  loading: boolean;
}

/** Every identity: the first page as soon as it arrives (first paint), then all of them. */
function useAllIdentities(): AllIdentities {
  const [state, setState] = useState<AllIdentities>({
    data: undefined,
    total: 0,
    error: undefined,
    loading: true,
  });
  useEffect(() => {
    let live = true;
    apiGetAll<Identity>('identities', { sort: 'name' }, 1000, (items, total) => {
      if (live) setState({ data: items, total, error: undefined, loading: true });
    }).then(
      (items) => {
        if (live) setState({ data: items, total: items.length, error: undefined, loading: false });
      },
      (e: unknown) => {
        if (live)
          setState((s) => ({ ...s, error: e instanceof Error ? e : new Error(String(e)), loading: false }));
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

export function Identities() {
  const state = useAllIdentities();
  return (
    <section aria-labelledby="identities-h">
      <h1 id="identities-h">Identities</h1>
      <Loadable
        state={state}
        empty="No identities yet: import an inventory first."
        isEmpty={(d) => d.length === 0}
      >
        {(all) => <IdentityTable all={all} total={Math.max(state.total, all.length)} />}
      </Loadable>
    </section>
  );
}
