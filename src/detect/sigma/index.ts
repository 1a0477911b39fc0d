/**
 * The Sigma part of the detection engine: loading rule files, compiling detection rules and filters, and
 * handing correlation documents on. See README.md in this directory for the exact matching semantics.
 */
export {
  checkRules,
  loadRules,
  loadRuleTexts,
  summarizeLoad,
  type CheckReport,
  type DocumentKind,
  type DocumentStatus,
  type FileCheck,
  type LoadOptions,
  type LoadResult,
  type SigmaFilter,
} from './sigma-loader.js';
export { ConditionError, parseCondition, type CondNode } from './sigma-condition.js';
export { CompileError } from './sigma-values.js';
export { compileAccessor } from './sigma-field.js';
