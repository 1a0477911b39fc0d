/** Posture: findings mapped to the OWASP NHI Top 10 (2025), risk scores, and identity graphs. */
export { POSTURE_RULES, evaluatePosture } from './posture-engine.js';
export { computeRiskScores, computeIdentityRisk, SEVERITY_POINTS } from './risk-score.js';
export { postureScore, openFindingWeights, type PostureScoreInput } from './posture-score.js';
export {
  buildIdentityGraph,
  type IdentityGraph,
  type IdentityGraphNode,
  type IdentityGraphEdge,
  type IdentityGraphIdentityNode,
  type IdentityGraphCredentialNode,
  type IdentityGraphGrantNode,
  type IdentityGraphResourceNode,
  type IdentityGraphPatternNode,
} from './identity-graph.js';
export { matchesPattern } from '../../core/glob-match.js';
export { isProductionEnvironment } from './posture-context.js';
export { findingId } from './posture-rule.js';
export {
  postureConfigSchema,
  DEFAULT_POSTURE_CONFIG,
  type PostureConfig,
  type PostureRuleMeta,
  type RiskBreakdown,
  type RiskFactor,
} from './posture-types.js';
