/**
 * Text a rule's matches must contain, read from its detection, for the raw-line prefilter
 * (src/detect/line-prefilter.ts): a reader can pass over a line of JSON in which no loaded rule's required
 * text occurs without parsing it.
 *
 * A rule's requirement is a list of clauses that must all hold; a clause holds when the lower-cased line
 * contains at least one of its literals. `eventName: [CreateUser, CreateAccessKey]` in a selection every match
 * needs gives the clause `"createuser"` or `"createaccesskey"` (a string value is written between quotes in
 * JSON); `eventName|endswith: Trail` gives `trail"`, `|startswith: Get` gives `"get`, `|contains: x` gives
 * `x`. Every literal is lower-case ASCII: found without case in an ASCII line whenever it is in the
 * lower-cased value (a line with a backslash or a character outside ASCII is never passed over).
 *
 * The analysis is conservative — leaving a clause out only lets more lines through: only a field with no
 * modifier or with `contains`/`startswith`/`endswith`/`all`/`cased` and plain string values (no wildcard,
 * no escape, ASCII), a `re` (its required literal, requiredLiteral) or an IPv4 `cidr` (`"203.0.113.` for a
 * /24) gives a clause; a value a number could print as (`123`, `1e3`) gives none, one a boolean could
 * (a piece of `true`/`false`) is left unquoted; `not`, keywords and anything unrecognised give none;
 * `a or b` keeps, for each clause of a and each of b, their union.
 */
import { detectionRequirement } from './sigma-requirement.js';
import { ipv4ToNumber, requiredLiteral } from './sigma-values.js';

/** One clause: the line must contain one of `literals`; `fields` are the fields they were read from. */
export interface LiteralClause {
  fields: string[];
  literals: string[];
}

/** Clauses that must all hold; the empty list requires nothing. */
type Cnf = LiteralClause[];

/** At most this many clauses are kept per rule (the fewest literals first): dropping one only widens. */
const MAX_CLAUSES = 16;

const SHAPES = new Set(['contains', 'startswith', 'endswith']);
const ALLOWED_MODS = new Set([...SHAPES, 'all', 'cased']);

/** Printable ASCII without a quote or backslash (those are escaped in JSON), and no Sigma wildcard. */
const SAFE_TEXT = /^[\x20-\x21\x23-\x29\x2b-\x3e\x40-\x5b\x5d-\x7e]+$/;
/** Text a number could print as (String(n) for a JSON number written another way: `1e3` is `1000`). */
const NUMBER_TEXT = /^[0-9.e+-]+$/;

/**
 * The literal a value gives for a shape (null: equality), lower case, or null when it gives none. Text that
 * could be a boolean's (a piece of `true`/`false`: booleans are matched as their text) is left unquoted.
 */
export function valueLiteral(value: unknown, shape: string | null): string | null {
  if (typeof value !== 'string' || !SAFE_TEXT.test(value)) return null;
  const v = value.toLowerCase();
  if (NUMBER_TEXT.test(v)) return null;
  if (shape === 'contains' || 'true'.includes(v) || 'false'.includes(v)) return v;
  if (shape === 'startswith') return `"${v}`;
  if (shape === 'endswith') return `${v}"`;
  return `"${v}"`;
}

/**
 * A regex's literal: text every match contains (requiredLiteral), unquoted. Not under `|i` when it has a k
 * or an s (RE2 folds them with the Kelvin sign and the long s; a line with those is read anyway, being
 * non-ASCII, but the rule stays the regex predicate's own).
 */
function regexLiteral(value: unknown, caseless: boolean): string | null {
  if (typeof value !== 'string') return null;
  const lit = requiredLiteral(value);
  if (lit === null || (caseless && /[ks]/i.test(lit))) return null;
  return valueLiteral(lit, 'contains');
}

/**
 * An IPv4 CIDR range's literal: the whole octets of its prefix, after an opening quote (`"203.0.113.` for
 * 203.0.113.0/24). A v4 range only matches a string in strict dotted-quad form (ipv4ToNumber: no leading
 * zeros), whose leading octets are written exactly so. None for IPv6 or a prefix under 8.
 */
function cidrLiteral(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const [addr = '', prefixText] = value.split('/');
  const n = ipv4ToNumber(addr);
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (n === null || !Number.isInteger(prefix) || prefix < 8 || prefix > 32) return null;
  const octets = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255].slice(0, Math.min(3, Math.floor(prefix / 8)));
  return `"${octets.join('.')}.`;
}

/** The clauses one `field|mods: values` entry gives. */
function keyClauses(key: string, value: unknown): Cnf {
  const [field = '', ...mods] = key.split('|');
  if (field === '') return [];
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) return [];
  const clause = (literals: Array<string | null>): Cnf =>
    literals.every((l): l is string => l !== null)
      ? [{ fields: [field], literals: [...new Set(literals)].sort() }]
      : [];
  // A list of ranges or regexes: one of them.
  if (mods.length === 1 && mods[0] === 'cidr') return clause(values.map(cidrLiteral));
  if (mods[0] === 're' && mods.slice(1).every((m) => ['i', 'm', 's'].includes(m))) {
    return clause(values.map((v) => regexLiteral(v, mods.includes('i'))));
  }
  if (!mods.every((m) => ALLOWED_MODS.has(m))) return [];
  const shapes = mods.filter((m) => SHAPES.has(m));
  if (shapes.length > 1) return [];
  const shape = shapes[0] ?? null;
  const literals = values.map((v) => valueLiteral(v, shape));
  if (!literals.every((l): l is string => l !== null)) return [];
  // `|all`: every value must match, so each is a clause of its own; otherwise one of them.
  if (mods.includes('all')) return [...new Set(literals)].map((l) => ({ fields: [field], literals: [l] }));
  return clause(literals);
}

function mapCnf(map: Record<string, unknown>): Cnf {
  const out: Cnf = [];
  for (const [key, value] of Object.entries(map)) out.push(...keyClauses(key, value));
  return out;
}

/** Keeps the most useful clauses: fewest literals first (then longest shortest literal). */
function trim(cnf: Cnf): Cnf {
  if (cnf.length <= MAX_CLAUSES) return cnf;
  const minLen = (c: LiteralClause): number => Math.min(...c.literals.map((l) => l.length));
  return [...cnf]
    .sort((a, b) => a.literals.length - b.literals.length || minLen(b) - minLen(a))
    .slice(0, MAX_CLAUSES);
}

const and = (a: Cnf, b: Cnf): Cnf => trim([...a, ...b]);

/** (∧a) ∨ (∧b) implies (x ∨ y) for every clause x of a and y of b. */
function or(a: Cnf, b: Cnf): Cnf {
  const out: Cnf = [];
  for (const x of a) {
    for (const y of b) {
      out.push({
        fields: [...new Set([...x.fields, ...y.fields])].sort(),
        literals: [...new Set([...x.literals, ...y.literals])].sort(),
      });
    }
  }
  return trim(out);
}

/**
 * The clauses every match of a detection satisfies (possibly none), or null when the detection cannot be
 * read (no condition, or one that does not parse). Call it on a detection that compiled.
 */
export function detectionLiterals(detection: unknown): LiteralClause[] | null {
  return detectionRequirement<Cnf>(detection, { none: [], and, or, map: mapCnf });
}
