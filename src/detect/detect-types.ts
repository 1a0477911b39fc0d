/**
 * The detection engine's shared vocabulary: normalized events, loaded rules, matches and alerts. The pieces
 * (event adapters in `events/`, the Sigma rule loader and matcher in `sigma/`, the correlation engine in
 * `correlation/`, the runner in `engine.ts`) talk to each other only through these types.
 */

/** Where events come from. */
export type AdapterName = 'keyward' | 'cloudtrail' | 'github' | 'kubernetes' | 'ndjson';

/** Sigma log source (rules/logsource): routes rules to the events they are written for. */
export interface LogSource {
  product?: string;
  service?: string;
  category?: string;
}

/** A normalized event: what rules see. Built by an adapter; never changed afterwards. */
export interface DetectEvent {
  /** A stable id: the source's own (CloudTrail `eventID`, GitHub `_document_id`, k8s `auditID`, Keyward `evt_…`) or a hash of the record. */
  id: string;
  /** Event time, epoch milliseconds (UTC). */
  time: number;
  /**
   * The record as read. Rules address it by field path as SigmaHQ's rules do (`eventName`,
   * `userIdentity.arn`, `requestParameters.roleArn`); see getField.
   */
  raw: Readonly<Record<string, unknown>>;
  /**
   * Normalized fields with OCSF-inspired names (docs/events.md), kept as flat dotted keys
   * (`fields['actor.user.uid']`, `fields['src_endpoint.ip']`); a field the source does not give is absent.
   */
  fields: Readonly<Record<string, unknown>>;
  /** The Sigma log source the adapter assigns (cloudtrail: `{product: 'aws', service: 'cloudtrail'}`). */
  logsource: Readonly<LogSource>;
  /** Which adapter read it, and from where (null when not from a file, e.g. posted to the server). */
  source: Readonly<{ adapter: AdapterName; file: string | null; line: number | null }>;
  /** Arrival order in the run (1, 2, …): breaks ties between equal times. */
  seq: number;
}

/** A record an adapter could not read: counted and reported, never fatal. */
export interface BrokenRecord {
  file: string | null;
  line: number | null;
  /** What is wrong, e.g. `not JSON: Unexpected token } at column 17`, `no timestamp (eventTime)`. */
  reason: string;
}

/**
 * The value of a field of an event for a rule: the raw record first, then the normalized fields. A name is
 * looked up as a dotted path (`userIdentity.sessionContext.sessionIssuer.arn`), and as a literal key at each
 * level too (`kubernetes.io/namespace`, a key that contains dots, matches before its split form does).
 * Returns undefined when absent; arrays are returned as they are (the matcher treats them as "any element").
 * `ocsf.<name>` reads the normalized field only (for sources whose raw records have a field of the same name).
 */
export function getField(event: DetectEvent, field: string): unknown {
  // `ocsf.<name>` asks for the normalized field only, when a raw field of the same name would hide it.
  if (field.startsWith('ocsf.')) {
    const name = field.slice(5);
    return Object.hasOwn(event.fields, name) ? event.fields[name] : lookupPath(event.fields, name);
  }
  const fromRaw = lookupPath(event.raw, field);
  if (fromRaw !== undefined) return fromRaw;
  return Object.hasOwn(event.fields, field) ? event.fields[field] : lookupPath(event.fields, field);
}

/** A dotted-path lookup that prefers the longest literal key at each level. */
export function lookupPath(root: unknown, path: string): unknown {
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return undefined;
  const obj = root as Record<string, unknown>;
  if (Object.hasOwn(obj, path)) return obj[path];
  // Try each split point from the longest head: `a.b.c` → `a.b` + `c`, then `a` + `b.c`.
  for (let i = path.lastIndexOf('.'); i > 0; i = path.lastIndexOf('.', i - 1)) {
    const head = path.slice(0, i);
    if (Object.hasOwn(obj, head)) {
      const found = lookupPath(obj[head], path.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Sigma rule levels, lowest first. */
export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

/** Where a rule or one of its fields is in its file. */
export interface RuleLocation {
  file: string;
  /** 1-based line of the rule document (or of the field, in errors). */
  line: number;
}

/** What every loaded rule has (Sigma rules, correlations and filters). */
export interface RuleMeta {
  /** The rule's `id` (UUID in SigmaHQ rules); for rules without one, `<file>#<document index>`. */
  id: string;
  /** The rule's `name` (how correlations refer to it), or null. */
  name: string | null;
  title: string;
  description: string | null;
  level: Level;
  status: string | null;
  /** ATT&CK and other tags as written (`attack.t1078.004`). */
  tags: string[];
  author: string | null;
  references: string[];
  falsepositives: string[];
  location: RuleLocation;
  /** Keyward extensions (the `keyward:` block), validated by the part that implements each. */
  keyward: Readonly<Record<string, unknown>>;
}

/** A compiled single-event Sigma rule. */
export interface DetectionRule extends RuleMeta {
  kind: 'detection';
  logsource: LogSource;
  /** True when the event satisfies the rule's detection (condition, selections, filters applied). */
  matches(event: DetectEvent): boolean;
  /** Fields the rule names (for `fields:` in alerts and for the routing of correlations). */
  fields: string[];
  /**
   * A field the rule can only match with one of these values (lower case), read from its detection; the
   * runner tests an event only against the rules its value could match. Null or absent: no such field.
   */
  prefilter?: { field: string; values: string[] } | null;
  /**
   * Text every match's raw JSON line contains (sigma-literals.ts): clauses that must all hold, each met when
   * the lower-cased line contains one of its literals. Null or absent: not read, and the raw-line prefilter
   * (line-prefilter.ts) is off for a rule set with such a rule.
   */
  literals?: ReadonlyArray<{ fields: readonly string[]; literals: readonly string[] }> | null;
}

/** A rule document the engine could not load, with the reason; the run goes on without it. */
export interface RuleLoadError {
  file: string;
  line: number | null;
  /** Dotted path of the offending field, e.g. `detection.selection.eventName|contains`, or null. */
  field: string | null;
  message: string;
}

/** A match of a detection rule: what correlations consume. */
export interface RuleMatch {
  rule: DetectionRule;
  event: DetectEvent;
}

/** An alert: a single-event rule that matched, or a correlation that fired. */
export interface Alert {
  /** Deterministic: a hash of rule id, group key and window start, so a replay never duplicates an alert. */
  id: string;
  ruleId: string;
  ruleTitle: string;
  level: Level;
  tags: string[];
  /** The group-by values (field → value) of a correlation; null for single-event rules. */
  groupKey: Record<string, unknown> | null;
  /** The window the alert covers (epoch ms); for a single event both are its time. */
  windowStart: number;
  windowEnd: number;
  /** Ids of contributing events, oldest first, at most MAX_ALERT_EVENT_IDS. */
  eventIds: string[];
  /** How many events contributed (may exceed eventIds.length). */
  eventCount: number;
  /** One line a person can act on: what, who, where, how many, when. */
  summary: string;
}

/** Most event ids an alert carries. */
export const MAX_ALERT_EVENT_IDS = 50;

/**
 * A rule document as read from a file, before the part that understands it compiles it: the Sigma loader
 * (sigma/) reads every file and compiles detection rules and filters itself; correlation documents go to the
 * correlation module (correlation/) in this form.
 */
export interface RawRuleDoc {
  file: string;
  /** 0-based index of the document in its file (`---` separated). */
  index: number;
  /** The document as plain JS (YAML parsed). */
  doc: Record<string, unknown>;
  /** The 1-based line of a field given as a path (`['correlation', 'timespan']`), or null when unknown. */
  lineOf(path: ReadonlyArray<string | number>): number | null;
}
