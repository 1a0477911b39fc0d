/**
 * Reads what every match of a Sigma detection must satisfy, in a domain the caller chooses: the prefilter's
 * field requirements (sigma-prefilter.ts) and the raw-line literals (sigma-literals.ts) are two such domains.
 * The walk is one: each search identifier's requirement from its selection map (a list of maps is any one of
 * them), then the condition — `and` / `all of` combine, `or` / `1 of` take what every branch shares, `not`
 * requires nothing — and several conditions are alternatives.
 */
import { parseCondition, type CondNode } from './sigma-condition.js';

/** A domain of requirements: `none` requires nothing (a rule might match anything). */
export interface RequirementDomain<R> {
  none: R;
  and(a: R, b: R): R;
  or(a: R, b: R): R;
  /** What one selection map (`field|modifiers: values`) requires. */
  map(selection: Record<string, unknown>): R;
}

export const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function searchRequirement<R>(value: unknown, d: RequirementDomain<R>): R {
  if (isMap(value)) return d.map(value);
  if (Array.isArray(value) && value.length > 0 && value.every(isMap))
    return value.map((m) => d.map(m)).reduce((acc, r) => d.or(acc, r));
  return d.none;
}

function nodeRequirement<R>(node: CondNode, ids: Map<string, R>, d: RequirementDomain<R>): R {
  const all = (rs: R[]): R => rs.reduce((acc, r) => d.and(acc, r), d.none);
  const any = (rs: R[]): R => (rs.length === 0 ? d.none : rs.reduce((acc, r) => d.or(acc, r)));
  switch (node.k) {
    case 'id':
      return ids.get(node.name) ?? d.none;
    case 'and':
      return all(node.items.map((n) => nodeRequirement(n, ids, d)));
    case 'or':
      return any(node.items.map((n) => nodeRequirement(n, ids, d)));
    case 'of': {
      const rs = node.names.map((n) => ids.get(n) ?? d.none);
      return node.all ? all(rs) : any(rs);
    }
    case 'not':
      return d.none;
  }
}

/**
 * What every match of `detection` requires, or null when it cannot be read (not a map, no condition, or a
 * condition that does not parse). Call it on a detection that compiled.
 */
export function detectionRequirement<R>(detection: unknown, d: RequirementDomain<R>): R | null {
  if (!isMap(detection)) return null;
  const ids = new Map<string, R>();
  for (const [name, value] of Object.entries(detection))
    if (name !== 'condition') ids.set(name, searchRequirement(value, d));
  const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition];
  let req: R | undefined;
  for (const c of conditions) {
    if (typeof c !== 'string') return null;
    let node: CondNode;
    try {
      node = parseCondition(c, [...ids.keys()]);
    } catch {
      return null;
    }
    const r = nodeRequirement(node, ids, d);
    req = req === undefined ? r : d.or(req, r);
  }
  return req ?? null;
}
