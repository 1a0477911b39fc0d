/**
 * Loaded Sigma correlation rules (spec v2.1 plus the temporal boolean condition and Keyward extensions), as
 * parseCorrelationRules builds them and createCorrelationEngine runs them. See docs/correlation-semantics.md.
 */
import type { RuleMeta } from '../detect-types.js';

/** Sigma correlation types (v2.1). */
export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

/** Comparison operators of a correlation condition. */
export const CONDITION_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

/** One criterion of a condition; all criteria of a condition must hold (a range is `gt` + `lte`). */
export interface Criterion {
  op: ConditionOp;
  value: number;
}

/** A boolean expression over the rules of a temporal correlation (`a and b and not c`). */
export type BoolExpr =
  | { kind: 'ref'; index: number }
  | { kind: 'not'; operand: BoolExpr }
  | { kind: 'and' | 'or'; operands: BoolExpr[] };

/** A rule a correlation refers to, resolved at load. */
export interface CorrelationRef {
  /** As written in `rules` (an id or a name). */
  ref: string;
  /** The id of the rule it resolves to. */
  id: string;
  /** The rule's name, or null. */
  name: string | null;
  /** The rule's title when known at load (what alerts call it, also for a step that never matched). */
  title?: string | null;
  kind: 'detection' | 'correlation';
  /** The field to read for each group-by entry from events of this rule (aliases applied). */
  groupFields: string[];
  /** The field(s) to read for `condition.field` (aliases applied); empty unless a value_* type. */
  valueFields: string[];
}

/** A loaded correlation rule. */
export interface CorrelationRule extends RuleMeta {
  kind: 'correlation';
  type: CorrelationType;
  refs: CorrelationRef[];
  /** Group-by names as written (alias names where aliases are used). */
  groupBy: string[];
  timespanMs: number;
  /** The timespan as written (`10m`). */
  timespan: string;
  /** Count / value criteria (all must hold); for temporal without a condition: `gte` the number of rules. */
  criteria: Criterion[];
  /** The v2.2-style boolean condition of a temporal correlation, or null. */
  expr: BoolExpr | null;
  /** `condition.field` of value_* types (one or more for value_count), else empty. */
  field: string[];
  /** value_percentile: which percentile (0–100) is compared (keyward.percentile, default 50). */
  percentile: number;
  /** Sigma `generate`: referenced rules also alert on their own. */
  generate: boolean;
  /** False when only other correlations consume this rule's results (referenced and no referrer generates). */
  emit: boolean;
  /** keyward.absence: temporal_ordered whose last rule must NOT follow the others within the timespan. */
  absence: boolean;
  /** keyward.until: the rule ignores events at or after this time (epoch ms), or null. */
  untilMs: number | null;
  /** keyward.suppress: after an alert, further alerts for the same key within this many ms are suppressed. */
  suppressMs: number;
  /** keyward.missingGroupBy: what a match without a group-by field does (default skip). */
  missingGroupBy: 'skip' | 'null';
  /** keyward.baseline: first-seen detection per group key, or null. */
  baseline: Baseline | null;
}

/** What a first-seen baseline compares: the value, its network (/24, /64), or the UTC hour of the event. */
export const BASELINE_KINDS = ['new_value', 'new_network', 'new_hour'] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

/** keyward.baseline: alert when an identity (the group key) shows a value it has not shown within `historyMs`. */
export interface Baseline {
  /** The field as written (aliases resolve per rule into CorrelationRef.valueFields). */
  field: string;
  historyMs: number;
  kinds: BaselineKind[];
  /** A key alerts only once it has been observed this long (its first events build the baseline). */
  learningMs: number;
}
