/**
 * The detection runner: routes each event to the single-event rules written for its log source, raises an
 * alert for a match of a rule no correlation consumes (or one whose correlation says `generate: true`), and
 * hands matches of the rules correlations consume to the correlation engine. The same runner serves batch
 * runs (`keyward detect`) and the server's continuous detection.
 */
import { createHash } from 'node:crypto';
import {
  getField,
  MAX_ALERT_EVENT_IDS,
  type Alert,
  type DetectEvent,
  type DetectionRule,
  type LogSource,
  type RuleMatch,
} from './detect-types.js';

/** The part of the correlation engine the runner drives. */
export interface CorrelationSink {
  push(match: RuleMatch): void;
  /** Event time has reached `watermarkMs`: windows that ended before it can be closed. */
  advance(watermarkMs: number): void;
  /** End of input: close every window. */
  flush(): void;
}

/** How the runner is set up. */
export interface RunnerOptions {
  detections: readonly DetectionRule[];
  /** Ids and names of the detection rules correlations consume. */
  consumed?: ReadonlySet<string>;
  /** Ids and names of consumed rules whose matches are alerts too (`generate: true`). */
  generate?: ReadonlySet<string>;
  correlation?: CorrelationSink;
  onAlert(alert: Alert): void;
}

/** Counters of a run. */
export interface RunnerStats {
  events: number;
  matches: number;
  alerts: number;
}

/** True when a rule written for `rule` applies to events of `event` (each field the rule names must equal). */
export function logsourceApplies(rule: LogSource, event: LogSource): boolean {
  for (const key of ['product', 'service', 'category'] as const) {
    const want = rule[key];
    if (want === undefined) continue;
    const have = event[key];
    if (have === undefined || have.toLowerCase() !== want.toLowerCase()) return false;
  }
  return true;
}

/** A deterministic alert id: the same rule, key and window always give the same id. */
export function alertId(ruleId: string, groupKey: unknown, windowStart: number): string {
  return createHash('sha256')
    .update(JSON.stringify([ruleId, groupKey ?? null, windowStart]))
    .digest('hex')
    .slice(0, 32);
}

const text = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;

/** One line about a single event: who did what, from where. */
export function singleEventSummary(rule: DetectionRule, event: DetectEvent): string {
  const who =
    text(getField(event, 'actor.user.name')) ??
    text(getField(event, 'actor.user.uid')) ??
    text(getField(event, 'credential.uid'));
  const what = text(getField(event, 'api.operation')) ?? text(getField(event, 'activity_name'));
  const from = text(getField(event, 'src_endpoint.ip'));
  const parts = [
    what ? `${what}` : null,
    who ? `by ${who}` : null,
    from ? `from ${from}` : null,
    `at ${new Date(event.time).toISOString()}`,
  ].filter((p): p is string => p !== null);
  return `${rule.title}: ${parts.join(' ')}`;
}

/** The rules of one log source: those that require nothing, and the others by field and value. */
interface Route {
  all: readonly DetectionRule[];
  unindexed: readonly DetectionRule[];
  /** field → lower-case value → rules (each list in load order). */
  byField: Map<string, Map<string, DetectionRule[]>>;
  /** field → every rule indexed on it (for event values the index cannot look up). */
  indexedOn: Map<string, DetectionRule[]>;
  order: Map<DetectionRule, number>;
}

function buildRoute(rules: readonly DetectionRule[]): Route {
  const route: Route = {
    all: rules,
    unindexed: [],
    byField: new Map(),
    indexedOn: new Map(),
    order: new Map(),
  };
  const unindexed: DetectionRule[] = [];
  rules.forEach((rule, i) => {
    route.order.set(rule, i);
    const p = rule.prefilter;
    if (!p) {
      unindexed.push(rule);
      return;
    }
    let byValue = route.byField.get(p.field);
    if (!byValue) route.byField.set(p.field, (byValue = new Map()));
    for (const v of p.values) {
      const list = byValue.get(v);
      if (list) list.push(rule);
      else byValue.set(v, [rule]);
    }
    const on = route.indexedOn.get(p.field);
    if (on) on.push(rule);
    else route.indexedOn.set(p.field, [rule]);
  });
  route.unindexed = unindexed;
  return route;
}

/** The rules an event could match, in load order. */
function candidates(route: Route, event: DetectEvent): readonly DetectionRule[] {
  if (route.byField.size === 0) return route.all;
  let found: DetectionRule[] | null = null;
  for (const [field, byValue] of route.byField) {
    const value = getField(event, field);
    // A string is looked up; an absent field satisfies no requirement; anything else (a number, an array) is
    // left to the rules themselves.
    const hits =
      typeof value === 'string'
        ? byValue.get(value.toLowerCase())
        : value === undefined || value === null
          ? undefined
          : route.indexedOn.get(field);
    if (hits) found = found ? found.concat(hits) : hits.slice();
  }
  if (!found) return route.unindexed;
  found = found.concat(route.unindexed);
  return found.sort((a, b) => route.order.get(a)! - route.order.get(b)!);
}

/**
 * Creates a runner.
 * @example
 * const runner = createRunner({ detections, onAlert: (a) => alerts.push(a) });
 * await readEvents(paths).forEach((e) => runner.push(e));
 * runner.end();
 */
export function createRunner(options: RunnerOptions) {
  const consumed = options.consumed ?? new Set<string>();
  const generate = options.generate ?? new Set<string>();
  const routes = new Map<string, Route>();
  const stats: RunnerStats = { events: 0, matches: 0, alerts: 0 };
  let watermark = -Infinity;

  const isConsumed = (r: DetectionRule): boolean =>
    consumed.has(r.id) || (r.name !== null && consumed.has(r.name));
  const alertsToo = (r: DetectionRule): boolean =>
    !isConsumed(r) || generate.has(r.id) || (r.name !== null && generate.has(r.name));
  const plan = options.detections.map((rule) => ({ rule, alert: alertsToo(rule), feed: isConsumed(rule) }));
  const byRule = new Map(plan.map((p) => [p.rule, p]));

  // Rules per distinct log source of the events seen (computed once per source), indexed by the values their
  // detections require of a field (`eventName`, `type`, …): an event is tested only against the rules its
  // value could satisfy, and the rules that require nothing.
  const byObject = new WeakMap<LogSource, Route>();
  const rulesFor = (ls: LogSource): Route => {
    // Adapters share one log source object per source: found by identity without building a key.
    const known = byObject.get(ls);
    if (known) return known;
    const key = `${ls.product ?? ''}\u0000${ls.service ?? ''}\u0000${ls.category ?? ''}`;
    let route = routes.get(key);
    if (!route) {
      route = buildRoute(options.detections.filter((r) => logsourceApplies(r.logsource, ls)));
      routes.set(key, route);
    }
    if (Object.isFrozen(ls)) byObject.set(ls, route);
    return route;
  };

  return {
    stats,

    /** Evaluates one event. */
    push(event: DetectEvent): void {
      stats.events++;
      for (const rule of candidates(rulesFor(event.logsource), event)) {
        if (!rule.matches(event)) continue;
        stats.matches++;
        const p = byRule.get(rule)!;
        if (p.alert) {
          stats.alerts++;
          options.onAlert({
            id: alertId(rule.id, event.id, event.time),
            ruleId: rule.id,
            ruleTitle: rule.title,
            level: rule.level,
            tags: rule.tags,
            groupKey: null,
            windowStart: event.time,
            windowEnd: event.time,
            eventIds: [event.id].slice(0, MAX_ALERT_EVENT_IDS),
            eventCount: 1,
            summary: singleEventSummary(rule, event),
          });
        }
        if (p.feed) options.correlation?.push({ rule, event });
      }
      if (event.time > watermark) {
        watermark = event.time;
        options.correlation?.advance(watermark);
      }
    },

    /**
     * An event no rule can match was passed over unread (line-prefilter.ts): counted, and its time moves the
     * clock, exactly as push would for it.
     */
    passOver(time: number): void {
      stats.events++;
      if (time > watermark) {
        watermark = time;
        options.correlation?.advance(watermark);
      }
    },

    /** End of input: correlations close their windows (absence rules fire, pending sequences expire). */
    end(): void {
      options.correlation?.flush();
    },
  };
}

/** The runner's interface. */
export type Runner = ReturnType<typeof createRunner>;
