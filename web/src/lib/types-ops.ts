/**
 * JSON shapes of the API answers the operations pages read (findings, alerts, approvals, scans, the event
 * log), as the server sends them: src/core/types.ts, src/core/broker-types.ts, src/detect/detect-types.ts and
 * the dashboard API contract.
 */

export const OWASP_IDS = [
  'NHI1',
  'NHI2',
  'NHI3',
  'NHI4',
  'NHI5',
  'NHI6',
  'NHI7',
  'NHI8',
  'NHI9',
  'NHI10',
] as const;
export type OwaspId = (typeof OWASP_IDS)[number];

/** OWASP Non-Human Identities Top 10 (2025) titles. */
export const OWASP_TITLES: Record<OwaspId, string> = {
  NHI1: 'Improper Offboarding',
  NHI2: 'Secret Leakage',
  NHI3: 'Vulnerable Third-Party NHI',
  NHI4: 'Insecure Authentication',
  NHI5: 'Overprivileged NHI',
  NHI6: 'Insecure Cloud Deployment Configurations',
  NHI7: 'Long-Lived Secrets',
  NHI8: 'Environment Isolation',
  NHI9: 'NHI Reuse',
  NHI10: 'Human Use of NHI',
};

export const FINDING_STATUSES = ['open', 'accepted', 'resolved'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** A posture finding with its triage status. */
export interface Finding {
  id: string;
  ruleId: string;
  owasp: OwaspId;
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  title: string;
  message: string;
  remediation: string;
  identityId: string;
  credentialId: string | null;
  evidence: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
  status: FindingStatus;
  statusReason: string | null;
  statusBy: string | null;
  statusAt: string | null;
}

export const ALERT_LEVELS = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** A stored detection alert. */
export interface Alert {
  id: string;
  ruleId: string;
  ruleTitle: string;
  level: AlertLevel;
  tags: string[];
  groupKey: Record<string, unknown> | null;
  /** Epoch ms. */
  windowStart: number;
  windowEnd: number;
  eventIds: string[];
  eventCount: number;
  summary: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackNote: string | null;
}

/** GET detect/alerts/{id}: the alert and the contributing events found in the event log. */
export interface AlertDetail extends Alert {
  events: EventRecord[];
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A broker approval request. */
export interface Approval {
  id: string;
  agentId: string;
  agentTypeId: string;
  scopes: string[];
  resource: string | null;
  task: string | null;
  purpose: string | null;
  status: ApprovalStatus;
  requestedAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  reason: string | null;
  tokenJti: string | null;
}

/** A record of the hash-chained event log. */
export interface EventRecord {
  seq: number;
  id: string;
  time: string;
  type: string;
  actor: string;
  subject: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** GET events. */
export interface EventPage {
  items: EventRecord[];
  total: number;
  limit: number;
  offset: number;
  next: number | null;
}

/** GET audit/verify. */
export type AuditVerification =
  | { ok: true; checked: number; lastSeq: number; lastHash: string }
  | {
      ok: false;
      checked: number;
      problem: { seq: number; kind: 'changed' | 'missing' | 'reordered'; message: string };
    };

/** The newest recorded run of one kind of scan. */
export interface ScanSummary {
  time: string;
  actor: string;
  kind: string;
  target: string;
  result: Record<string, unknown>;
}

/** GET scans/latest. */
export interface ScansLatest {
  npm: ScanSummary | null;
  secrets: ScanSummary | null;
  datasets: ScanSummary | null;
  recent: ScanSummary[];
}

/** An inventory resource (npm packages recorded by the gate are `npm:package` resources). */
export interface Resource {
  id: string;
  provider: string;
  type: string;
  name: string;
  environment: string | null;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
