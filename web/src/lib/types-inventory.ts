/**
 * Shapes of the API answers the overview, identity list and identity detail pages read: the server's own types,
 * imported type-only (the build erases them), so the dashboard is checked against what the API really sends.
 */
import type { Severity } from '../../../src/core/types.js';
import type { Level } from '../../../src/detect/detect-types.js';
import type { EventRecord } from '../../../src/core/types.js';
import type { Page } from './api.js';

export type {
  Credential,
  EventRecord,
  Grant,
  Identity,
  IdentityKind,
  StoredFinding as Finding,
} from '../../../src/core/types.js';
export type {
  IdentityGraph,
  IdentityGraphEdge as GraphEdge,
  IdentityGraphNode as GraphNode,
} from '../../../src/inventory/posture/identity-graph.js';
export type { RiskBreakdown } from '../../../src/inventory/posture/posture-types.js';
export type { IdentityDetail } from '../../../src/inventory/inventory-service.js';
export type { Overview } from '../../../src/server/dashboard-overview.js';
export type { IdentityTokens } from '../../../src/server/dashboard-tokens.js';

export type FindingSeverity = Severity;
export type AlertLevel = Level;
export type SeverityCounts = Record<FindingSeverity, number>;

/** GET /events: a page and the cursor of the next one (null at the end). */
export interface EventPage extends Page<EventRecord> {
  next: number | null;
}
