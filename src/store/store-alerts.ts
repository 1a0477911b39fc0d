/**
 * SQL and row mapping of the detection alerts and their webhook outbox, shared by both adapters (`?`
 * placeholders; the PostgreSQL adapter renumbers them).
 */
import type { Alert, Level } from '../detect/detect-types.js';
import type { ListSql } from './store-queries.js';
import { pageBounds } from './store-batch.js';
import { ValidationError } from '../core/errors.js';
import type { NewEvent } from '../core/types.js';
import type { AlertFilter, ChangeContext, StoredAlert } from './store-types.js';

type Row = Record<string, unknown>;

export const ALERT_COLUMNS = [
  'id',
  'rule_id',
  'rule_title',
  'level',
  'tags',
  'group_key',
  'window_start',
  'window_end',
  'event_ids',
  'event_count',
  'summary',
  'source',
  'created_at',
] as const;

/** Inserts an alert unless its id is stored; RETURNING tells whether it was new (SQLite ≥ 3.35, PostgreSQL). */
export const INSERT_ALERT_SQL = `INSERT INTO detect_alerts (${ALERT_COLUMNS.join(', ')}) VALUES (${ALERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING RETURNING id`;

export const INSERT_DELIVERY_SQL =
  "INSERT INTO detect_deliveries (alert_id, target, status, attempts, next_attempt_at) VALUES (?, ?, 'pending', 0, ?) ON CONFLICT (alert_id, target) DO NOTHING";

/** Due deliveries to some targets, oldest first, with their alerts: parameters now, the targets, limit. */
export function dueDeliveriesSql(targets: number): string {
  return `SELECT d.alert_id AS d_alert_id, d.target AS d_target, d.attempts AS d_attempts, a.* FROM detect_deliveries d JOIN detect_alerts a ON a.id = d.alert_id WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND d.target IN (${Array.from({ length: targets }, () => '?').join(', ')}) ORDER BY d.next_attempt_at, d.alert_id, d.target LIMIT ?`;
}

/** Moves a claimed delivery's next attempt out by the lease and counts the attempt. */
export const LEASE_DELIVERY_SQL =
  "UPDATE detect_deliveries SET next_attempt_at = ?, attempts = attempts + 1 WHERE alert_id = ? AND target = ? AND status = 'pending'";

export const DELIVERED_SQL =
  "UPDATE detect_deliveries SET status = 'delivered', delivered_at = ?, last_error = NULL WHERE alert_id = ? AND target = ?";

export const RETRY_SQL =
  'UPDATE detect_deliveries SET next_attempt_at = ?, last_error = ? WHERE alert_id = ? AND target = ?';

export const GIVE_UP_SQL =
  "UPDATE detect_deliveries SET status = 'failed', last_error = ? WHERE alert_id = ? AND target = ?";

/** The column values of an alert. */
export function alertValues(a: Alert, source: 'batch' | 'stream', createdAt: string): unknown[] {
  return [
    a.id,
    a.ruleId,
    a.ruleTitle,
    a.level,
    JSON.stringify(a.tags),
    a.groupKey === null ? null : JSON.stringify(a.groupKey),
    a.windowStart,
    a.windowEnd,
    JSON.stringify(a.eventIds),
    a.eventCount,
    a.summary,
    source,
    createdAt,
  ];
}

export function rowToAlert(r: Row): StoredAlert {
  return {
    id: String(r.id),
    ruleId: String(r.rule_id),
    ruleTitle: String(r.rule_title),
    level: String(r.level) as Level,
    tags: JSON.parse(String(r.tags)) as string[],
    groupKey:
      r.group_key === null || r.group_key === undefined
        ? null
        : (JSON.parse(String(r.group_key)) as Record<string, unknown>),
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    eventIds: JSON.parse(String(r.event_ids)) as string[],
    eventCount: Number(r.event_count),
    summary: String(r.summary),
    source: String(r.source) as 'batch' | 'stream',
    createdAt: String(r.created_at),
    acknowledgedAt:
      r.acknowledged_at === null || r.acknowledged_at === undefined ? null : String(r.acknowledged_at),
    acknowledgedBy:
      r.acknowledged_by === null || r.acknowledged_by === undefined ? null : String(r.acknowledged_by),
    ackNote: r.ack_note === null || r.ack_note === undefined ? null : String(r.ack_note),
  };
}

/** Acknowledges an alert that is not acknowledged yet: parameters time, actor, note, id. */
export const ACK_ALERT_SQL =
  'UPDATE detect_alerts SET acknowledged_at = ?, acknowledged_by = ?, ack_note = ? WHERE id = ? AND acknowledged_at IS NULL';

/** The alert once acknowledged, and its `alert.acknowledged` event. */
export function planAlertAck(
  prev: StoredAlert,
  note: string | null,
  ctx: ChangeContext,
): { next: StoredAlert; event: NewEvent } {
  const next: StoredAlert = { ...prev, acknowledgedAt: ctx.time, acknowledgedBy: ctx.actor, ackNote: note };
  return {
    next,
    event: {
      time: ctx.time,
      type: 'alert.acknowledged',
      actor: ctx.actor,
      subject: null,
      data: { alertId: prev.id, ruleId: prev.ruleId, level: prev.level, note },
    },
  };
}

/** A note of at most 500 characters (blank is none); ValidationError when longer. */
export function ackNote(note: string | undefined): string | null {
  const n = note?.trim() ?? '';
  if (n.length > 500) {
    throw new ValidationError('an acknowledgement note is at most 500 characters', {
      details: [{ path: 'note', message: 'is longer than 500 characters' }],
    });
  }
  return n.length === 0 ? null : n;
}

/** Alert listing, newest window end first. */
export function listAlertsSql(f: AlertFilter = {}): ListSql {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.ruleId) {
    where.push('rule_id = ?');
    params.push(f.ruleId);
  }
  if (f.level) {
    where.push('level = ?');
    params.push(f.level);
  }
  if (f.since) {
    where.push('window_end >= ?');
    params.push(Date.parse(f.since));
  }
  if (f.acknowledged !== undefined)
    where.push(f.acknowledged ? 'acknowledged_at IS NOT NULL' : 'acknowledged_at IS NULL');
  if (f.createdSince) {
    where.push('created_at >= ?');
    params.push(f.createdSince);
  }
  const { limit, offset } = pageBounds(f);
  const w = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  return {
    page: {
      text: `SELECT * FROM detect_alerts${w} ORDER BY window_end DESC, id LIMIT ? OFFSET ?`,
      params: [...params, limit, offset],
    },
    count: { text: `SELECT COUNT(*) AS n FROM detect_alerts${w}`, params },
    limit,
    offset,
  };
}

/** The delivery a due row describes. */
export function rowToDelivery(r: Row): {
  alertId: string;
  target: string;
  attempts: number;
  alert: StoredAlert;
} {
  return {
    alertId: String(r.d_alert_id),
    target: String(r.d_target),
    attempts: Number(r.d_attempts) + 1,
    alert: rowToAlert(r),
  };
}

/** A ms epoch from an ISO time plus a lease, as ISO. */
export function leaseUntil(now: string, leaseMs: number): string {
  return new Date(Date.parse(now) + leaseMs).toISOString();
}
