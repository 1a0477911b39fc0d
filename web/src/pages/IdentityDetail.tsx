/**
 * One identity: its facts and risk breakdown (GET /identities/{id}), its blast-radius graph
 * (GET /identities/{id}/graph), credentials, findings, broker tokens and scopes granted vs used
 * (GET /identities/{id}/tokens), and a timeline of its events (GET /events?subject=…&order=desc).
 * An unknown id or name gets a clear "not found" page.
 */
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { ArrowLeft } from 'lucide-react';
import { ApiError, apiGet } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatAge, formatTime } from '../lib/format.js';
import { Loadable, RiskBadge, SeverityBadge } from '../components/ui.js';
import { BlastRadiusGraph } from '../components/BlastRadiusGraph.js';
import type {
  EventPage,
  EventRecord,
  Finding,
  IdentityDetail as Detail,
  IdentityGraph,
  IdentityTokens,
} from '../lib/types-inventory.js';

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** Findings most severe first, then newest first. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      b.lastSeenAt.localeCompare(a.lastSeenAt),
  );
}

/** Granted scopes no issued token used: the candidates for right-sizing, in the order granted. */
export function unusedScopes(tokens: IdentityTokens): string[] {
  const used = new Set(tokens.scopesUsed);
  return tokens.scopesGranted.filter((s) => !used.has(s));
}

/** `key: value` pairs of an event's plain data (strings, numbers, booleans), at most `max`. */
export function summarizeData(data: Record<string, unknown>, max = 4): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (parts.length >= max) break;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      parts.push(`${k}: ${String(v).length > 80 ? `${String(v).slice(0, 79)}…` : String(v)}`);
    else if (Array.isArray(v)) parts.push(`${k}: ${v.length} ${v.length === 1 ? 'item' : 'items'}`);
  }
  return parts.join(' · ');
}

function Section({ id, title, children }: { id: string; title: ReactNode; children: ReactNode }) {
  return (
    <section className="card detail-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function Header({ detail }: { detail: Detail }) {
  const i = detail.identity;
  return (
    <>
      <h1 className="break">{i.name}</h1>
      <div className="grid detail-head">
        <section className="card" aria-labelledby="facts-h">
          <h2 id="facts-h">Identity</h2>
          <dl className="facts">
            <dt>Kind</dt>
            <dd>{i.kind}</dd>
            <dt>Provider</dt>
            <dd>{i.provider}</dd>
            <dt>External id</dt>
            <dd className="break">
              <code>{i.externalId}</code>
            </dd>
            <dt>Environment</dt>
            <dd>{i.environment ?? '—'}</dd>
            <dt>Owner</dt>
            <dd>{i.owner ?? <span className="sev-high">no owner</span>}</dd>
            {i.sponsor && (
              <>
                <dt>Sponsor</dt>
                <dd>{i.sponsor}</dd>
              </>
            )}
            <dt>Last seen</dt>
            <dd>{i.lastSeenAt ? `${formatTime(i.lastSeenAt)} (${formatAge(i.lastSeenAt)})` : 'never'}</dd>
            {i.tags.length > 0 && (
              <>
                <dt>Tags</dt>
                <dd>{i.tags.join(', ')}</dd>
              </>
            )}
          </dl>
          {i.description && <p>{i.description}</p>}
        </section>
        <section className="card" aria-labelledby="risk-h">
          <h2 id="risk-h">
            Risk <RiskBadge score={i.riskScore ?? detail.risk.score} />
          </h2>
          {detail.risk.factors.length === 0 ? (
            <p className="muted">No open findings add to this identity's risk.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Risk factors</caption>
                <thead>
                  <tr>
                    <th scope="col">Factor</th>
                    <th scope="col" className="num">
                      Points
                    </th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.risk.factors.map((f, n) => (
                    <tr key={`${f.name}-${n}`}>
                      <td>{f.name}</td>
                      <td className="num">{Math.round(f.points * 10) / 10}</td>
                      <td className="wrap-anywhere">{f.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </>
  );
}

function Credentials({ detail }: { detail: Detail }) {
  if (detail.credentials.length === 0) return <p className="muted">No credentials recorded.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Credential</th>
            <th scope="col">Preview</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            <th scope="col">Last rotated</th>
            <th scope="col">Last used</th>
          </tr>
        </thead>
        <tbody>
          {detail.credentials.map((c) => (
            <tr key={c.id}>
              <td>
                {c.name ?? c.type}
                <div className="muted small">
                  {c.type} · {c.provider}
                </div>
              </td>
              <td>
                <code>{c.preview}</code>
              </td>
              <td>{c.status}</td>
              <td>{formatTime(c.expiresAt)}</td>
              <td>{formatTime(c.lastRotatedAt)}</td>
              <td>{formatTime(c.lastUsedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Findings({ findings }: { findings: Finding[] }) {
  if (findings.length === 0) return <p className="muted">No findings for this identity.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">OWASP</th>
            <th scope="col">Finding</th>
            <th scope="col">Status</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {sortFindings(findings).map((f) => (
            <tr key={f.id}>
              <td>
                <SeverityBadge level={f.severity} />
              </td>
              <td>
                <Link to={`/findings?owasp=${f.owasp}`}>{f.owasp}</Link>
              </td>
              <td>
                <strong>{f.title}</strong>
                <div>{f.message}</div>
                <div className="muted small">Fix: {f.remediation}</div>
              </td>
              <td>
                {f.status ?? 'open'}
                {f.statusReason && <div className="muted small">{f.statusReason}</div>}
              </td>
              <td>{formatTime(f.lastSeenAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Tokens({ tokens }: { tokens: IdentityTokens }) {
  const unused = new Set(unusedScopes(tokens));
  const used = new Set(tokens.scopesUsed);
  const usedNotGranted = tokens.scopesUsed.filter((s) => !tokens.scopesGranted.includes(s));
  if (tokens.agentIds.length === 0 && tokens.tokensIssued === 0 && tokens.scopesGranted.length === 0)
    return <p className="muted">No broker agent is linked to this identity, so it has no brokered tokens.</p>;
  return (
    <>
      <ul className="stats" aria-label="Token counts">
        <li className="card stat">
          <span className="value">{tokens.tokensIssued}</span>{' '}
          <span className="label">tokens in 30 days</span>
        </li>
        <li className="card stat">
          <span className="value">{tokens.agentIds.length}</span>{' '}
          <span className="label">{tokens.agentIds.length === 1 ? 'broker agent' : 'broker agents'}</span>
        </li>
        <li className="card stat">
          <span className="value">{unused.size}</span>{' '}
          <span className="label">unused {unused.size === 1 ? 'scope' : 'scopes'}</span>
        </li>
      </ul>
      <h3>Scopes granted vs used</h3>
      {tokens.scopesGranted.length === 0 ? (
        <p className="muted">No scopes granted.</p>
      ) : (
        <ul className="scope-list">
          {tokens.scopesGranted.map((s) => (
            <li key={s} className={used.has(s) ? 'scope used' : 'scope unused'}>
              <code>{s}</code>{' '}
              {used.has(s) ? (
                <span className="badge sev-low">used</span>
              ) : (
                <span className="badge sev-medium">unused: right-sizing candidate</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {usedNotGranted.length > 0 && (
        <p>
          Used but no longer granted:{' '}
          {usedNotGranted.map((s, n) => (
            <span key={s}>
              {n > 0 && ', '}
              <code>{s}</code>
            </span>
          ))}
        </p>
      )}
      <h3>Recent tokens</h3>
      {tokens.recent.length === 0 ? (
        <p className="muted">No tokens issued recently.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Issued</th>
                <th scope="col">Scope</th>
                <th scope="col">Audience</th>
                <th scope="col">Expires</th>
                <th scope="col">Token id</th>
              </tr>
            </thead>
            <tbody>
              {tokens.recent.map((t) => (
                <tr key={t.jti}>
                  <td>{formatTime(t.time)}</td>
                  <td>
                    <code>{t.scope}</code>
                  </td>
                  <td className="break">{t.audience}</td>
                  <td>{formatTime(t.expiresAt)}</td>
                  <td>
                    <code>{t.jti}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Timeline({ events }: { events: EventRecord[] }) {
  if (events.length === 0) return <p className="muted">No events about this identity.</p>;
  return (
    <ol className="timeline">
      {events.map((e) => (
        <li key={e.seq}>
          <time dateTime={e.time}>{formatTime(e.time)}</time>{' '}
          <strong>
            <code>{e.type}</code>
          </strong>{' '}
          <span className="muted">by {e.actor}</span>
          {summarizeData(e.data) && <div className="small break">{summarizeData(e.data)}</div>}
        </li>
      ))}
    </ol>
  );
}

function DetailBody({ detail }: { detail: Detail }) {
  const id = detail.identity.id;
  const path = `identities/${encodeURIComponent(id)}`;
  const graph = useApi(() => apiGet<IdentityGraph>(`${path}/graph`), [path]);
  const tokens = useApi(() => apiGet<IdentityTokens>(`${path}/tokens`), [path]);
  const events = useApi(() => apiGet<EventPage>('events', { subject: id, order: 'desc', limit: 100 }), [id]);
  return (
    <>
      <Header detail={detail} />
      <Section id="graph-h" title="Blast radius">
        <Loadable state={graph}>{(g) => <BlastRadiusGraph graph={g} />}</Loadable>
      </Section>
      <Section id="creds-h" title={`Credentials (${detail.credentials.length})`}>
        <Credentials detail={detail} />
      </Section>
      <Section id="findings-h" title={`Findings (${detail.findings.length})`}>
        <Findings findings={detail.findings} />
      </Section>
      <Section id="tokens-h" title="Tokens and scopes">
        <Loadable state={tokens}>{(t) => <Tokens tokens={t} />}</Loadable>
      </Section>
      <Section id="events-h" title="Activity">
        <Loadable state={events}>
          {(page) => (
            <>
              <Timeline events={page.items} />
              {page.items.length >= 100 && (
                <p className="muted small">
                  The newest 100 events; the <Link to="/events">event log</Link> has them all.
                </p>
              )}
            </>
          )}
        </Loadable>
      </Section>
    </>
  );
}

export function IdentityDetail() {
  const { id = '' } = useParams();
  const detail = useApi(() => apiGet<Detail>(`identities/${encodeURIComponent(id)}`), [id]);
  const notFound = detail.error instanceof ApiError && detail.error.status === 404;
  return (
    <article className="identity-detail">
      <p>
        <Link to="/identities" className="back-link">
          <ArrowLeft aria-hidden size={16} /> All identities
        </Link>
      </p>
      {notFound ? (
        <>
          <h1>Identity not found</h1>
          <p role="alert">
            No identity has the id or name “{id}”. It may have been deleted or renamed, or the link is wrong.
          </p>
          <p>
            <Link to="/identities">Search the identities</Link>
          </p>
        </>
      ) : (
        <Loadable state={detail}>{(d) => <DetailBody detail={d} />}</Loadable>
      )}
    </article>
  );
}
