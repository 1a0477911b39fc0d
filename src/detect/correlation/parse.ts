/**
 * parseCorrelationRules: Sigma correlation documents (RawRuleDoc) → CorrelationRule, with every reference
 * resolved (to detection rules or other correlations), aliases applied per rule, and cycles refused.
 */
import { LEVELS, type Level, type RawRuleDoc, type RuleLoadError, type RuleMeta } from '../detect-types.js';
import {
  CONDITION_OPS,
  CORRELATION_TYPES,
  type ConditionOp,
  type CorrelationRef,
  type CorrelationRule,
  type CorrelationType,
  type Criterion,
  BASELINE_KINDS,
  type Baseline,
  type BaselineKind,
} from './correlation-types.js';
import { parseTimespan } from './duration.js';
import { hasNegation, parseBoolExpr } from './expr.js';

/** Rules correlations may refer to (detection rules loaded by the Sigma loader). */
export interface KnownRules {
  rules: Array<{ id: string; name: string | null; title?: string }>;
}

const CORRELATION_KEYS = new Set([
  'type',
  'rules',
  'group-by',
  'timespan',
  'condition',
  'aliases',
  'generate',
]);
const KEYWARD_KEYS = new Set(['absence', 'until', 'suppress', 'missingGroupBy', 'percentile', 'baseline']);
const VALUE_TYPES = new Set<CorrelationType>(['value_count', 'value_sum', 'value_avg', 'value_percentile']);

class DocError extends Error {
  constructor(
    readonly path: Array<string | number>,
    message: string,
  ) {
    super(message);
  }
}

/** A correlation as read, before references are resolved. */
interface Draft {
  raw: RawRuleDoc;
  rule: CorrelationRule;
  refsWritten: string[];
  aliases: Map<string, Map<string, string>>;
  conditionText: string | null;
  fieldWritten: string[];
}

/**
 * Loads correlation documents. Returns the rules that loaded and one error per document that did not (with
 * file, line and field); a correlation that refers to an unknown rule, to a correlation that failed, or that
 * takes part in a reference cycle is refused.
 */
export function parseCorrelationRules(
  docs: RawRuleDoc[],
  known: KnownRules,
): { rules: CorrelationRule[]; errors: RuleLoadError[] } {
  const errors: RuleLoadError[] = [];
  const fail = (raw: RawRuleDoc, path: Array<string | number>, message: string): void => {
    errors.push({
      file: raw.file,
      line: raw.lineOf(path) ?? raw.lineOf([]) ?? null,
      field: path.length ? path.join('.') : null,
      message,
    });
  };

  const drafts: Draft[] = [];
  for (const raw of docs) {
    try {
      drafts.push(readDraft(raw));
    } catch (e) {
      if (e instanceof DocError) fail(raw, e.path, e.message);
      else throw e;
    }
  }

  // Index detection rules and correlations by id and name; duplicates among correlations are refused.
  const detectionById = new Map<string, { id: string; name: string | null; title?: string }>();
  const detectionByName = new Map<string, { id: string; name: string | null; title?: string }>();
  for (const r of known.rules) {
    detectionById.set(r.id, r);
    if (r.name !== null) detectionByName.set(r.name, r);
  }
  const byRef = new Map<string, Draft>();
  const live: Draft[] = [];
  for (const d of drafts) {
    const { id, name } = d.rule;
    if (byRef.has(id) || detectionById.has(id)) {
      fail(d.raw, ['id'], `duplicate rule id "${id}"`);
      continue;
    }
    if (name !== null && (byRef.has(name) || detectionByName.has(name))) {
      fail(d.raw, ['name'], `duplicate rule name "${name}"`);
      continue;
    }
    byRef.set(id, d);
    if (name !== null) byRef.set(name, d);
    live.push(d);
  }

  // Resolve references; a correlation referring to an unknown rule fails.
  const resolved = new Map<Draft, Draft[]>();
  let ok: Draft[] = [];
  for (const d of live) {
    try {
      resolved.set(d, resolveRefs(d, byRef, detectionById, detectionByName));
      ok.push(d);
    } catch (e) {
      if (e instanceof DocError) fail(d.raw, e.path, e.message);
      else throw e;
    }
  }

  // Cycles: a correlation that reaches itself through references is refused.
  const inCycle = findCycles(ok, resolved);
  for (const d of inCycle) {
    fail(d.raw, ['correlation', 'rules'], `reference cycle: ${cyclePath(d, resolved).join(' → ')}`);
  }
  ok = ok.filter((d) => !inCycle.has(d));

  // A correlation referring to one that failed fails too (until nothing changes).
  for (let changed = true; changed;) {
    changed = false;
    const okSet = new Set(ok);
    for (const d of ok) {
      const bad = resolved.get(d)!.find((up) => !okSet.has(up));
      if (bad) {
        fail(
          d.raw,
          ['correlation', 'rules'],
          `refers to correlation "${bad.rule.name ?? bad.rule.id}", which did not load`,
        );
        ok = ok.filter((x) => x !== d);
        changed = true;
        break;
      }
    }
  }

  // emit: a correlation consumed only by correlations that do not `generate` does not alert on its own.
  const referrers = new Map<Draft, Draft[]>();
  for (const d of ok) for (const up of resolved.get(d)!) referrers.set(up, [...(referrers.get(up) ?? []), d]);
  for (const d of ok) {
    const by = referrers.get(d);
    d.rule.emit = by === undefined || by.some((r) => r.rule.generate);
  }
  return { rules: ok.map((d) => d.rule), errors };
}

function resolveRefs(
  d: Draft,
  byRef: Map<string, Draft>,
  detectionById: Map<string, { id: string; name: string | null; title?: string }>,
  detectionByName: Map<string, { id: string; name: string | null; title?: string }>,
): Draft[] {
  const upstream: Draft[] = [];
  const refs: CorrelationRef[] = d.refsWritten.map((ref, i) => {
    const det = detectionById.get(ref) ?? detectionByName.get(ref);
    const cor = byRef.get(ref);
    if (det && cor)
      throw new DocError(
        ['correlation', 'rules', i],
        `"${ref}" names both a detection rule and a correlation`,
      );
    if (cor) {
      upstream.push(cor);
      return {
        ref,
        id: cor.rule.id,
        name: cor.rule.name,
        title: cor.rule.title,
        kind: 'correlation',
        groupFields: [],
        valueFields: [],
      };
    }
    if (det)
      return {
        ref,
        id: det.id,
        name: det.name,
        title: det.title ?? null,
        kind: 'detection',
        groupFields: [],
        valueFields: [],
      };
    throw new DocError(
      ['correlation', 'rules', i],
      `unknown rule "${ref}" (no detection rule or correlation has this id or name)`,
    );
  });
  const ids = new Set<string>();
  refs.forEach((r, i) => {
    if (ids.has(r.id)) throw new DocError(['correlation', 'rules', i], `rule "${r.ref}" is listed twice`);
    ids.add(r.id);
  });

  // Aliases: keys of each alias are names (or ids) of referenced rules; every referenced rule needs one.
  const fieldFor = (r: CorrelationRef, name: string, path: Array<string | number>): string => {
    const alias = d.aliases.get(name);
    if (!alias) return name;
    const f = alias.get(r.id) ?? (r.name !== null ? alias.get(r.name) : undefined) ?? alias.get(r.ref);
    if (f === undefined) throw new DocError(path, `alias "${name}" gives no field for rule "${r.ref}"`);
    return f;
  };
  for (const [alias, map] of d.aliases) {
    for (const key of map.keys()) {
      if (!refs.some((r) => r.id === key || r.name === key || r.ref === key)) {
        throw new DocError(
          ['correlation', 'aliases', alias, key],
          `alias "${alias}" names "${key}", which is not one of the correlation's rules`,
        );
      }
    }
  }
  for (const r of refs) {
    r.groupFields = d.rule.groupBy.map((g, i) => fieldFor(r, g, ['correlation', 'group-by', i]));
    r.valueFields = d.fieldWritten.map((f) => fieldFor(r, f, ['correlation', 'condition', 'field']));
  }
  d.rule.refs = refs;

  if (d.conditionText !== null) {
    const resolve = (name: string): number =>
      refs.findIndex((r) => r.ref === name || r.id === name || r.name === name);
    try {
      d.rule.expr = parseBoolExpr(d.conditionText, resolve);
    } catch (e) {
      throw new DocError(['correlation', 'condition'], (e as Error).message);
    }
  }
  if (d.rule.absence && refs.length < 2) {
    throw new DocError(
      ['keyward', 'absence'],
      'keyward.absence needs at least two rules (the last one is the absent one)',
    );
  }
  if (d.rule.type === 'temporal' && d.rule.criteria.length === 0 && d.rule.expr === null) {
    d.rule.criteria = [{ op: 'gte', value: refs.length }];
  }
  return upstream;
}

function findCycles(drafts: Draft[], edges: Map<Draft, Draft[]>): Set<Draft> {
  const inCycle = new Set<Draft>();
  for (const start of drafts) {
    // Does start reach itself?
    const seen = new Set<Draft>();
    const stack = [...(edges.get(start) ?? [])];
    while (stack.length) {
      const d = stack.pop()!;
      if (d === start) {
        inCycle.add(start);
        break;
      }
      if (seen.has(d)) continue;
      seen.add(d);
      stack.push(...(edges.get(d) ?? []));
    }
  }
  return inCycle;
}

function cyclePath(start: Draft, edges: Map<Draft, Draft[]>): string[] {
  const label = (d: Draft): string => d.rule.name ?? d.rule.id;
  const walk = (d: Draft, path: Draft[]): Draft[] | null => {
    for (const next of edges.get(d) ?? []) {
      if (next === start) return [...path, next];
      if (path.includes(next)) continue;
      const found = walk(next, [...path, next]);
      if (found) return found;
    }
    return null;
  };
  return [start, ...(walk(start, []) ?? [])].map(label);
}

// ---------------------------------------------------------------------------------------------------------
// Reading one document

function readDraft(raw: RawRuleDoc): Draft {
  const doc = raw.doc;
  const title = doc.title;
  if (typeof title !== 'string' || title.trim() === '')
    throw new DocError(['title'], 'title is required (a string)');
  const c = doc.correlation;
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    throw new DocError(['correlation'], 'correlation must be a mapping');
  const corr = c as Record<string, unknown>;
  for (const k of Object.keys(corr)) {
    if (!CORRELATION_KEYS.has(k)) throw new DocError(['correlation', k], `unknown correlation field "${k}"`);
  }

  const type = corr.type;
  if (typeof type !== 'string' || !(CORRELATION_TYPES as readonly string[]).includes(type)) {
    throw new DocError(['correlation', 'type'], `type must be one of ${CORRELATION_TYPES.join(', ')}`);
  }
  const ctype = type as CorrelationType;

  const rulesRaw = corr.rules;
  if (!Array.isArray(rulesRaw) || rulesRaw.length === 0) {
    throw new DocError(['correlation', 'rules'], 'rules must be a non-empty list of rule ids or names');
  }
  const refsWritten = rulesRaw.map((r, i) => {
    if (typeof r !== 'string' || r === '')
      throw new DocError(['correlation', 'rules', i], 'a rule reference must be a non-empty string');
    return r;
  });

  const groupBy = readStringList(corr['group-by'], ['correlation', 'group-by'], 'group-by') ?? [];
  if (new Set(groupBy).size !== groupBy.length)
    throw new DocError(['correlation', 'group-by'], 'group-by lists a field twice');

  const timespanMs = parseTimespan(corr.timespan);
  if (timespanMs === null) {
    throw new DocError(
      ['correlation', 'timespan'],
      'timespan must be a positive integer followed by s, m, h, d or w (e.g. 10m)',
    );
  }

  const aliases = readAliases(corr.aliases);
  const kw = readKeyward(doc.keyward, ctype);
  const { criteria, field, conditionText } =
    kw.baseline && corr.condition === undefined
      ? { criteria: [], field: [kw.baseline.field], conditionText: null }
      : readCondition(ctype, corr.condition);
  if (kw.baseline) {
    const per = (doc.keyward as Record<string, Record<string, unknown>>).baseline!.per;
    const perList =
      per === undefined
        ? groupBy
        : typeof per === 'string'
          ? [per]
          : readStringList(per, ['keyward', 'baseline', 'per'], 'per');
    if (!perList || perList.join('\n') !== groupBy.join('\n')) {
      throw new DocError(
        ['keyward', 'baseline', 'per'],
        "baseline.per must name the correlation's group-by fields (the identity)",
      );
    }
    if (corr.condition !== undefined)
      throw new DocError(['correlation', 'condition'], 'a baseline correlation takes no condition');
    field.splice(0, field.length, kw.baseline.field);
  }

  const generate = corr.generate ?? false;
  if (typeof generate !== 'boolean')
    throw new DocError(['correlation', 'generate'], 'generate must be true or false');

  if (conditionText !== null && ctype !== 'temporal') {
    throw new DocError(
      ['correlation', 'condition'],
      'a boolean condition is only allowed for temporal correlations',
    );
  }
  if (ctype === 'temporal_ordered' && criteria.length > 0) {
    throw new DocError(
      ['correlation', 'condition'],
      'temporal_ordered takes no condition: every rule must occur, in order',
    );
  }

  const rule: CorrelationRule = {
    ...readMeta(raw),
    kind: 'correlation',
    type: ctype,
    refs: [],
    groupBy,
    timespanMs,
    timespan: corr.timespan as string,
    criteria,
    expr: null,
    field,
    percentile: kw.percentile,
    generate,
    emit: true,
    absence: kw.absence,
    untilMs: kw.untilMs,
    suppressMs: kw.suppressMs,
    missingGroupBy: kw.missingGroupBy,
    baseline: kw.baseline,
  };
  return { raw, rule, refsWritten, aliases, conditionText, fieldWritten: field };
}

function readMeta(raw: RawRuleDoc): RuleMeta {
  const doc = raw.doc;
  const optString = (key: string): string | null => {
    const v = doc[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw new DocError([key], `${key} must be a string`);
    return v;
  };
  const level = doc.level ?? 'medium';
  if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
    throw new DocError(['level'], `level must be one of ${LEVELS.join(', ')}`);
  }
  const id = optString('id') ?? `${raw.file}#${raw.index}`;
  const fp = doc.falsepositives;
  const keyward = doc.keyward;
  return {
    id,
    name: optString('name'),
    title: doc.title as string,
    description: optString('description'),
    level: level as Level,
    status: optString('status'),
    tags: readStringList(doc.tags, ['tags'], 'tags') ?? [],
    author: optString('author'),
    references: readStringList(doc.references, ['references'], 'references') ?? [],
    falsepositives:
      typeof fp === 'string' ? [fp] : (readStringList(fp, ['falsepositives'], 'falsepositives') ?? []),
    location: { file: raw.file, line: raw.lineOf([]) ?? 1 },
    keyward: keyward !== null && typeof keyward === 'object' ? (keyward as Record<string, unknown>) : {},
  };
}

function readStringList(v: unknown, path: Array<string | number>, what: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new DocError(path, `${what} must be a list of strings`);
  return v.map((x, i) => {
    if (typeof x !== 'string' || x === '')
      throw new DocError([...path, i], `${what} must be a list of non-empty strings`);
    return x;
  });
}

function readAliases(v: unknown): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new DocError(['correlation', 'aliases'], 'aliases must be a mapping');
  for (const [alias, m] of Object.entries(v as Record<string, unknown>)) {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw new DocError(
        ['correlation', 'aliases', alias],
        `alias "${alias}" must map rule names to field names`,
      );
    }
    const map = new Map<string, string>();
    for (const [rule, field] of Object.entries(m as Record<string, unknown>)) {
      if (typeof field !== 'string' || field === '') {
        throw new DocError(
          ['correlation', 'aliases', alias, rule],
          `alias "${alias}" must give a field name for "${rule}"`,
        );
      }
      map.set(rule, field);
    }
    out.set(alias, map);
  }
  return out;
}

function readCondition(
  type: CorrelationType,
  v: unknown,
): { criteria: Criterion[]; field: string[]; conditionText: string | null } {
  const path = ['correlation', 'condition'];
  const needsField = VALUE_TYPES.has(type);
  if (v === undefined || v === null) {
    if (type === 'temporal' || type === 'temporal_ordered')
      return { criteria: [], field: [], conditionText: null };
    throw new DocError(path, `${type} requires a condition`);
  }
  if (typeof v === 'string') return { criteria: [], field: [], conditionText: v };
  if (typeof v !== 'object' || Array.isArray(v))
    throw new DocError(path, 'condition must be a mapping (gt, gte, lt, lte, eq, neq)');
  const criteria: Criterion[] = [];
  let field: string[] = [];
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'field') {
      if (!needsField)
        throw new DocError(
          [...path, 'field'],
          `field is only allowed for value_count, value_sum, value_avg and value_percentile`,
        );
      if (typeof val === 'string' && val !== '') field = [val];
      else if (
        type === 'value_count' &&
        Array.isArray(val) &&
        val.length > 0 &&
        val.every((x) => typeof x === 'string' && x !== '')
      )
        field = val as string[];
      else
        throw new DocError(
          [...path, 'field'],
          type === 'value_count'
            ? 'field must be a field name or a list of them'
            : 'field must be a field name',
        );
      continue;
    }
    if (!(CONDITION_OPS as readonly string[]).includes(k)) {
      throw new DocError([...path, k], `unknown condition operator "${k}" (gt, gte, lt, lte, eq, neq)`);
    }
    if (typeof val !== 'number' || !Number.isFinite(val))
      throw new DocError([...path, k], `${k} must be a number`);
    criteria.push({ op: k as ConditionOp, value: val });
  }
  if (criteria.length === 0)
    throw new DocError(path, 'condition needs at least one of gt, gte, lt, lte, eq, neq');
  if (needsField && field.length === 0) throw new DocError(path, `${type} requires condition.field`);
  return { criteria, field, conditionText: null };
}

interface KeywardOptions {
  absence: boolean;
  untilMs: number | null;
  suppressMs: number;
  missingGroupBy: 'skip' | 'null';
  percentile: number;
  baseline: Baseline | null;
}

function readBaseline(v: unknown, type: CorrelationType): Baseline {
  const path = ['keyward', 'baseline'];
  if (type !== 'event_count') throw new DocError(path, 'baseline applies to event_count correlations');
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new DocError(path, 'baseline must be a mapping');
  const b = v as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['field', 'per', 'history', 'kinds', 'learning'].includes(k))
      throw new DocError([...path, k], `unknown baseline field "${k}"`);
  }
  if (typeof b.field !== 'string' || b.field === '')
    throw new DocError([...path, 'field'], 'baseline.field must be a field name');
  const historyMs = parseTimespan(b.history ?? '30d');
  if (historyMs === null)
    throw new DocError([...path, 'history'], 'baseline.history must be a timespan (e.g. 30d)');
  const learningMs = parseTimespan(b.learning ?? '1d');
  if (learningMs === null)
    throw new DocError([...path, 'learning'], 'baseline.learning must be a timespan (e.g. 1d)');
  const kinds = b.kinds ?? ['new_value'];
  if (
    !Array.isArray(kinds) ||
    kinds.length === 0 ||
    !kinds.every((k) => (BASELINE_KINDS as readonly unknown[]).includes(k))
  ) {
    throw new DocError([...path, 'kinds'], `baseline.kinds must list some of ${BASELINE_KINDS.join(', ')}`);
  }
  return { field: b.field, historyMs, kinds: [...new Set(kinds as BaselineKind[])], learningMs };
}

function readKeyward(v: unknown, type: CorrelationType): KeywardOptions {
  const out: KeywardOptions = {
    absence: false,
    untilMs: null,
    suppressMs: 0,
    missingGroupBy: 'skip',
    percentile: 50,
    baseline: null,
  };
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) throw new DocError(['keyward'], 'keyward must be a mapping');
  const kw = v as Record<string, unknown>;
  for (const k of Object.keys(kw)) {
    if (!KEYWARD_KEYS.has(k)) throw new DocError(['keyward', k], `unknown Keyward extension "${k}"`);
  }
  if (kw.baseline !== undefined) out.baseline = readBaseline(kw.baseline, type);
  if (kw.absence !== undefined) {
    if (typeof kw.absence !== 'boolean')
      throw new DocError(['keyward', 'absence'], 'absence must be true or false');
    if (kw.absence && type !== 'temporal_ordered') {
      throw new DocError(
        ['keyward', 'absence'],
        'absence applies to temporal_ordered correlations (rule A not followed by rule B)',
      );
    }
    out.absence = kw.absence;
  }
  if (kw.until !== undefined) {
    const u = kw.until;
    const ms =
      u instanceof Date
        ? u.getTime()
        : typeof u === 'string' && /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(u)
          ? Date.parse(u)
          : NaN;
    if (!Number.isFinite(ms))
      throw new DocError(
        ['keyward', 'until'],
        'until must be a date or date-time (ISO 8601, e.g. 2025-12-31T00:00:00Z)',
      );
    out.untilMs = ms;
  }
  if (kw.suppress !== undefined) {
    const ms = parseTimespan(kw.suppress);
    if (ms === null) throw new DocError(['keyward', 'suppress'], 'suppress must be a timespan (e.g. 1h)');
    out.suppressMs = ms;
  }
  if (kw.missingGroupBy !== undefined) {
    if (kw.missingGroupBy !== 'skip' && kw.missingGroupBy !== 'null') {
      throw new DocError(['keyward', 'missingGroupBy'], 'missingGroupBy must be skip or null');
    }
    out.missingGroupBy = kw.missingGroupBy;
  }
  if (kw.percentile !== undefined) {
    const p = kw.percentile;
    if (type !== 'value_percentile')
      throw new DocError(['keyward', 'percentile'], 'percentile applies to value_percentile correlations');
    if (typeof p !== 'number' || !(p >= 0 && p <= 100))
      throw new DocError(['keyward', 'percentile'], 'percentile must be a number from 0 to 100');
    out.percentile = p;
  }
  return out;
}

/** Exported for tests and the engine: true when the criteria can only be decided on a complete window. */
export function isLowerBoundOnly(criteria: Criterion[]): boolean {
  return criteria.length > 0 && criteria.every((c) => c.op === 'gt' || c.op === 'gte');
}

/** True when a temporal boolean condition needs a complete window (it has `not`). */
export { hasNegation };
