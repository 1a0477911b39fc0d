/** Sigma correlations: loader and streaming engine. Semantics: docs/correlation-semantics.md. */
export type {
  CorrelationRule,
  CorrelationRef,
  CorrelationType,
  Criterion,
  BoolExpr,
  Baseline,
  BaselineKind,
} from './correlation-types.js';
export { parseCorrelationRules, type KnownRules } from './parse.js';
export {
  createCorrelationEngine,
  correlationAlertId,
  type CorrelationEngine,
  type CorrelationEngineOptions,
  type CorrelationStats,
} from './engine.js';
export { parseTimespan, formatDuration } from './duration.js';
