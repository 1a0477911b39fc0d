/**
 * The raw-line prefilter: lets the event reader pass over a CloudTrail NDJSON line that no loaded rule can
 * match without parsing or normalizing it (most lines, in practice: parsing is most of the cost of a run).
 *
 * Each rule's detection is read for text its matches must contain (sigma-literals.ts): clauses that must all
 * hold, each met when the line contains one of its literals without case (`"createuser"`, `trail"`). One
 * case-insensitive regular expression of all literals, run from every position where one starts, finds every
 * literal in the line (overlapping ones too; measured faster here than an Aho–Corasick automaton in
 * JavaScript); a line is read when every clause of some rule holds. A line passed over is still counted as an event and its `eventTime` still moves
 * the detector's clock (`onPassedOver`), exactly as the event would have, so windows close at the same
 * points and every alert is the same.
 *
 * A line is always read (parsed as before) when it has a backslash (a JSON escape could hide a literal),
 * a character outside ASCII, a shape other than one object (`{…}`, strings and brackets balanced), no single
 * top-level `"eventTime":"…"`, an empty or unparseable time, or `"Records"` (a delivery document).
 *
 * The prefilter is off (createLinePrefilter gives null) unless every rule that applies to CloudTrail has at
 * least one clause read from fields whose values occur verbatim in the JSON text: raw fields, and normalized
 * fields the adapter copies unchanged (CLOUDTRAIL_VERBATIM_FIELDS; not `time`, `status`, `cloud.provider`).
 */
import type { AdapterName, DetectionRule } from './detect-types.js';
import { logsourceApplies } from './engine.js';
import { CLOUDTRAIL_LOGSOURCE, CLOUDTRAIL_VERBATIM_FIELDS } from './events/cloudtrail-adapter.js';
import { NORMALIZED_FIELDS, parseTime } from './events/event-common.js';

/** What the reader needs to pass over lines (ReadEventsOptions.lineFilter). */
export interface LineFilter {
  /** The adapter whose files it applies to. */
  adapter: AdapterName;
  /** The event time (epoch ms) of a line no rule can match, or null when the line must be read. */
  passOver(line: string): number | null;
  /** Told of each line passed over, with its event time (the detector advances its clock). */
  onPassedOver(time: number): void;
}

/** Finds which of a set of lower-case ASCII literals occur in a line (ASCII letters folded). */
export interface LiteralScanner {
  /**
   * Literal ids (indexes into the list given) found in `line`, or null when it has a character outside
   * ASCII or a backslash. `onOccurrence` is told of every occurrence (literal id, position).
   */
  scan(line: string, onOccurrence?: (id: number, at: number) => void): number[] | null;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A character that is not printable ASCII, or a backslash: not allowed in a literal. */
const NOT_PLAIN = /[^\x20-\x5b\x5d-\x7e]/;

/**
 * True when a line is ASCII (its UTF-8 length is its length: any other character takes two bytes or more)
 * without a backslash. Others are read: an escape could hide a literal, and a non-ASCII character can
 * lower-case to an ASCII one (the Kelvin sign to k) that a case-insensitive regular expression does not fold.
 */
const plainAscii = (line: string): boolean =>
  !line.includes('\\') && Buffer.byteLength(line, 'utf8') === line.length;

/**
 * A scanner over lower-case ASCII literals: one regular expression of them all, longest first, run from
 * every position where one starts. At a position it reports the longest literal found there; any other
 * found there is a prefix of it (so every occurrence is seen), and every literal inside a found one counts
 * as found too.
 * @example
 * createLiteralScanner(['"get', 'object"']).scan('{"a":"GetObject"}') // [0, 1]
 */
export function createLiteralScanner(literals: readonly string[]): LiteralScanner {
  for (const lit of literals) {
    if (lit === '' || NOT_PLAIN.test(lit) || lit !== lit.toLowerCase())
      throw new Error(`literal ${JSON.stringify(lit)} is not lower-case printable ASCII`);
  }
  const ids = new Map(literals.map((l, i) => [l, i]));
  const order = [...ids.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  // Case-insensitive without the u flag folds ASCII letters only: lines with anything else are not scanned.
  const re = new RegExp(order.map(escapeRegExp).join('|') || '(?!)', 'gi');
  const implied = literals.map((lit) => [...ids].filter(([other]) => lit.includes(other)).map(([, i]) => i));
  const prefixes = literals.map((lit) =>
    [...ids].filter(([other]) => lit.startsWith(other)).map(([, i]) => i),
  );
  // The id of a match as written (any case), without lower-casing every match: most are written the same
  // way every time. Bounded: a literal has at most 2^length spellings, and the cache is cleared when large.
  const asWritten = new Map<string, number>();
  const idOf = (text: string): number => {
    let id = asWritten.get(text);
    if (id === undefined) {
      id = ids.get(text.toLowerCase())!;
      if (asWritten.size >= 4096) asWritten.clear();
      asWritten.set(text, id);
    }
    return id;
  };
  const seen = new Int32Array(literals.length);
  let stamp = 0;
  return {
    scan(line: string, onOccurrence?: (id: number, at: number) => void): number[] | null {
      if (!plainAscii(line)) return null;
      stamp++;
      const found: number[] = [];
      re.lastIndex = 0;
      for (let m = re.exec(line); m !== null; m = re.exec(line)) {
        const hit = idOf(m[0]);
        if (onOccurrence) for (const p of prefixes[hit]!) onOccurrence(p, m.index);
        for (const id of implied[hit]!) {
          if (seen[id] !== stamp) {
            seen[id] = stamp;
            found.push(id);
          }
        }
        re.lastIndex = m.index + 1;
      }
      return found;
    },
  };
}

/** Whether a line could match, from the literals found in it; each rule is clauses of literal ids. */
export function createClauseMatcher(
  rules: ReadonlyArray<ReadonlyArray<readonly number[]>>,
  literalCount: number,
) {
  // Each rule is looked at only when a literal of its smallest clause was found.
  const anchored: number[][] = Array.from({ length: literalCount }, () => []);
  rules.forEach((clauses, r) => {
    if (clauses.length === 0) throw new Error(`rule ${r} has no clause: it can match any line`);
    const anchor = clauses.reduce((a, b) => (b.length < a.length ? b : a));
    for (const id of new Set(anchor)) anchored[id]!.push(r);
  });
  const present = new Uint8Array(literalCount);
  return (found: readonly number[]): boolean => {
    for (const id of found) present[id] = 1;
    let hit = false;
    outer: for (const id of found) {
      for (const r of anchored[id]!) {
        const clauses = rules[r]!;
        let all = true;
        for (const clause of clauses) {
          let any = false;
          for (const lit of clause) {
            if (present[lit] === 1) {
              any = true;
              break;
            }
          }
          if (!any) {
            all = false;
            break;
          }
        }
        if (all) {
          hit = true;
          break outer;
        }
      }
    }
    for (const id of found) present[id] = 0;
    return hit;
  };
}

/** Normalized fields the CloudTrail adapter derives (their values need not occur in the line). */
const DERIVED: ReadonlySet<string> = new Set(
  NORMALIZED_FIELDS.filter((f) => !CLOUDTRAIL_VERBATIM_FIELDS.has(f)),
);

/** True when a rule's field reads a value that occurs verbatim in a CloudTrail line (see getField). */
export function verbatimInCloudTrail(field: string): boolean {
  const name = field.startsWith('ocsf.') ? field.slice(5) : field;
  return !DERIVED.has(name);
}

/**
 * The clauses (literal lists) a rule gives for CloudTrail lines, or null when it gives none (then the
 * prefilter cannot be used: the rule could match any line).
 */
export function cloudTrailClauses(rule: DetectionRule): string[][] | null {
  if (!rule.literals) return null;
  const clauses = rule.literals
    .filter((c) => c.literals.length > 0 && c.fields.every(verbatimInCloudTrail))
    .map((c) => [...c.literals]);
  return clauses.length > 0 ? clauses : null;
}

/** Markers the scanner also looks for (lower case: found without case, so also `"EventTime"`). */
const TIME_MARK = '"eventtime"';
const RECORDS_MARK = '"records"';
const TIME_PREFIX = '"eventTime":"';

/**
 * The shape checks of a line without backslashes and its top-level `eventTime`: the index after
 * `"eventTime":"`, or -1 unless the line is one object whose only `"eventTime"` (any case; `at`) is a key at
 * its top level holding a string.
 */
function timeValueStart(line: string, at: number): number {
  const n = line.length;
  if (n < 2 || line.charCodeAt(0) !== 123 || line.charCodeAt(n - 1) !== 125) return -1;
  if (!line.startsWith(TIME_PREFIX, at)) return -1;
  // From string to string (a line without backslashes has no quote inside a string), counting brackets
  // between them.
  let depth = 0;
  let depthAtTime = -1;
  for (let i = 0; i < n;) {
    const q = line.indexOf('"', i);
    const end = q === -1 ? n : q;
    for (let j = i; j < end; j++) {
      const c = line.charCodeAt(j);
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth < 0 || (depth === 0 && j !== n - 1)) return -1;
      }
    }
    if (q === -1) break;
    if (q === at) depthAtTime = depth;
    const close = line.indexOf('"', q + 1);
    if (close === -1) return -1;
    i = close + 1;
  }
  return depth === 0 && depthAtTime === 1 ? at + TIME_PREFIX.length : -1;
}

/**
 * The prefilter for CloudTrail lines over a rule set, or null when it cannot be used (a rule that applies to
 * CloudTrail gives no clause on verbatim fields).
 *
 * @example
 * const filter = createLinePrefilter(loaded.detections, (t) => detector.passOver(t));
 * readEvents(paths, { lineFilter: filter });
 */
export function createLinePrefilter(
  detections: readonly DetectionRule[],
  onPassedOver: (time: number) => void,
): LineFilter | null {
  const literalIds = new Map<string, number>();
  const rules: number[][][] = [];
  for (const rule of detections) {
    if (!logsourceApplies(rule.logsource, CLOUDTRAIL_LOGSOURCE)) continue;
    const clauses = cloudTrailClauses(rule);
    if (clauses === null) return null;
    rules.push(
      clauses.map((c) =>
        c.map((lit) => {
          let id = literalIds.get(lit);
          if (id === undefined) literalIds.set(lit, (id = literalIds.size));
          return id;
        }),
      ),
    );
  }
  // The markers' ids (a rule literal may be the same text).
  const mark = (text: string): number => {
    let id = literalIds.get(text);
    if (id === undefined) literalIds.set(text, (id = literalIds.size));
    return id;
  };
  const timeId = mark(TIME_MARK);
  const recordsId = mark(RECORDS_MARK);
  const scanner = createLiteralScanner([...literalIds.keys()]);
  const mayMatch = createClauseMatcher(rules, literalIds.size);
  // Consecutive lines often have the same time: the last one read is kept.
  let lastTimeText = '';
  let lastTime = 0;
  let timeAt = -1;
  let times = 0;
  let records = false;
  const onOccurrence = (id: number, at: number): void => {
    if (id === timeId) {
      times++;
      timeAt = at;
    } else if (id === recordsId) records = true;
  };
  return {
    adapter: 'cloudtrail',
    passOver(line: string): number | null {
      times = 0;
      records = false;
      const found = scanner.scan(line, onOccurrence);
      if (found === null || mayMatch(found) || records || times !== 1) return null;
      const start = timeValueStart(line, timeAt);
      if (start === -1) return null;
      const end = line.indexOf('"', start);
      if (end === start) return null;
      if (end - start === lastTimeText.length && line.startsWith(lastTimeText, start)) return lastTime;
      const value = line.slice(start, end);
      const time = parseTime(value, 'iso8601');
      if (time !== null) {
        lastTimeText = value;
        lastTime = time;
      }
      return time;
    },
    onPassedOver,
  };
}
