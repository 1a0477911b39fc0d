/**
 * Findings: posture findings by status (open, accepted, resolved), filtered by OWASP NHI category and
 * severity (kept in the URL query), with counts per category. Each finding can be accepted or resolved (or
 * reopened) with a reason, which the event log records.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { CheckCircle2, RotateCcw, ShieldCheck } from 'lucide-react';
import { ReasonDialog } from '../components/ReasonDialog.js';
import { Loadable, SeverityBadge } from '../components/ui.js';
import { apiGetAll, apiPost } from '../lib/api.js';
import { formatAge, formatTime, SEVERITIES } from '../lib/format.js';
import { useStream } from '../lib/stream.js';
import { FINDING_STATUSES, OWASP_IDS, OWASP_TITLES } from '../lib/types-ops.js';
import type { Finding, FindingStatus, OwaspId } from '../lib/types-ops.js';
import { useApi } from '../lib/use-api.js';

const PAGE = 50;

/** The status change a button asks for, with the words the dialog and the result use. */
const ACTIONS: Record<FindingStatus, { verb: string; done: string; help: string }> = {
  accepted: {
    verb: 'Accept',
    done: 'accepted',
    help: 'The risk is known and accepted: the finding leaves the open list and stays accepted on later posture runs.',
  },
  resolved: {
    verb: 'Resolve',
    done: 'resolved',
    help: 'The problem was fixed: if the next posture run still reports it, the finding opens again.',
  },
  open: { verb: 'Reopen', done: 'reopened', help: 'The finding goes back to the open list.' },
};

function isStatus(v: string | null): v is FindingStatus {
  return (FINDING_STATUSES as readonly string[]).includes(v ?? '');
}
function isOwasp(v: string | null): v is OwaspId {
  return (OWASP_IDS as readonly string[]).includes(v ?? '');
}
function isSeverity(v: string | null): v is (typeof SEVERITIES)[number] {
  return (SEVERITIES as readonly string[]).includes(v ?? '');
}

/** An evidence value as one line of text (the API has already redacted secret values). */
function evidenceText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) return v.join(', ');
  return JSON.stringify(v);
}

export function Findings() {
  const [params, setParams] = useSearchParams();
  const status: FindingStatus = isStatus(params.get('status'))
    ? (params.get('status') as FindingStatus)
    : 'open';
  const owasp = isOwasp(params.get('owasp')) ? params.get('owasp') : null;
  const severity = isSeverity(params.get('severity')) ? params.get('severity') : null;
  const [shown, setShown] = useState(PAGE);
  const [pending, setPending] = useState<{ finding: Finding; to: FindingStatus } | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const resultRef = useRef<HTMLParagraphElement>(null);
  /** Set after a change: the changed finding may leave the list, so focus goes to the result line. */
  const focusResult = useRef(false);

  const findings = useApi(
    () => apiGetAll<Finding>('findings', { status, minSeverity: severity }),
    [status, severity],
  );
  useStream(['finding'], () => findings.reload());
  useEffect(() => {
    if (!focusResult.current) return;
    focusResult.current = false;
    resultRef.current?.focus();
  }, [findings.data]);

  const counts = useMemo(() => {
    const c = new Map<string, number>();
    for (const f of findings.data ?? []) c.set(f.owasp, (c.get(f.owasp) ?? 0) + 1);
    return c;
  }, [findings.data]);
  const visible = useMemo(
    () => (findings.data ?? []).filter((f) => f.status === status && (owasp === null || f.owasp === owasp)),
    [findings.data, owasp, status],
  );

  function setFilter(key: string, value: string | null) {
    const next = new URLSearchParams(params);
    if (value === null || value === '') next.delete(key);
    else next.set(key, value);
    setParams(next);
    setShown(PAGE);
  }

  async function changeStatus(finding: Finding, to: FindingStatus, reason: string) {
    await apiPost<Finding>(`findings/${encodeURIComponent(finding.id)}/status`, { status: to, reason });
    setResult(`Finding “${finding.title}” ${ACTIONS[to].done}.`);
    focusResult.current = true;
    findings.reload();
  }

  return (
    <section aria-labelledby="findings-title">
      <h1 id="findings-title">Findings</h1>
      <div className="toolbar" role="search" aria-label="Filter findings">
        <div className="field">
          <label htmlFor="finding-status">Status</label>
          <select id="finding-status" value={status} onChange={(e) => setFilter('status', e.target.value)}>
            {FINDING_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="finding-severity">Severity at least</label>
          <select
            id="finding-severity"
            value={severity ?? ''}
            onChange={(e) => setFilter('severity', e.target.value)}
          >
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="finding-owasp">OWASP NHI</label>
          <select id="finding-owasp" value={owasp ?? ''} onChange={(e) => setFilter('owasp', e.target.value)}>
            <option value="">all categories</option>
            {OWASP_IDS.map((o) => (
              <option key={o} value={o}>
                {o} {OWASP_TITLES[o]}
              </option>
            ))}
          </select>
        </div>
      </div>

      <p role="status" className="ops-result" ref={resultRef} tabIndex={-1}>
        {result}
      </p>

      <Loadable state={findings}>
        {(all) => (
          <>
            <nav className="card owasp-counts" aria-label="Findings by OWASP NHI category">
              <h2>
                By OWASP NHI category ({all.length} {status})
              </h2>
              <ul>
                {OWASP_IDS.map((o) => (
                  <li key={o}>
                    <button
                      type="button"
                      className={`owasp-chip${owasp === o ? ' selected' : ''}`}
                      aria-pressed={owasp === o}
                      onClick={() => setFilter('owasp', owasp === o ? null : o)}
                      title={OWASP_TITLES[o]}
                    >
                      <span className="mono">{o}</span> {OWASP_TITLES[o]}{' '}
                      <span className="count">{counts.get(o) ?? 0}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </nav>
            {visible.length === 0 ? (
              <p className="muted">No {status} findings match these filters.</p>
            ) : (
              <>
                <p className="muted">
                  {visible.length} {status} finding{visible.length === 1 ? '' : 's'}
                  {owasp ? ` in ${owasp}` : ''}
                </p>
                <ul className="finding-list">
                  {visible.slice(0, shown).map((f) => (
                    <FindingItem key={f.id} finding={f} onAction={(to) => setPending({ finding: f, to })} />
                  ))}
                </ul>
                {visible.length > shown && (
                  <button
                    type="button"
                    className="button secondary"
                    onClick={() => setShown((n) => n + PAGE)}
                  >
                    Show {Math.min(PAGE, visible.length - shown)} more
                  </button>
                )}
              </>
            )}
          </>
        )}
      </Loadable>

      {pending && (
        <ReasonDialog
          title={`${ACTIONS[pending.to].verb} finding`}
          description={
            <>
              <p>
                <strong>{pending.finding.title}</strong>
              </p>
              <p>{ACTIONS[pending.to].help}</p>
            </>
          }
          label="Reason"
          actionLabel={ACTIONS[pending.to].verb}
          required
          onConfirm={(reason) => changeStatus(pending.finding, pending.to, reason)}
          onClose={() => setPending(null)}
        />
      )}
    </section>
  );
}

function FindingItem({ finding: f, onAction }: { finding: Finding; onAction: (to: FindingStatus) => void }) {
  const evidence = Object.entries(f.evidence ?? {});
  return (
    <li className="card finding" aria-labelledby={`f-${f.id}`}>
      <div className="finding-head">
        <SeverityBadge level={f.severity} />
        <span className="badge sev-none" title={OWASP_TITLES[f.owasp]}>
          {f.owasp}
        </span>
        <h2 id={`f-${f.id}`}>{f.title}</h2>
      </div>
      <p>
        Identity:{' '}
        <Link to={`/identities/${encodeURIComponent(f.identityId)}`}>
          {typeof f.evidence?.identity === 'string' ? f.evidence.identity : f.identityId}
        </Link>
        {f.credentialId && (
          <>
            {' '}
            · credential <span className="mono">{f.credentialId}</span>
          </>
        )}{' '}
        · rule <span className="mono">{f.ruleId}</span>
      </p>
      <p>{f.message}</p>
      <p>
        <strong>Remediation:</strong> {f.remediation}
      </p>
      {evidence.length > 0 && (
        <dl className="kv" aria-label="Evidence">
          {evidence.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd className="mono">{evidenceText(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      <p className="muted">
        First seen {formatTime(f.firstSeenAt)} · last seen {formatTime(f.lastSeenAt)} (
        {formatAge(f.lastSeenAt)})
      </p>
      {f.status !== 'open' && (
        <p className="finding-status">
          <strong>{f.status === 'accepted' ? 'Accepted' : 'Resolved'}</strong>
          {f.statusBy ? ` by ${f.statusBy}` : ''}
          {f.statusAt ? ` on ${formatTime(f.statusAt)}` : ''}
          {f.statusReason ? `: ${f.statusReason}` : ''}
        </p>
      )}
      <div className="actions">
        {f.status === 'open' ? (
          <>
            <button type="button" className="button secondary" onClick={() => onAction('accepted')}>
              <ShieldCheck aria-hidden size={16} /> Accept<span className="visually-hidden"> {f.title}</span>
            </button>
            <button type="button" className="button secondary" onClick={() => onAction('resolved')}>
              <CheckCircle2 aria-hidden size={16} /> Resolve
              <span className="visually-hidden"> {f.title}</span>
            </button>
          </>
        ) : (
          <button type="button" className="button secondary" onClick={() => onAction('open')}>
            <RotateCcw aria-hidden size={16} /> Reopen<span className="visually-hidden"> {f.title}</span>
          </button>
        )}
      </div>
    </li>
  );
}
