/**
 * Aggregate reads of the dashboard's overview, shared by both adapters (`?` placeholders; the PostgreSQL
 * adapter renumbers them): finding counts, alert counts per UTC day, and credentials that are due.
 */
import type { FindingStatus, OwaspNhiId, Severity } from '../core/types.js';
import type { Level } from '../detect/detect-types.js';
import type { Row } from './store-rows.js';

/** How many findings one identity has of one OWASP category, severity and status. */
export interface FindingCount {
  identityId: string;
  owasp: OwaspNhiId;
  severity: Severity;
  status: FindingStatus;
  count: number;
}

/** How many alerts of one level had their window end on one UTC day. */
export interface AlertDayCount {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  level: Level;
  count: number;
}

/** Why a credential is due: its expiry passed, comes within the horizon, or it was not rotated in time. */
export type CredentialDue = 'expired' | 'expiring' | 'rotation-overdue';

/** An active credential that is due, with its identity's name (no locations, never a value). */
export interface DueCredential {
  id: string;
  identityId: string;
  identityName: string;
  type: string;
  preview: string;
  createdAt: string | null;
  expiresAt: string | null;
  lastRotatedAt: string | null;
  due: CredentialDue;
}

/** The times that make a credential due. */
export interface CredentialsDueQuery {
  /** Expiry at or before this is `expired`. */
  now: string;
  /** Expiry after `now` and at or before this is `expiring`. */
  expiringBefore: string;
  /** Neither expired nor expiring, and last rotated (or, never rotated, created) before this: `rotation-overdue`. */
  rotatedBefore: string;
  /** At most this many of each kind (1–1000). */
  limit: number;
}

export const FINDING_COUNTS_SQL =
  'SELECT identity_id, owasp, severity, status, COUNT(*) AS n FROM findings GROUP BY identity_id, owasp, severity, status ORDER BY identity_id, owasp, severity, status';

export function rowToFindingCount(r: Row): FindingCount {
  return {
    identityId: String(r.identity_id),
    owasp: String(r.owasp) as OwaspNhiId,
    severity: String(r.severity) as Severity,
    status: String(r.status) as FindingStatus,
    count: Number(r.n),
  };
}

const DAY_MS = 86_400_000;

/** Alerts per UTC day (epoch days) and level whose window ended at or after a ms time: parameter sinceMs. */
export const ALERT_DAY_COUNTS_SQL = `SELECT window_end / ${DAY_MS} AS day, level, COUNT(*) AS n FROM detect_alerts WHERE window_end >= ? GROUP BY window_end / ${DAY_MS}, level ORDER BY 1, 2`;

export function rowToAlertDayCount(r: Row): AlertDayCount {
  return {
    day: new Date(Number(r.day) * DAY_MS).toISOString().slice(0, 10),
    level: String(r.level) as Level,
    count: Number(r.n),
  };
}

const DUE_COLUMNS =
  'c.id, c.identity_id, i.name AS identity_name, c.type, c.preview, c.created_at, c.expires_at, c.last_rotated_at FROM credentials c JOIN identities i ON i.id = c.identity_id';
const rotatedAt = 'COALESCE(c.last_rotated_at, c.created_at)';

/** The three statements of `listCredentialsDue`, most urgent first within each, with their parameters. */
export function credentialsDueSql(
  q: CredentialsDueQuery,
): Array<{ due: CredentialDue; text: string; params: unknown[] }> {
  const limit = Math.max(1, Math.min(Math.trunc(q.limit), 1000));
  return [
    {
      due: 'expired',
      text: `SELECT ${DUE_COLUMNS} WHERE c.status = 'active' AND c.expires_at IS NOT NULL AND c.expires_at <= ? ORDER BY c.expires_at, c.id LIMIT ?`,
      params: [q.now, limit],
    },
    {
      due: 'expiring',
      text: `SELECT ${DUE_COLUMNS} WHERE c.status = 'active' AND c.expires_at > ? AND c.expires_at <= ? ORDER BY c.expires_at, c.id LIMIT ?`,
      params: [q.now, q.expiringBefore, limit],
    },
    {
      due: 'rotation-overdue',
      text: `SELECT ${DUE_COLUMNS} WHERE c.status = 'active' AND (c.expires_at IS NULL OR c.expires_at > ?) AND ${rotatedAt} IS NOT NULL AND ${rotatedAt} < ? ORDER BY ${rotatedAt}, c.id LIMIT ?`,
      params: [q.expiringBefore, q.rotatedBefore, limit],
    },
  ];
}

export function rowToDueCredential(r: Row, due: CredentialDue): DueCredential {
  const opt = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    id: String(r.id),
    identityId: String(r.identity_id),
    identityName: String(r.identity_name),
    type: String(r.type),
    preview: String(r.preview),
    createdAt: opt(r.created_at),
    expiresAt: opt(r.expires_at),
    lastRotatedAt: opt(r.last_rotated_at),
    due,
  };
}
