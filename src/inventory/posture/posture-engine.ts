/** Runs every posture rule over an inventory snapshot. */
import type { InventorySnapshot } from '../../core/inventory-batch.js';
import type { Finding } from '../../core/types.js';
import { NHI1_RULES } from './nhi1-improper-offboarding.js';
import { NHI2_RULES } from './nhi2-secret-leakage.js';
import { NHI4_RULES } from './nhi4-insecure-authentication.js';
import { NHI5_RULES } from './nhi5-overprivileged.js';
import { NHI6_RULES } from './nhi6-insecure-cloud-deployment.js';
import { NHI7_RULES } from './nhi7-long-lived-secrets.js';
import { NHI8_RULES } from './nhi8-environment-isolation.js';
import { NHI9_RULES } from './nhi9-reuse.js';
import { buildPostureContext } from './posture-context.js';
import type { PostureRule } from './posture-rule.js';
import type { PostureConfig, PostureRuleMeta } from './posture-types.js';

/** Every posture rule, in evaluation order (NHI3 and NHI10 wait for third-party grants and events). */
export const RULES: readonly PostureRule[] = [
  ...NHI1_RULES,
  ...NHI2_RULES,
  ...NHI4_RULES,
  ...NHI5_RULES,
  ...NHI6_RULES,
  ...NHI7_RULES,
  ...NHI8_RULES,
  ...NHI9_RULES,
];

/** The metadata of every posture rule, for listings, docs and SARIF rule descriptors. */
export const POSTURE_RULES: readonly PostureRuleMeta[] = Object.freeze(RULES.map((r) => r.meta));

/**
 * Evaluates every posture rule over the snapshot; pure and deterministic for a given snapshot, config and time.
 * @example
 * const findings = evaluatePosture(await store.loadSnapshot(), DEFAULT_POSTURE_CONFIG, new Date());
 * const critical = findings.filter((f) => f.severity === 'critical');
 */
export function evaluatePosture(snapshot: InventorySnapshot, config: PostureConfig, now: Date): Finding[] {
  const ctx = buildPostureContext(snapshot, config, now);
  const out: Finding[] = [];
  for (const rule of RULES) {
    // A loop, not push(...spread): a rule may report more findings than a call's argument limit.
    for (const f of rule.check(ctx)) out.push(f);
  }
  return out;
}
