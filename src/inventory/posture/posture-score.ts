/**
 * The installation's posture score (0–100, 100 = no open findings): each identity's open findings weighted
 * by severity with the risk score's points (critical 40, high 25, medium 10, low 4, info 1), capped at 100
 * per identity; the score is 100 minus the mean of those weights over every identity. Accepted and resolved
 * findings do not count. See docs/posture.md.
 */
import type { FindingStatus, Severity } from '../../core/types.js';
import { SEVERITY_POINTS } from './risk-score.js';

/** Findings of one identity, severity and status, and how many. */
export interface PostureScoreInput {
  identityId: string;
  severity: Severity;
  status: FindingStatus;
  count: number;
}

/** The weight of one identity's open findings: the sum of their severity points, at most 100. */
export function openFindingWeights(counts: readonly PostureScoreInput[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const c of counts) {
    if (c.status !== 'open') continue;
    weights.set(c.identityId, (weights.get(c.identityId) ?? 0) + SEVERITY_POINTS[c.severity] * c.count);
  }
  for (const [id, w] of weights) weights.set(id, Math.min(100, w));
  return weights;
}

/**
 * 100 minus the mean open-finding weight over `identities` identities (those without findings weigh 0),
 * rounded; 100 when there are no identities.
 * @example
 * postureScore([{ identityId: 'a', severity: 'critical', status: 'open', count: 1 }], 4); // 100 - 40/4 = 90
 */
export function postureScore(counts: readonly PostureScoreInput[], identities: number): number {
  if (identities <= 0) return 100;
  let total = 0;
  for (const w of openFindingWeights(counts).values()) total += w;
  return Math.max(0, Math.min(100, Math.round(100 - total / identities)));
}
