/**
 * The detection alerts and webhook outbox of the PostgreSQL store. Claims use FOR UPDATE SKIP LOCKED, so
 * several server processes share the outbox without sending a delivery twice at once.
 */
import type { Pool, PoolClient } from 'pg';
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
type Queryable = Pool | PoolClient;

/** What the alert store needs from the PostgreSQL store. */
export interface PostgresAlertDeps {
  pool: Pool;
  tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T>;
  q(db: Queryable, sql: string, params?: unknown[]): Promise<Row[]>;
  guard<T>(what: string, fn: () => Promise<T>): Promise<T>;
  page<T>(l: ListSql, map: (rows: Row[]) => Promise<T[]> | T[]): Promise<Page<T>>;
  /** Appends events inside the caller's transaction. */
  appendEventsTx(c: PoolClient, events: NewEvent[]): Promise<unknown>;
}

export function createPostgresAlertStore(d: PostgresAlertDeps): AlertStore {
  const { pool, tx, q, guard } = d;
  return {
    saveAlerts: (alerts: Alert[], ctx) =>
      guard('store alerts', () =>
        tx(async (c) => {
          const stored: string[] = [];
          for (const a of alerts) {
            if ((await q(c, INSERT_ALERT_SQL, alertValues(a, ctx.source, ctx.time))).length === 0) continue;
            stored.push(a.id);
            for (const target of ctx.targets) await q(c, INSERT_DELIVERY_SQL, [a.id, target, ctx.time]);
          }
          return stored;
        }),
      ),
    getAlert: (id) =>
      guard('read an alert', async () => {
        const [r] = await q(pool, 'SELECT * FROM detect_alerts WHERE id = ?', [id]);
        return r ? rowToAlert(r) : null;
      }),
    listAlerts: (f) => guard('list alerts', () => d.page(listAlertsSql(f), (rows) => rows.map(rowToAlert))),
    acknowledgeAlert: (id, note, ctx) =>
      guard('acknowledge the alert', () =>
        tx(async (c) => {
          const [r] = await q(c, 'SELECT * FROM detect_alerts WHERE id = ? FOR UPDATE', [id]);
          if (!r) throw new NotFoundError(`no alert ${JSON.stringify(id)}`);
          const prev = rowToAlert(r);
          if (prev.acknowledgedAt !== null) return prev;
          const { next, event } = planAlertAck(prev, ackNote(note ?? undefined), ctx);
          await q(c, ACK_ALERT_SQL, [next.acknowledgedAt, next.acknowledgedBy, next.ackNote, id]);
          await d.appendEventsTx(c, [event]);
          return next;
        }),
      ),
    claimDeliveries: (now, leaseMs, limit, targets) =>
      guard('claim alert deliveries', () =>
        tx(async (c) => {
          if (targets.length === 0) return [];
          const sql = `${dueDeliveriesSql(targets.length)} FOR UPDATE OF d SKIP LOCKED`;
          const due = (await q(c, sql, [now, ...targets, limit])).map(rowToDelivery);
          for (const x of due)
            await q(c, LEASE_DELIVERY_SQL, [leaseUntil(now, leaseMs), x.alertId, x.target]);
          return due;
        }),
      ),
    finishDelivery: (alertId, target, outcome) =>
      guard('record an alert delivery', async () => {
        if (outcome.ok) await q(pool, DELIVERED_SQL, [outcome.time, alertId, target]);
        else if (outcome.retryAt !== null)
          await q(pool, RETRY_SQL, [outcome.retryAt, outcome.error, alertId, target]);
        else await q(pool, GIVE_UP_SQL, [outcome.error, alertId, target]);
      }),
  };
}
