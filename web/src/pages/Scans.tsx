/**
 * Supply chain & scans: the newest npm gate run, secret scan and dataset scan or verification recorded in
 * the event log (GET scans/latest) with their evidence, the npm packages the gate recorded as resources, and
 * the recent scan runs of every kind. Values found by scanners never reach here: the server records counts,
 * rule ids and locations only.
 */
import { Loadable, SeverityBadge } from '../components/ui.js';
import { apiGet } from '../lib/api.js';
import type { Page } from '../lib/api.js';
import { formatAge, formatTime } from '../lib/format.js';
import type { Resource, ScansLatest, ScanSummary } from '../lib/types-ops.js';
import { useApi } from '../lib/use-api.js';

const LEVEL_WORDS = new Set(['critical', 'high', 'medium', 'low', 'info', 'informational', 'none']);

type Scalar = string | number | boolean | null;
function isScalar(v: unknown): v is Scalar {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}
/** A value as short text: nested counts read `credentials (created 1, updated 0)`. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (isScalar(v)) return String(v);
  if (Array.isArray(v)) return v.map(text).join(', ');
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => (x !== null && typeof x === 'object' ? `${k} (${text(x)})` : `${k} ${text(x)}`))
    .join(', ');
}

/** Where an evidence item points: `file:line`, `package@version`, or a path or name it carries. */
export function evidenceLocation(item: Record<string, unknown>): string | null {
  const file = item.file ?? item.path;
  if (typeof file === 'string') return typeof item.line === 'number' ? `${file}:${item.line}` : file;
  const pkg = item.package ?? item.name;
  if (typeof pkg === 'string') return typeof item.version === 'string' ? `${pkg}@${item.version}` : pkg;
  if (typeof item.location === 'string') return item.location;
  return null;
}

const ITEM_KEYS = ['ruleId', 'severity', 'level', 'verdict', 'kind', 'category', 'message', 'score'];

/** A list of evidence items (findings, flagged packages, files): location and the facts that matter. */
function EvidenceList({ name, items }: { name: string; items: Array<Record<string, unknown>> }) {
  return (
    <div className="evidence">
      <h4>
        {name} ({items.length})
      </h4>
      <ul>
        {items.slice(0, 25).map((item, i) => {
          const where = evidenceLocation(item);
          const level = [item.severity, item.level, item.verdict].find(
            (v): v is string => typeof v === 'string' && LEVEL_WORDS.has(v),
          );
          return (
            <li key={i}>
              {level && <SeverityBadge level={level} />} {where && <span className="mono">{where}</span>}{' '}
              {ITEM_KEYS.filter((k) => item[k] !== undefined && item[k] !== level)
                .map((k) => `${k} ${text(item[k])}`)
                .join(' · ')}
            </li>
          );
        })}
      </ul>
      {items.length > 25 && <p className="muted small">and {items.length - 25} more</p>}
    </div>
  );
}

/** A recorded result: counts and verdicts as key/value pairs, nested counts inline, evidence as lists. */
export function ScanResult({ result }: { result: Record<string, unknown> }) {
  const entries = Object.entries(result);
  const scalars = entries.filter(([, v]) => isScalar(v));
  const groups = entries.filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v)) as Array<
    [string, Record<string, unknown>]
  >;
  const lists = entries.filter(([, v]) => Array.isArray(v)) as Array<[string, unknown[]]>;
  return (
    <>
      <dl className="kv">
        {scalars.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>
              {LEVEL_WORDS.has(String(v)) || v === 'ok' || v === 'failed' ? (
                <strong>{text(v)}</strong>
              ) : (
                text(v)
              )}
            </dd>
          </div>
        ))}
        {groups.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>
              {Object.entries(v)
                .map(([kk, vv]) => `${kk}: ${text(vv)}`)
                .join(', ')}
            </dd>
          </div>
        ))}
      </dl>
      {lists.map(([k, v]) =>
        v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x)) ? (
          v.length > 0 && <EvidenceList key={k} name={k} items={v as Array<Record<string, unknown>>} />
        ) : (
          <p key={k}>
            <strong>{k}:</strong> <span className="mono">{v.map(text).join(', ') || '—'}</span>
          </p>
        ),
      )}
    </>
  );
}

function ScanCard({ title, scan, none }: { title: string; scan: ScanSummary | null; none: string }) {
  return (
    <article className="card scan-card" aria-label={title}>
      <h2>{title}</h2>
      {scan === null ? (
        <p className="muted">{none}</p>
      ) : (
        <>
          <p>
            <span className="mono">{scan.kind}</span> of <span className="mono">{scan.target}</span>
          </p>
          <p className="muted small">
            {formatTime(scan.time)} ({formatAge(scan.time)}) by <span className="mono">{scan.actor}</span>
          </p>
          <ScanResult result={scan.result} />
        </>
      )}
    </article>
  );
}

/** A short line for a run in the recent list: the counts it recorded. */
function resultLine(result: Record<string, unknown>): string {
  return Object.entries(result)
    .filter(([, v]) => isScalar(v) && v !== null)
    .slice(0, 6)
    .map(([k, v]) => `${k} ${text(v)}`)
    .join(' · ');
}

export function Scans() {
  const latest = useApi(() => apiGet<ScansLatest>('scans/latest'), []);
  const packages = useApi(() => apiGet<Page<Resource>>('resources', { provider: 'npm', limit: 1000 }), []);

  return (
    <section aria-labelledby="scans-title">
      <h1 id="scans-title">Supply chain &amp; scans</h1>
      <Loadable state={latest}>
        {(l) => (
          <>
            <div className="grid scans-grid">
              <ScanCard
                title="npm gate"
                scan={l.npm}
                none="No npm gate run recorded: run keyward npm scan --record."
              />
              <ScanCard
                title="Secret scan"
                scan={l.secrets}
                none="No secret scan recorded: run keyward scan --record."
              />
              <ScanCard title="Datasets" scan={l.datasets} none="No dataset scan or verification recorded." />
            </div>
            <h2 className="section-title">Recent scans</h2>
            {l.recent.length === 0 ? (
              <p className="muted">No scan runs recorded.</p>
            ) : (
              <div className="table-wrap card">
                <table aria-label="Recent scans">
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Target</th>
                      <th scope="col">By</th>
                      <th scope="col">Result</th>
                    </tr>
                  </thead>
                  <tbody>
                    {l.recent.map((s, i) => (
                      <tr key={`${s.time}-${s.kind}-${i}`}>
                        <td>{formatTime(s.time)}</td>
                        <td className="mono">{s.kind}</td>
                        <td className="mono">{s.target}</td>
                        <td className="mono">{s.actor}</td>
                        <td className="small">{resultLine(s.result)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Loadable>

      <h2 className="section-title">npm packages</h2>
      <Loadable
        state={packages}
        empty="No npm packages recorded: keyward npm scan --record adds them."
        isEmpty={(p) => p.items.length === 0}
      >
        {(p) => {
          const rows = [...p.items].sort(
            (a, b) => Number(b.attributes.score ?? 0) - Number(a.attributes.score ?? 0),
          );
          return (
            <div className="table-wrap card">
              <table aria-label="npm packages">
                <thead>
                  <tr>
                    <th scope="col">Package</th>
                    <th scope="col">Level</th>
                    <th scope="col">Score</th>
                    <th scope="col">Rules</th>
                    <th scope="col">Scanned</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => {
                    const level = typeof r.attributes.level === 'string' ? r.attributes.level : 'none';
                    const rules = Array.isArray(r.attributes.ruleIds) ? r.attributes.ruleIds.map(String) : [];
                    return (
                      <tr key={r.id}>
                        <td className="mono">{r.name.replace(/^npm:/, '')}</td>
                        <td>
                          <SeverityBadge level={level} />
                        </td>
                        <td>{text(r.attributes.score)}</td>
                        <td className="mono small">{rules.join(', ') || '—'}</td>
                        <td>
                          {formatTime(
                            typeof r.attributes.scannedAt === 'string' ? r.attributes.scannedAt : r.updatedAt,
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {p.total > p.items.length && (
                <p className="muted small">
                  Showing {p.items.length} of {p.total} packages.
                </p>
              )}
            </div>
          );
        }}
      </Loadable>
    </section>
  );
}
