/**
 * Compilation of a `detection:` block (search identifiers and condition) into one event predicate.
 */
import {
  combine,
  ConditionError,
  compileCondition,
  parseCondition,
  type CondNode,
} from './sigma-condition.js';
import {
  CompileError,
  compileFieldItem,
  compileKeywords,
  parseKey,
  type CompileOptions,
  type EventPredicate,
} from './sigma-values.js';

/** A compiled detection: the predicate and the fields it reads. */
export interface CompiledDetection {
  matches: EventPredicate;
  fields: string[];
}

const isMapValue = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A map: every field item must hold (AND). */
function compileMap(
  map: Record<string, unknown>,
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
  fields: Set<string>,
): EventPredicate {
  const keys = Object.keys(map);
  if (keys.length === 0) throw new CompileError('empty map', path);
  const preds = keys.map((key) => {
    const compiled = compileFieldItem(key, map[key], [...path, key], options);
    for (const f of compiled.fields) fields.add(f);
    return compiled.pred;
  });
  return combine(preds, true);
}

/**
 * A search identifier: a map (AND of its fields), a list whose maps are ORed and whose strings and numbers
 * are keywords (ORed with the maps), or a single keyword.
 */
export function compileSearch(
  value: unknown,
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
  fields: Set<string>,
): EventPredicate {
  if (isMapValue(value)) return compileMap(value, path, options, fields);
  if (typeof value === 'string' || typeof value === 'number')
    return compileKeywords(value, parseKey('', path), path, options);
  if (!Array.isArray(value))
    throw new CompileError('a search identifier must be a map, a list or a keyword', path);
  if (value.length === 0) throw new CompileError('empty list', path);
  const keywordIdx: number[] = [];
  const preds: EventPredicate[] = [];
  value.forEach((item: unknown, i) => {
    if (isMapValue(item)) preds.push(compileMap(item, [...path, i], options, fields));
    else if (typeof item === 'string' || typeof item === 'number') keywordIdx.push(i);
    else throw new CompileError('a list item must be a map, a string or a number', [...path, i]);
  });
  if (keywordIdx.length === value.length) {
    preds.push(compileKeywords(value, parseKey('', path), path, options));
  } else {
    for (const i of keywordIdx)
      preds.push(compileKeywords(value[i], parseKey('', [...path, i]), [...path, i], options));
  }
  return combine(preds, false);
}

/**
 * Compiles `detection` (at document path `path`). Every identifier is compiled, used or not, so that its
 * errors surface; a list of conditions is ORed. `timeframe` (Sigma 1) is refused: use a correlation rule.
 */
export function compileDetection(
  detection: unknown,
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
): CompiledDetection {
  if (!isMapValue(detection)) throw new CompileError('detection must be a map', path);
  if ('timeframe' in detection)
    throw new CompileError(`'timeframe' is not supported in detection (use a correlation rule)`, [
      ...path,
      'timeframe',
    ]);
  const condition = detection['condition'];
  if (condition === undefined) throw new CompileError('detection needs a condition', path);
  const fields = new Set<string>();
  const ids = new Map<string, EventPredicate>();
  for (const [name, value] of Object.entries(detection)) {
    if (name === 'condition') continue;
    ids.set(name, compileSearch(value, [...path, name], options, fields));
  }
  const conditions = Array.isArray(condition) ? condition : [condition];
  if (conditions.length === 0) throw new CompileError('detection needs a condition', [...path, 'condition']);
  const names = [...ids.keys()];
  const preds = conditions.map((c: unknown, i) => {
    const cpath = Array.isArray(condition) ? [...path, 'condition', i] : [...path, 'condition'];
    if (typeof c !== 'string') throw new CompileError('a condition must be a string', cpath);
    let node: CondNode;
    try {
      node = parseCondition(c, names);
    } catch (err) {
      if (err instanceof ConditionError) throw new CompileError(`condition: ${err.message}`, cpath);
      throw err;
    }
    return compileCondition(node, ids);
  });
  return { matches: combine(preds, false), fields: [...fields] };
}
