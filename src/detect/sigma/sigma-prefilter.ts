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
import { detectionRequirement } from './sigma-requirement.js';

/** A field and the values (lower case) one of which it must have for the rule to match. */
export interface Prefilter {
  field: string;
  values: string[];
}

type Req = Map<string, Set<string>> | null;

/** Fields preferred for the index, most selective first for the sources Keyward reads. */
const PREFERRED = ['eventName', 'type', 'action', 'verb', 'eventSource', 'objectRef.resource'];

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

/**
 * The requirement a detection puts on one field, or null when none can be read from it. Call it on a
 * detection that compiled (its condition parses).
 */
export function detectionPrefilter(detection: unknown): Prefilter | null {
  const req = detectionRequirement<Req>(detection, { none: null, and, or, map: mapReq });
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
