/**
 * What a rule requires of one field, read from its detection: `eventName: [CreateUser, CreateAccessKey]` in a
 * selection every match must satisfy means the rule can only match events whose eventName is one of those
 * (compared without case, as Sigma compares). The runner indexes rules by such requirements, so an event is
 * tested only against the rules that could match it instead of every rule of its log source.
 *
 * The analysis is conservative: only a field with no modifier and plain strings (no wildcard, no escape) is a
 * requirement; `not`, keywords and anything unrecognised give none; `or` keeps a field only when every branch
 * requires it. A rule without a requirement is simply tested against every event, as before.
 */
import { parseCondition, type CondNode } from './sigma-condition.js';

/** A field and the values (lower case) one of which it must have for the rule to match. */
export interface Prefilter {
  field: string;
  values: string[];
}

type Req = Map<string, Set<string>> | null;

/** Fields preferred for the index, most selective first for the sources Keyward reads. */
const PREFERRED = ['eventName', 'type', 'action', 'verb', 'eventSource', 'objectRef.resource'];

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A plain string Sigma compares for equality: no wildcard and no escape. */
const plain = (v: unknown): v is string => typeof v === 'string' && v !== '' && !/[*?\\]/.test(v);

function mapReq(map: Record<string, unknown>): Req {
  const req = new Map<string, Set<string>>();
  for (const [key, value] of Object.entries(map)) {
    if (key.includes('|') || key === '') continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0 || !values.every(plain)) continue;
    req.set(key, new Set(values.map((v) => v.toLowerCase())));
  }
  return req;
}

/** Both must hold: every field of either, values intersected where both name it. */
function and(a: Req, b: Req): Req {
  if (a === null) return b;
  if (b === null) return a;
  const out = new Map(a);
  for (const [field, values] of b) {
    const mine = out.get(field);
    out.set(field, mine ? new Set([...mine].filter((v) => values.has(v))) : values);
  }
  return out;
}

/** Either holds: only fields both name, values united. */
function or(a: Req, b: Req): Req {
  if (a === null || b === null) return null;
  const out = new Map<string, Set<string>>();
  for (const [field, values] of a) {
    const theirs = b.get(field);
    if (theirs) out.set(field, new Set([...values, ...theirs]));
  }
  return out;
}

function searchReq(value: unknown): Req {
  if (isMap(value)) return mapReq(value);
  if (Array.isArray(value) && value.length > 0 && value.every(isMap)) {
    return value.map((m) => mapReq(m)).reduce((acc, r) => or(acc, r));
  }
  return null;
}

function nodeReq(node: CondNode, ids: Map<string, Req>): Req {
  switch (node.k) {
    case 'id':
      return ids.get(node.name) ?? null;
    case 'and':
      return node.items.map((n) => nodeReq(n, ids)).reduce((acc, r) => and(acc, r), null as Req);
    case 'or':
      return node.items.map((n) => nodeReq(n, ids)).reduce((acc, r) => or(acc, r));
    case 'of': {
      const reqs = node.names.map((n) => ids.get(n) ?? null);
      return node.all
        ? reqs.reduce((acc, r) => and(acc, r), null as Req)
        : reqs.reduce((acc, r) => or(acc, r));
    }
    case 'not':
      return null;
  }
}

/**
 * The requirement a detection puts on one field, or null when none can be read from it. Call it on a
 * detection that compiled (its condition parses).
 */
export function detectionPrefilter(detection: unknown): Prefilter | null {
  if (!isMap(detection)) return null;
  const ids = new Map<string, Req>();
  for (const [name, value] of Object.entries(detection))
    if (name !== 'condition') ids.set(name, searchReq(value));
  const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition];
  let req: Req | undefined;
  for (const c of conditions) {
    if (typeof c !== 'string') return null;
    let node: CondNode;
    try {
      node = parseCondition(c, [...ids.keys()]);
    } catch {
      return null;
    }
    const r = nodeReq(node, ids);
    req = req === undefined ? r : or(req, r);
  }
  if (!req || req.size === 0) return null;
  const fields = [...req.keys()].sort((x, y) => {
    const px = PREFERRED.indexOf(x);
    const py = PREFERRED.indexOf(y);
    if (px !== py) return (px === -1 ? 99 : px) - (py === -1 ? 99 : py);
    return req.get(x)!.size - req.get(y)!.size;
  });
  const field = fields[0]!;
  return { field, values: [...req.get(field)!].sort() };
}
