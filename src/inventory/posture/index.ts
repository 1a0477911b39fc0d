// IN PROGRESS (posture helper replaces this file).
import type { Finding } from '../../core/types.js';
import type { InventorySnapshot } from '../../core/inventory-batch.js';
import type { PostureConfig, PostureRuleMeta, RiskBreakdown } from './posture-types.js';

export type IdentityGraph = { nodes: unknown[]; edges: unknown[] };
export const POSTURE_RULES: PostureRuleMeta[] = [];
export function evaluatePosture(_s: InventorySnapshot, _c: PostureConfig, _now: Date): Finding[] {
  return [];
}
export function computeRiskScores(_s: InventorySnapshot, _f: Finding[]): Map<string, RiskBreakdown> {
  return new Map();
}
export function buildIdentityGraph(_s: InventorySnapshot, _id: string): IdentityGraph {
  return { nodes: [], edges: [] };
}
