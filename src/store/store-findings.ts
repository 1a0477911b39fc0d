/**
 * Finding status, shared by both adapters: how a posture run's findings merge with the stored ones (accepted
 * stays accepted, resolved but still reported reopens) and how a status change is planned and logged.
 */
import { ValidationError } from '../core/errors.js';
import type { Finding, FindingStatus, NewEvent, StoredFinding } from '../core/types.js';
import type { Row } from './store-rows.js';
import type { ChangeContext } from './store-types.js';

/** Who the event log records for a status the posture run changed. */
export const POSTURE_ACTOR = 'posture';

/** The reason recorded when a run still reports a finding someone marked resolved. */
export const REOPEN_REASON = 'still reported by the posture run';

/** The columns `planFindingRun` needs of the stored findings. */
export const PRIOR_FINDINGS_SQL =
  'SELECT id, first_seen_at, status, status_reason, status_by, status_at FROM findings';

/** What a run keeps of a stored finding. */
export interface PriorFinding {
  firstSeenAt: string;
  status: FindingStatus;
  statusReason: string | null;
  statusBy: string | null;
  statusAt: string | null;
}

/** The prior state of stored findings, by id, from rows of `PRIOR_FINDINGS_SQL`. */
export function priorFindings(rows: readonly Row[]): Map<string, PriorFinding> {
  const out = new Map<string, PriorFinding>();
  for (const r of rows) {
    out.set(String(r.id), {
      firstSeenAt: String(r.first_seen_at),
      status: String(r.status) as FindingStatus,
      statusReason: r.status_reason === null ? null : String(r.status_reason),
      statusBy: r.status_by === null ? null : String(r.status_by),
      statusAt: r.status_at === null ? null : String(r.status_at),
    });
  }
  return out;
}

/** The event type of a change to this status. */
export function findingStatusEventType(status: FindingStatus): string {
  return status === 'accepted'
    ? 'finding.accepted'
    : status === 'resolved'
      ? 'finding.resolved'
      : 'finding.reopened';
}

function statusEvent(f: StoredFinding, time: string, actor: string, reason: string): NewEvent {
  return {
    time,
    type: findingStatusEventType(f.status),
    actor,
    subject: f.identityId,
    data: { findingId: f.id, ruleId: f.ruleId, owasp: f.owasp, reason },
  };
}

/**
 * Merges a run's findings with the stored ones: the first of each id counts; an id seen before keeps its
 * firstSeenAt and status, except that a resolved one becomes open again (with a `finding.reopened` event).
 * `open` counts the findings left open (accepted ones are not), `resolved` those the run no longer reports.
 */
export function planFindingRun(
  findings: readonly Finding[],
  before: ReadonlyMap<string, PriorFinding>,
  time: string,
): { rows: StoredFinding[]; events: NewEvent[]; open: number; created: number; resolved: number } {
  const rows: StoredFinding[] = [];
  const events: NewEvent[] = [];
  const seen = new Set<string>();
  let created = 0;
  for (const f of findings) {
    if (seen.has(f.id)) continue;
    seen.add(f.id);
    const prior = before.get(f.id);
    if (!prior) created++;
    const base = { ...f, firstSeenAt: prior?.firstSeenAt ?? f.firstSeenAt ?? time, lastSeenAt: time };
    if (prior?.status === 'resolved') {
      const row: StoredFinding = {
        ...base,
        status: 'open',
        statusReason: REOPEN_REASON,
        statusBy: POSTURE_ACTOR,
        statusAt: time,
      };
      rows.push(row);
      events.push(statusEvent(row, time, POSTURE_ACTOR, REOPEN_REASON));
    } else {
      rows.push({
        ...base,
        status: prior?.status ?? 'open',
        statusReason: prior?.statusReason ?? null,
        statusBy: prior?.statusBy ?? null,
        statusAt: prior?.statusAt ?? null,
      });
    }
  }
  let resolved = 0;
  for (const id of before.keys()) if (!seen.has(id)) resolved++;
  const open = rows.filter((r) => r.status === 'open').length;
  return { rows, events, open, created, resolved };
}

/** A status change asked for through the API. */
export interface FindingStatusChange {
  status: FindingStatus;
  /** Why (1–500 characters), recorded with the finding and in the event log. */
  reason: string;
}

/**
 * The finding after a status change and its event; null when the finding already has that status (nothing is
 * written). ValidationError for an unknown status or a reason that is blank or longer than 500 characters.
 */
export function planFindingStatus(
  prev: StoredFinding,
  change: FindingStatusChange,
  ctx: ChangeContext,
): { next: StoredFinding; event: NewEvent } | null {
  if (!['open', 'accepted', 'resolved'].includes(change.status)) {
    throw new ValidationError(`unknown finding status ${JSON.stringify(change.status)}`, {
      details: [{ path: 'status', message: 'must be open, accepted or resolved' }],
    });
  }
  const reason = typeof change.reason === 'string' ? change.reason.trim() : '';
  if (reason.length === 0 || reason.length > 500) {
    throw new ValidationError('a finding status change needs a reason of 1–500 characters', {
      details: [
        { path: 'reason', message: reason.length === 0 ? 'is required' : 'is longer than 500 characters' },
      ],
    });
  }
  if (prev.status === change.status) return null;
  const next: StoredFinding = {
    ...prev,
    status: change.status,
    statusReason: reason,
    statusBy: ctx.actor,
    statusAt: ctx.time,
  };
  return { next, event: statusEvent(next, ctx.time, ctx.actor, reason) };
}
