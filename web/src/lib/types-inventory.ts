/**
 * TypeScript shapes of the API answers the overview, identity list and identity detail pages read. They mirror
 * src/core/types.ts and src/server/server-schemas.ts (the server's zod schemas) and /tmp/dashboard-api.md for
 * the dashboard routes; the dashboard cannot import server code, so they are restated here.
 */

export type IdentityKind =
  | 'ai-agent'
  | 'service-account'
  | 'ci-pipeline'
  | 'bot'
  | 'mcp-server'
  | 'workload'
  | 'app'
  | 'user-key'
  | 'other';

export type FindingSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type AlertLevel = 'critical' | 'high' | 'medium' | 'low' | 'informational';

/** GET /identities items. */
export interface Identity {
  id: string;
  name: string;
  kind: IdentityKind;
  provider: string;
  externalId: string;
  environment: string | null;
  owner: string | null;
  sponsor: string | null;
  description: string | null;
  tags: string[];
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  lastSeenAt: string | null;
  riskScore: number | null;
}

/** A credential: fingerprint and redacted preview only, never the value. */
export interface Credential {
  id: string;
  identityId: string;
  type: string;
  provider: string;
  fingerprint: string;
  fingerprintSource: 'value' | 'reference';
  preview: string;
  externalId: string | null;
  name: string | null;
  scopes: string[];
  status: 'active' | 'inactive';
  createdAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastRotatedAt: string | null;
  attributes: Record<string, unknown>;
  locations: Array<{
    kind: 'file' | 'env' | 'config' | 'system';
    path: string;
    line: number | null;
    key: string | null;
  }>;
  recordedAt: string;
  updatedAt: string;
}

export interface Grant {
  id: string;
  identityId: string;
  effect: 'allow' | 'deny';
  actions: string[];
  resources: string[];
  source: string;
  key: string;
  admin: boolean;
}

/** A posture finding; `status` and its fields come with the finding-status routes (they may be absent). */
export interface Finding {
  id: string;
  ruleId: string;
  owasp: string;
  severity: FindingSeverity;
  title: string;
  message: string;
  remediation: string;
  identityId: string;
  credentialId: string | null;
  evidence: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
  status?: 'open' | 'accepted' | 'resolved';
  statusReason?: string | null;
}

export interface RiskBreakdown {
  identityId: string;
  score: number;
  factors: Array<{ name: string; points: number; detail: string }>;
}

/** GET /identities/{id}. */
export interface IdentityDetail {
  identity: Identity;
  credentials: Credential[];
  grants: Grant[];
  findings: Finding[];
  risk: RiskBreakdown;
}

/** Nodes of GET /identities/{id}/graph, told apart by `type`. */
export type GraphNode =
  | {
      type: 'identity';
      id: string;
      label: string;
      kind: IdentityKind;
      provider: string;
      environment: string | null;
      owner: string | null;
      riskScore: number | null;
    }
  | {
      type: 'credential';
      id: string;
      label: string;
      credentialType: string;
      provider: string;
      preview: string;
      fingerprint: string;
      status: 'active' | 'inactive';
      expiresAt: string | null;
    }
  | {
      type: 'grant';
      id: string;
      label: string;
      effect: 'allow' | 'deny';
      actions: string[];
      resources: string[];
      admin: boolean;
    }
  | {
      type: 'resource';
      id: string;
      label: string;
      resourceType: string;
      provider: string;
      environment: string | null;
    }
  | { type: 'pattern'; id: string; label: string };

export interface GraphEdge {
  type: 'holds' | 'granted' | 'allows' | 'denies';
  from: string;
  to: string;
  actions?: string[];
  pattern?: string;
  reach?: 'all' | 'part';
}

/** GET /identities/{id}/graph. */
export interface IdentityGraph {
  identityId: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A record of the event log. */
export interface EventRecord {
  seq: number;
  id: string;
  time: string;
  type: string;
  actor: string;
  subject: string | null;
  data: Record<string, unknown>;
}

/** GET /events. */
export interface EventPage {
  items: EventRecord[];
  total: number;
  limit: number;
  offset: number;
  next: number | null;
}

/** GET /identities/{id}/tokens. */
export interface IdentityTokens {
  agentIds: string[];
  tokensIssued: number;
  scopesGranted: string[];
  scopesUsed: string[];
  recent: Array<{ time: string; jti: string; scope: string; audience: string; expiresAt?: string }>;
}

export type SeverityCounts = Record<FindingSeverity, number>;

/** GET /overview. */
export interface Overview {
  postureScore: number;
  counts: {
    identities: number;
    credentials: number;
    openFindings: number;
    openAlerts: number;
    pendingApprovals: number;
  };
  findingsByOwasp: Array<{ owasp: string; title: string } & SeverityCounts>;
  findingsBySeverity: SeverityCounts;
  identitiesByRisk: Record<'critical' | 'high' | 'medium' | 'low' | 'none', number>;
  alertsOverTime: Array<{ day: string; total: number } & Record<AlertLevel, number>>;
  riskiestIdentities: Array<{
    id: string;
    name: string;
    kind: IdentityKind;
    provider: string;
    environment: string | null;
    owner: string | null;
    riskScore: number | null;
    openFindings: number;
  }>;
  credentialsDue: Array<{
    id: string;
    identityId: string;
    identityName: string;
    type: string;
    preview: string;
    expiresAt: string | null;
    lastRotatedAt: string | null;
    due: 'expired' | 'expiring' | 'rotation-overdue';
    days: number;
  }>;
}
