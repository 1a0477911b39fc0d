/**
 * Approvals: broker token requests waiting for a person (with the time left to decide), approve / deny
 * buttons, and the requests decided recently. Live `approval` messages refresh both lists.
 */
import { useEffect, useState } from 'react';
import { Check, X } from 'lucide-react';
import { Loadable } from '../components/ui.js';
import { apiGet, apiGetAll, apiPost } from '../lib/api.js';
import type { Page } from '../lib/api.js';
import { formatTime } from '../lib/format.js';
import { useStream } from '../lib/stream.js';
import type { Approval } from '../lib/types-ops.js';
import { useApi } from '../lib/use-api.js';

/** `4 min 05 s left`, `2 h 10 min left`, or `deadline passed`. */
export function countdown(deadline: string, now: number): string {
  const ms = new Date(deadline).getTime() - now;
  if (Number.isNaN(ms)) return '—';
  if (ms <= 0) return 'deadline passed';
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s left`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min left`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h left`;
}

function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/** Names of agents and agent types by id; empty when they cannot be read (the ids are shown then). */
async function loadNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  try {
    const [agents, types] = await Promise.all([
      apiGetAll<{ id: string; name: string }>('broker/agents'),
      apiGetAll<{ id: string; name: string }>('broker/agent-types'),
    ]);
    for (const x of [...agents, ...types]) names.set(x.id, x.name);
  } catch {
    // names are a convenience: the ids stay
  }
  return names;
}

export function Approvals() {
  const names = useApi(loadNames, []);
  const pending = useApi(
    () => apiGet<Page<Approval>>('broker/approvals', { status: 'pending', limit: 200 }),
    [],
  );
  const recent = useApi(() => apiGet<Page<Approval>>('broker/approvals', { limit: 100 }), []);
  const [justDecided, setJustDecided] = useState<Approval[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const now = useNow();

  useStream(['approval'], () => {
    pending.reload();
    recent.reload();
  });

  async function decide(a: Approval, decision: 'approve' | 'deny') {
    setBusy(a.id);
    setResult(null);
    try {
      const decided = await apiPost<Approval>(`broker/approvals/${encodeURIComponent(a.id)}/${decision}`, {});
      setJustDecided((prev) => [decided, ...prev.filter((p) => p.id !== decided.id)]);
      setResult({
        ok: true,
        text: `Request ${a.id} of ${names.data?.get(a.agentId) ?? a.agentId} ${decided.status}.`,
      });
      pending.reload();
      recent.reload();
    } catch (e) {
      setResult({
        ok: false,
        text: `Could not ${decision} ${a.id}: ${e instanceof Error ? e.message : String(e)}`,
      });
    } finally {
      setBusy(null);
    }
  }

  const decidedIds = new Set(justDecided.map((a) => a.id));
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p role="status" className={result?.ok === false ? 'error' : 'ops-result'}>
        {result?.text}
      </p>
      <h2>Pending</h2>
      <Loadable
        state={pending}
        empty="No request is waiting for a decision."
        isEmpty={(p) => p.items.every((a) => decidedIds.has(a.id))}
      >
        {(p) => (
          <div className="table-wrap card">
            <table aria-label="Pending approval requests">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Task and purpose</th>
                  <th scope="col">Requested</th>
                  <th scope="col">Deadline</th>
                  <th scope="col">Decision</th>
                </tr>
              </thead>
              <tbody>
                {p.items
                  .filter((a) => !decidedIds.has(a.id))
                  .map((a) => (
                    <tr key={a.id} data-approval={a.id}>
                      <td>
                        <strong>{names.data?.get(a.agentId) ?? a.agentId}</strong>
                        {names.data?.has(a.agentId) && <div className="mono small">{a.agentId}</div>}
                        <div className="muted small">
                          type {names.data?.get(a.agentTypeId) ?? a.agentTypeId}
                        </div>
                      </td>
                      <td>
                        {a.scopes.map((s) => (
                          <span key={s} className="badge tag mono">
                            {s}
                          </span>
                        ))}
                      </td>
                      <td className="mono wrap-anywhere">{a.resource ?? '—'}</td>
                      <td>
                        {a.task && <div className="mono">{a.task}</div>}
                        <div>{a.purpose ?? <span className="muted">no purpose given</span>}</div>
                      </td>
                      <td>{formatTime(a.requestedAt)}</td>
                      <td>
                        {formatTime(a.expiresAt)}
                        <div className="small countdown">{countdown(a.expiresAt, now)}</div>
                      </td>
                      <td>
                        <div className="actions">
                          <button
                            type="button"
                            className="button"
                            disabled={busy !== null}
                            onClick={() => void decide(a, 'approve')}
                            aria-label={`Approve ${a.id} for ${names.data?.get(a.agentId) ?? a.agentId}`}
                          >
                            <Check aria-hidden size={16} /> Approve
                          </button>
                          <button
                            type="button"
                            className="button danger"
                            disabled={busy !== null}
                            onClick={() => void decide(a, 'deny')}
                            aria-label={`Deny ${a.id} for ${names.data?.get(a.agentId) ?? a.agentId}`}
                          >
                            <X aria-hidden size={16} /> Deny
                          </button>
                        </div>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        )}
      </Loadable>

      <h2 className="section-title">Decided</h2>
      <Loadable state={recent}>
        {(r) => {
          const seen = new Set<string>();
          const rows = [...justDecided, ...r.items.filter((a) => a.status !== 'pending')].filter((a) => {
            if (seen.has(a.id)) return false;
            seen.add(a.id);
            return true;
          });
          if (rows.length === 0) return <p className="muted">No decided requests yet.</p>;
          return (
            <div className="table-wrap card">
              <table aria-label="Decided approval requests">
                <thead>
                  <tr>
                    <th scope="col">Request</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Decision</th>
                    <th scope="col">By</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((a) => (
                    <tr key={a.id} data-approval={a.id}>
                      <td className="mono">{a.id}</td>
                      <td>{names.data?.get(a.agentId) ?? <span className="mono">{a.agentId}</span>}</td>
                      <td className="mono">{a.scopes.join(' ')}</td>
                      <td>
                        <span className={`badge decision-${a.status}`}>{a.status}</span>
                        {a.reason && <div className="small">{a.reason}</div>}
                      </td>
                      <td className="mono">{a.decidedBy ?? '—'}</td>
                      <td>{formatTime(a.decidedAt ?? a.expiresAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loadable>
    </section>
  );
}
