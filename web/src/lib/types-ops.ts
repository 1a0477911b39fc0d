/**
 * Shapes of the API answers the operations pages read (findings, alerts, approvals, scans, the event log): the
 * server's own types, imported type-only, so the dashboard is checked against what the API really sends. The
 * OWASP ids and titles are the server's constants, bundled.
 */
import type { Level } from '../../../src/detect/detect-types.js';
import type { StoredAlert } from '../../../src/store/store-types.js';
import type { EventRecord } from '../../../src/core/types.js';

export {
  FINDING_STATUSES,
  OWASP_NHI_IDS as OWASP_IDS,
  OWASP_NHI_TITLES as OWASP_TITLES,
} from '../../../src/core/types.js';
export type {
  EventRecord,
  FindingStatus,
  OwaspNhiId as OwaspId,
  Resource,
  StoredFinding as Finding,
} from '../../../src/core/types.js';
export type { Approval, ApprovalStatus } from '../../../src/core/broker-types.js';
export type { EventLogVerification as AuditVerification } from '../../../src/audit/audit-log.js';
export type { LatestScans as ScansLatest, ScanSummary } from '../../../src/server/dashboard-scans.js';
export type { EventPage } from './types-inventory.js';

/** Alert levels, most severe first (the order of the level filter). */
export const ALERT_LEVELS = [
  'critical',
  'high',
  'medium',
  'low',
  'informational',
] as const satisfies readonly Level[];
export type AlertLevel = Level;

/** A stored detection alert, as GET detect/alerts answers it. */
export type Alert = StoredAlert;

/** GET detect/alerts/{id}: the alert and the contributing events found in the event log. */
export interface AlertDetail extends Alert {
  events: EventRecord[];
}
