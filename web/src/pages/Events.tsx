/**
 * The event log, newest first, a page at a time, with a type filter applied in the browser, and a check of
 * the whole hash chain (GET audit/verify).
 */
import { useState } from 'react';
import { ShieldCheck } from 'lucide-react';
import { EventTable } from '../components/EventData.js';
import { Loadable } from '../components/ui.js';
import { apiGet } from '../lib/api.js';
import type { AuditVerification, EventPage, EventRecord } from '../lib/types-ops.js';
import { useApi } from '../lib/use-api.js';

export const EVENT_PAGE_SIZE = 100;

interface Loaded {
  items: EventRecord[];
  /** Records in the log when the first page was read: later pages count back from it. */
  newest: number;
  page: number;
}

/**
 * Page `page` (0 = newest) of the log, newest first. Older pages count back from the newest sequence number
 * seen on the first page (sequence numbers have no gaps): `before` that number minus the pages shown, so
 * records arriving while paging do not shift the pages.
 */
async function loadPage(page: number, newest: number | null): Promise<Loaded> {
  if (page === 0 || newest === null) {
    const first = await apiGet<EventPage>('events', { order: 'desc', limit: EVENT_PAGE_SIZE });
    return { items: first.items, newest: first.items[0]?.seq ?? 0, page: 0 };
  }
  const before = newest - page * EVENT_PAGE_SIZE + 1;
  const res = await apiGet<EventPage>('events', { order: 'desc', before, limit: EVENT_PAGE_SIZE });
  return { items: res.items, newest, page };
}

export function Events() {
  const [page, setPage] = useState(0);
  const [newest, setNewest] = useState<number | null>(null);
  const [type, setType] = useState('');
  const events = useApi(async () => {
    const loaded = await loadPage(page, newest);
    if (loaded.page === 0) setNewest(loaded.newest);
    return loaded;
  }, [page]);
  const [verifying, setVerifying] = useState(false);
  const [verification, setVerification] = useState<AuditVerification | { error: string } | null>(null);

  async function verify() {
    setVerifying(true);
    setVerification(null);
    try {
      setVerification(await apiGet<AuditVerification>('audit/verify'));
    } catch (e) {
      setVerification({ error: e instanceof Error ? e.message : String(e) });
    } finally {
      setVerifying(false);
    }
  }

  const lastPage = newest === null ? 0 : Math.max(0, Math.ceil(newest / EVENT_PAGE_SIZE) - 1);
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Event log</h1>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="event-type">Type contains</label>
          <input
            id="event-type"
            value={type}
            placeholder="finding., broker.token"
            onChange={(e) => setType(e.target.value)}
          />
        </div>
        <button type="button" className="button" onClick={() => void verify()} disabled={verifying}>
          <ShieldCheck aria-hidden size={16} /> {verifying ? 'Verifying…' : 'Verify chain'}
        </button>
      </div>
      <div role="status" aria-live="polite">
        {verification &&
          ('error' in verification ? (
            <p className="error">Verification failed to run: {verification.error}</p>
          ) : verification.ok ? (
            <p className="verify-ok">
              Chain intact: {verification.checked} records checked, last #{verification.lastSeq}, hash{' '}
              <span className="mono">{verification.lastHash.slice(0, 16)}…</span>
            </p>
          ) : (
            <p className="error">
              Chain broken at #{verification.problem.seq} ({verification.problem.kind}):{' '}
              {verification.problem.message}. {verification.checked} records before it are intact.
            </p>
          ))}
      </div>

      <Loadable state={events} empty="The event log is empty." isEmpty={(l) => l.items.length === 0}>
        {(l) => {
          const needle = type.trim().toLowerCase();
          const rows = needle ? l.items.filter((e) => e.type.toLowerCase().includes(needle)) : l.items;
          return (
            <>
              <EventTable events={rows} label="Events, newest first">
                {rows.length === 0 && (
                  <p className="muted">No event on this page has a type containing “{type}”.</p>
                )}
              </EventTable>
              <div className="pager">
                <button
                  className="button secondary"
                  disabled={page === 0}
                  onClick={() => setPage((p) => p - 1)}
                >
                  Newer
                </button>
                <span className="muted">
                  Page {page + 1} of {lastPage + 1} · {newest ?? 0} events
                </span>
                <button
                  className="button secondary"
                  disabled={page >= lastPage}
                  onClick={() => setPage((p) => p + 1)}
                >
                  Older
                </button>
              </div>
            </>
          );
        }}
      </Loadable>
    </section>
  );
}
