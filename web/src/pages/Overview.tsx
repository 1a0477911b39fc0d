/**
 * The overview (GET /api/v1/overview): the posture score, the counts that lead to each page, open findings by
 * OWASP NHI category and severity, identities by risk band, alerts over the last 30 days, the riskiest
 * identities and the credentials due for rotation. Reloads (debounced) on live alerts, approvals and findings.
 */
import { useEffect, useRef } from 'react';
import { Link } from 'react-router';
import { apiGet } from '../lib/api.js';
import { useStream } from '../lib/stream.js';
import { useApi } from '../lib/use-api.js';
import { BarChart, ColumnChart, StackedBars } from '../components/charts.js';
import type { ChartSeries } from '../components/charts.js';
import { Loadable, RiskBadge } from '../components/ui.js';
import { formatTime } from '../lib/format.js';
import type { Overview as OverviewAnswer } from '../lib/types-inventory.js';

export const SEVERITY_SERIES: readonly ChartSeries[] = [
  { key: 'critical', label: 'Critical', tone: 'critical' },
  { key: 'high', label: 'High', tone: 'high' },
  { key: 'medium', label: 'Medium', tone: 'medium' },
  { key: 'low', label: 'Low', tone: 'low' },
  { key: 'info', label: 'Info', tone: 'info' },
];

export const ALERT_SERIES: readonly ChartSeries[] = [
  { key: 'critical', label: 'Critical', tone: 'critical' },
  { key: 'high', label: 'High', tone: 'high' },
  { key: 'medium', label: 'Medium', tone: 'medium' },
  { key: 'low', label: 'Low', tone: 'low' },
  { key: 'informational', label: 'Informational', tone: 'info' },
];

const RISK_BANDS = [
  { key: 'critical', label: 'Critical (80–100)', tone: 'critical' },
  { key: 'high', label: 'High (60–79)', tone: 'high' },
  { key: 'medium', label: 'Medium (40–59)', tone: 'medium' },
  { key: 'low', label: 'Low (1–39)', tone: 'low' },
  { key: 'none', label: 'None (0 or not scored)', tone: 'none' },
] as const;

/** Words and colour for a posture score (100 = no open findings). */
export function postureBand(score: number): { label: string; tone: string } {
  if (score >= 80) return { label: 'good', tone: 'low' };
  if (score >= 60) return { label: 'fair', tone: 'medium' };
  if (score >= 40) return { label: 'poor', tone: 'high' };
  return { label: 'critical', tone: 'critical' };
}

/** `expired 3 d ago`, `expires in 5 d`, `rotation overdue by 40 d`. */
export function dueText(due: OverviewAnswer['credentialsDue'][number]): string {
  const d = `${due.days} ${due.days === 1 ? 'day' : 'days'}`;
  if (due.due === 'expired') return `expired ${d} ago`;
  if (due.due === 'expiring') return `expires in ${d}`;
  return `rotation overdue by ${d}`;
}

/** Calls `fn` once, `ms` after the last of a burst of calls. */
function useDebounced(fn: () => void, ms: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => () => clearTimeout(timer.current), []);
  return () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => fnRef.current(), ms);
  };
}

function Counts({ counts }: { counts: OverviewAnswer['counts'] }) {
  const items = [
    { label: 'Identities', value: counts.identities, to: '/identities' },
    { label: 'Credentials', value: counts.credentials, to: '#credentials-due' },
    { label: 'Open findings', value: counts.openFindings, to: '/findings' },
    { label: 'Open alerts', value: counts.openAlerts, to: '/alerts' },
    { label: 'Pending approvals', value: counts.pendingApprovals, to: '/approvals' },
  ];
  return (
    <ul className="stats overview-counts" aria-label="Counts">
      {items.map((i) => (
        <li key={i.label} className="card stat">
          {i.to.startsWith('#') ? (
            <a href={i.to}>
              <span className="value">{i.value.toLocaleString('en')}</span>{' '}
              <span className="label">{i.label}</span>
            </a>
          ) : (
            <Link to={i.to}>
              <span className="value">{i.value.toLocaleString('en')}</span>{' '}
              <span className="label">{i.label}</span>
            </Link>
          )}
        </li>
      ))}
    </ul>
  );
}

function OverviewBody({ data }: { data: OverviewAnswer }) {
  const band = postureBand(data.postureScore);
  return (
    <>
      <div className="overview-top">
        <section className="card posture" aria-labelledby="posture-h">
          <h2 id="posture-h">Posture score</h2>
          <p className="posture-score">
            <span className={`posture-value sev-${band.tone}`}>{data.postureScore}</span>
            <span className="muted"> / 100</span>
          </p>
          <p>
            <span className={`badge sev-${band.tone}`}>{band.label}</span>{' '}
            <span className="muted">100 means no open findings.</span>
          </p>
        </section>
        <Counts counts={data.counts} />
      </div>

      <div className="grid overview-charts">
        <section className="card" aria-labelledby="owasp-h">
          <h2 id="owasp-h">Open findings by OWASP NHI category</h2>
          <StackedBars
            title="Open findings by OWASP NHI category and severity"
            rowHeader="Category"
            labelWidth={70}
            series={SEVERITY_SERIES}
            rows={data.findingsByOwasp.map((r) => ({
              key: r.owasp,
              label: r.owasp,
              title: `${r.owasp} ${r.title}`,
              href: `/findings?owasp=${r.owasp}`,
              values: { critical: r.critical, high: r.high, medium: r.medium, low: r.low, info: r.info },
            }))}
          />
        </section>
        <section className="card" aria-labelledby="risk-h">
          <h2 id="risk-h">Identities by risk band</h2>
          <BarChart
            title="Identities by risk band"
            labelWidth={160}
            rows={RISK_BANDS.map((b) => ({
              key: b.key,
              label: b.label,
              tone: b.tone,
              value: data.identitiesByRisk[b.key],
            }))}
          />
          <h3 className="subhead">Open findings by severity</h3>
          <BarChart
            title="Open findings by severity"
            rowHeader="Severity"
            labelWidth={160}
            rows={SEVERITY_SERIES.map((s) => ({
              key: s.key,
              label: s.label,
              tone: s.tone,
              value: data.findingsBySeverity[s.key as keyof OverviewAnswer['findingsBySeverity']],
            }))}
          />
        </section>
      </div>

      <section className="card overview-section" aria-labelledby="alerts-h">
        <h2 id="alerts-h">Alerts over the last 30 days</h2>
        <ColumnChart
          title="Alerts per day over the last 30 days by level"
          series={ALERT_SERIES}
          formatLabel={(day) => day.slice(5)}
          columns={data.alertsOverTime.map((d) => ({
            key: d.day,
            label: d.day,
            values: {
              critical: d.critical,
              high: d.high,
              medium: d.medium,
              low: d.low,
              informational: d.informational,
            },
          }))}
        />
      </section>

      <section className="card overview-section" aria-labelledby="riskiest-h">
        <h2 id="riskiest-h">Riskiest identities</h2>
        {data.riskiestIdentities.length === 0 ? (
          <p className="muted">No identities yet.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Identity</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Risk</th>
                  <th scope="col" className="num">
                    Open findings
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.riskiestIdentities.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <Link to={`/identities/${encodeURIComponent(i.id)}`}>{i.name}</Link>
                      <div className="muted small">{i.provider}</div>
                    </td>
                    <td>{i.kind}</td>
                    <td>{i.environment ?? '—'}</td>
                    <td>{i.owner ?? <span className="muted">no owner</span>}</td>
                    <td>
                      <RiskBadge score={i.riskScore} />
                    </td>
                    <td className="num">{i.openFindings}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card overview-section" id="credentials-due" aria-labelledby="due-h">
        <h2 id="due-h">Credentials expiring or overdue for rotation</h2>
        {data.credentialsDue.length === 0 ? (
          <p className="muted">No credential is expired, expiring within 14 days, or overdue for rotation.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Identity</th>
                  <th scope="col">Credential</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last rotated</th>
                </tr>
              </thead>
              <tbody>
                {data.credentialsDue.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <span
                        className={`badge ${c.due === 'expired' ? 'sev-critical' : c.due === 'expiring' ? 'sev-high' : 'sev-medium'}`}
                      >
                        {dueText(c)}
                      </span>
                    </td>
                    <td>
                      <Link to={`/identities/${encodeURIComponent(c.identityId)}`}>{c.identityName}</Link>
                    </td>
                    <td>
                      {c.type} <code>{c.preview}</code>
                    </td>
                    <td>{formatTime(c.expiresAt)}</td>
                    <td>{formatTime(c.lastRotatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export function Overview() {
  const state = useApi(() => apiGet<OverviewAnswer>('overview'), []);
  const reloadSoon = useDebounced(state.reload, 1000);
  useStream(['alert', 'approval', 'finding'], reloadSoon);
  return (
    <section aria-labelledby="overview-h">
      <h1 id="overview-h">Overview</h1>
      <Loadable state={state}>{(data) => <OverviewBody data={data} />}</Loadable>
    </section>
  );
}
