/** The detection alerts and webhook outbox of the SQLite store; every write is one IMMEDIATE transaction. */
import type Database from 'better-sqlite3';
import type { Alert } from '../../detect/detect-types.js';
import { NotFoundError } from '../../core/errors.js';
import type { NewEvent } from '../../core/types.js';
import {
  ACK_ALERT_SQL,
  ackNote,
  alertValues,
  DELIVERED_SQL,
  dueDeliveriesSql,
  GIVE_UP_SQL,
  INSERT_ALERT_SQL,
  INSERT_DELIVERY_SQL,
  LEASE_DELIVERY_SQL,
  leaseUntil,
  listAlertsSql,
  planAlertAck,
  RETRY_SQL,
  rowToAlert,
  rowToDelivery,
} from '../store-alerts.js';
import type { ListSql } from '../store-queries.js';
import type { AlertStore, Page } from '../store-types.js';

type Row = Record<string, unknown>;

/** What the alert store needs from the SQLite store. */
export interface SqliteAlertDeps {
  db: Database.Database;
  all(sql: string, ...params: unknown[]): Row[];
  get(sql: string, ...params: unknown[]): Row | undefined;
  run(sql: string, ...params: unknown[]): Database.RunResult;
  guard<T>(what: string, fn: () => T): Promise<T>;
  page<T>(l: ListSql, map: (r: Row) => T): Page<T>;
  /** Appends events inside the caller's transaction. */
  appendEventsTx(events: NewEvent[]): unknown;
}

export function createSqliteAlertStore(d: SqliteAlertDeps): AlertStore {
  const { db, all, get, run, guard } = d;
  return {
    saveAlerts: (alerts: Alert[], ctx) =>
      guard('store alerts', () =>
        db
          .transaction((): string[] => {
            const stored: string[] = [];
            for (const a of alerts) {
              if (!get(INSERT_ALERT_SQL, ...alertValues(a, ctx.source, ctx.time))) continue;
              stored.push(a.id);
              for (const target of ctx.targets) run(INSERT_DELIVERY_SQL, a.id, target, ctx.time);
            }
            return stored;
          })
          .immediate(),
      ),
    getAlert: (id) =>
      guard('read an alert', () => {
        const r = get('SELECT * FROM detect_alerts WHERE id = ?', id);
        return r ? rowToAlert(r) : null;
      }),
    listAlerts: (f) => guard('list alerts', () => d.page(listAlertsSql(f), rowToAlert)),
    acknowledgeAlert: (id, note, ctx) =>
      guard('acknowledge the alert', () =>
        db
          .transaction(() => {
            const r = get('SELECT * FROM detect_alerts WHERE id = ?', id);
            if (!r) throw new NotFoundError(`no alert ${JSON.stringify(id)}`);
            const prev = rowToAlert(r);
            if (prev.acknowledgedAt !== null) return prev;
            const { next, event } = planAlertAck(prev, ackNote(note ?? undefined), ctx);
            run(ACK_ALERT_SQL, next.acknowledgedAt, next.acknowledgedBy, next.ackNote, id);
            d.appendEventsTx([event]);
            return next;
          })
          .immediate(),
      ),
    claimDeliveries: (now, leaseMs, limit, targets) =>
      guard('claim alert deliveries', () =>
        db
          .transaction(() => {
            if (targets.length === 0) return [];
            const due = all(dueDeliveriesSql(targets.length), now, ...targets, limit).map(rowToDelivery);
            for (const x of due) run(LEASE_DELIVERY_SQL, leaseUntil(now, leaseMs), x.alertId, x.target);
            return due;
          })
          .immediate(),
      ),
    finishDelivery: (alertId, target, outcome) =>
      guard('record an alert delivery', () => {
        if (outcome.ok) run(DELIVERED_SQL, outcome.time, alertId, target);
        else if (outcome.retryAt !== null) run(RETRY_SQL, outcome.retryAt, outcome.error, alertId, target);
        else run(GIVE_UP_SQL, outcome.error, alertId, target);
      }),
  };
}
