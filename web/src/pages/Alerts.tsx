/**
 * Alerts: detection alerts, newest first, filtered by level, acknowledgement and rule (kept in the URL
 * query), a page at a time. New alerts arrive over the live stream, appear at the top of the first page and
 * are announced to screen readers.
 */
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Loadable, SeverityBadge } from '../components/ui.js';
import { apiGet } from '../lib/api.js';
import type { Page } from '../lib/api.js';
import { formatAge, formatTime } from '../lib/format.js';
import { useStream } from '../lib/stream.js';
import { ALERT_LEVELS } from '../lib/types-ops.js';
import type { Alert, AlertLevel } from '../lib/types-ops.js';
import { useApi } from '../lib/use-api.js';

export const ALERT_PAGE_SIZE = 50;

function isLevel(v: string | null): v is AlertLevel {
  return (ALERT_LEVELS as readonly string[]).includes(v ?? '');
}

/** True when a live alert passes the page's filters. */
function matches(a: Alert, level: string | null, acknowledged: string | null, rule: string): boolean {
  if (level && a.level !== level) return false;
  if (acknowledged === 'true' && !a.acknowledgedAt) return false;
  if (acknowledged === 'false' && a.acknowledgedAt) return false;
  if (rule && a.ruleId !== rule) return false;
  return true;
}

function isAlert(v: unknown): v is Alert {
  const a = v as Partial<Alert> | null;
  return !!a && typeof a.id === 'string' && typeof a.ruleTitle === 'string' && typeof a.level === 'string';
}

export function Alerts() {
  const [params, setParams] = useSearchParams();
  const level = isLevel(params.get('level')) ? params.get('level') : null;
  const ackParam = params.get('acknowledged');
  const acknowledged = ackParam === 'true' || ackParam === 'false' ? ackParam : null;
  const rule = params.get('rule') ?? '';
  const page = Math.max(0, Number.parseInt(params.get('page') ?? '0', 10) || 0);
  const [ruleDraft, setRuleDraft] = useState(rule);
  const [live, setLive] = useState<Alert[]>([]);
  const [announcement, setAnnouncement] = useState('');

  const alerts = useApi(
    () =>
      apiGet<Page<Alert>>('detect/alerts', {
        level,
        acknowledged,
        ruleId: rule || undefined,
        limit: ALERT_PAGE_SIZE,
        offset: page * ALERT_PAGE_SIZE,
      }),
    [level, acknowledged, rule, page],
  );
  useEffect(() => setLive([]), [alerts.data]);
  useEffect(() => setRuleDraft(rule), [rule]);

  useStream(['alert'], (msg) => {
    if (!isAlert(msg.data)) return;
    const a = msg.data;
    if (!matches(a, level, acknowledged, rule)) return;
    setLive((prev) => [a, ...prev.filter((p) => p.id !== a.id)]);
    setAnnouncement(`New ${a.level} alert: ${a.ruleTitle}`);
  });

  function setFilter(updates: Record<string, string | null>) {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(updates)) {
      if (v === null || v === '') next.delete(k);
      else next.set(k, v);
    }
    if (!('page' in updates)) next.delete('page');
    setParams(next);
  }

  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <div className="toolbar" role="search" aria-label="Filter alerts">
        <div className="field">
          <label htmlFor="alert-level">Level</label>
          <select id="alert-level" value={level ?? ''} onChange={(e) => setFilter({ level: e.target.value })}>
            <option value="">any</option>
            {ALERT_LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-ack">Acknowledged</label>
          <select
            id="alert-ack"
            value={acknowledged ?? ''}
            onChange={(e) => setFilter({ acknowledged: e.target.value })}
          >
            <option value="">all</option>
            <option value="false">not acknowledged</option>
            <option value="true">acknowledged</option>
          </select>
        </div>
        <form
          className="field"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter({ rule: ruleDraft.trim() });
          }}
        >
          <label htmlFor="alert-rule">Rule id</label>
          <span className="inline">
            <input
              id="alert-rule"
              value={ruleDraft}
              placeholder="keyward-…"
              onChange={(e) => setRuleDraft(e.target.value)}
            />
            <button className="button secondary" type="submit">
              Filter
            </button>
          </span>
        </form>
      </div>

      <p className="visually-hidden" aria-live="polite" role="status">
        {announcement}
      </p>

      <Loadable state={alerts}>
        {(data) => {
          const seen = new Set(data.items.map((a) => a.id));
          const fresh = page === 0 ? live.filter((a) => !seen.has(a.id)) : [];
          const rows = [...fresh, ...data.items];
          const total = data.total + fresh.length;
          if (rows.length === 0) return <p className="muted">No alerts match these filters.</p>;
          const last = Math.max(0, Math.ceil(data.total / ALERT_PAGE_SIZE) - 1);
          return (
            <>
              <div className="table-wrap card">
                <table>
                  <caption className="visually-hidden">Alerts, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Level</th>
                      <th scope="col">Alert</th>
                      <th scope="col">Summary</th>
                      <th scope="col">Window end</th>
                      <th scope="col">Events</th>
                      <th scope="col">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((a) => (
                      <tr key={a.id} className={fresh.includes(a) ? 'row-new' : undefined}>
                        <td>
                          <SeverityBadge level={a.level} />
                        </td>
                        <td>
                          <Link to={`/alerts/${encodeURIComponent(a.id)}`}>{a.ruleTitle}</Link>
                          <div className="muted mono small">{a.ruleId}</div>
                        </td>
                        <td>{a.summary}</td>
                        <td title={formatTime(a.windowEnd)}>{formatAge(a.windowEnd)}</td>
                        <td>{a.eventCount}</td>
                        <td>{a.acknowledgedAt ? 'acknowledged' : <strong>open</strong>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <div className="pager">
                <button
                  className="button secondary"
                  disabled={page === 0}
                  onClick={() => setFilter({ page: page - 1 === 0 ? null : String(page - 1) })}
                >
                  Newer
                </button>
                <span className="muted">
                  Page {page + 1} of {last + 1} · {total} alert{total === 1 ? '' : 's'}
                </span>
                <button
                  className="button secondary"
                  disabled={page >= last}
                  onClick={() => setFilter({ page: String(page + 1) })}
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
