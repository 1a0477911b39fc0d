/**
 * One alert: its rule, level, tags, group key, window, event count and summary; the contributing events the
 * event log holds (and the ids it does not, e.g. events that came from imported files); and acknowledgement
 * with an optional note.
 */
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Check } from 'lucide-react';
import { ReasonDialog } from '../components/ReasonDialog.js';
import { EventTable } from '../components/EventData.js';
import { Loadable, SeverityBadge } from '../components/ui.js';
import { apiGet, apiPost } from '../lib/api.js';
import { formatTime } from '../lib/format.js';
import type { Alert, AlertDetail as AlertDetailData } from '../lib/types-ops.js';
import { useApi } from '../lib/use-api.js';

export function AlertDetail() {
  const { id = '' } = useParams();
  const alert = useApi(() => apiGet<AlertDetailData>(`detect/alerts/${encodeURIComponent(id)}`), [id]);
  const [acking, setAcking] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const resultRef = useRef<HTMLParagraphElement>(null);
  /** Set after acknowledging: the button goes away, so focus moves to the result line. */
  const focusResult = useRef(false);
  useEffect(() => {
    if (!focusResult.current) return;
    focusResult.current = false;
    resultRef.current?.focus();
  }, [alert.data]);

  async function acknowledge(note: string) {
    await apiPost<Alert>(`detect/alerts/${encodeURIComponent(id)}/ack`, note ? { note } : {});
    setResult('Alert acknowledged.');
    focusResult.current = true;
    alert.reload();
  }

  return (
    <section aria-labelledby="alert-title">
      <p>
        <Link to="/alerts">← Alerts</Link>
      </p>
      <Loadable state={alert}>
        {(a) => {
          const events = a.events ?? [];
          const found = new Set(events.map((e) => e.id));
          const missing = a.eventIds.filter((e) => !found.has(e));
          return (
            <>
              <div className="finding-head">
                <SeverityBadge level={a.level} />
                <h1 id="alert-title">{a.ruleTitle}</h1>
              </div>
              <p role="status" className="ops-result" ref={resultRef} tabIndex={-1}>
                {result}
              </p>
              <div className="card">
                <dl className="kv">
                  <div>
                    <dt>Rule</dt>
                    <dd className="mono">{a.ruleId}</dd>
                  </div>
                  <div>
                    <dt>Level</dt>
                    <dd>{a.level}</dd>
                  </div>
                  <div>
                    <dt>Tags</dt>
                    <dd>
                      {a.tags.length === 0
                        ? '—'
                        : a.tags.map((t) => (
                            <span key={t} className="badge tag">
                              {t}
                            </span>
                          ))}
                    </dd>
                  </div>
                  <div>
                    <dt>Group key</dt>
                    <dd className="mono">
                      {a.groupKey
                        ? Object.entries(a.groupKey)
                            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
                            .join(', ')
                        : '—'}
                    </dd>
                  </div>
                  <div>
                    <dt>Window</dt>
                    <dd>
                      {formatTime(a.windowStart)} – {formatTime(a.windowEnd)}
                    </dd>
                  </div>
                  <div>
                    <dt>Events</dt>
                    <dd>{a.eventCount}</dd>
                  </div>
                  <div>
                    <dt>Status</dt>
                    <dd>
                      {a.acknowledgedAt
                        ? `acknowledged by ${a.acknowledgedBy ?? 'unknown'} on ${formatTime(a.acknowledgedAt)}${
                            a.ackNote ? `: ${a.ackNote}` : ''
                          }`
                        : 'not acknowledged'}
                    </dd>
                  </div>
                </dl>
                <p>{a.summary}</p>
                {!a.acknowledgedAt && (
                  <button type="button" className="button" onClick={() => setAcking(true)}>
                    <Check aria-hidden size={16} /> Acknowledge
                  </button>
                )}
              </div>

              <h2 className="section-title">Contributing events</h2>
              {events.length === 0 ? (
                <p className="muted">None of the contributing events is in the event log.</p>
              ) : (
                <EventTable events={events} />
              )}
              {missing.length > 0 && (
                <div className="card">
                  <h3>Not in the event log ({missing.length})</h3>
                  <p className="muted">
                    These events were evaluated (for example from an imported file) but are not stored here.
                  </p>
                  <ul className="mono small">
                    {missing.map((m) => (
                      <li key={m}>{m}</li>
                    ))}
                  </ul>
                </div>
              )}
              {a.eventCount > a.eventIds.length && (
                <p className="muted">
                  The alert keeps the ids of {a.eventIds.length} of its {a.eventCount} events.
                </p>
              )}
              {acking && (
                <ReasonDialog
                  title="Acknowledge alert"
                  description={<p>{a.summary}</p>}
                  label="Note (optional)"
                  actionLabel="Acknowledge"
                  required={false}
                  onConfirm={acknowledge}
                  onClose={() => setAcking(false)}
                />
              )}
            </>
          );
        }}
      </Loadable>
    </section>
  );
}
