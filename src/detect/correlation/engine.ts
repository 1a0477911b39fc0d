/**
 * The correlation engine: consumes matches of detection rules (and, for chains, the alerts of correlations),
 * keeps bounded per-key state and emits Alerts. Semantics: docs/correlation-semantics.md.
 */
import { createHash } from 'node:crypto';
import {
  getField,
  MAX_ALERT_EVENT_IDS,
  type Alert,
  type DetectEvent,
  type RuleMatch,
} from '../detect-types.js';
import type { BaselineKind, CorrelationRule, Criterion } from './correlation-types.js';
import { formatDuration } from './duration.js';
import { evalBoolExpr, hasNegation } from './expr.js';

/** Options of createCorrelationEngine. */
export interface CorrelationEngineOptions {
  /** How far behind the watermark (the latest event time seen) an event may be and still count. */
  allowedLatenessMs: number;
  /** Most state entries kept over all rules and keys (one per key, plus one per retained event or step). */
  maxStateEntries: number;
  /** Called once per alert, synchronously, in a deterministic order for a given input. */
  onAlert(alert: Alert): void;
}

/** Counters of what the engine did not or could not use. */
export interface CorrelationStats {
  /** Matches pushed for rules some correlation refers to. */
  matches: number;
  /** Matches dropped: their event was older than watermark − allowed lateness. */
  late: number;
  /** Matches skipped: a group-by field was missing (missingGroupBy: skip). */
  missingGroupBy: number;
  /** Matches skipped: the `condition.field` of a value_* correlation was missing or not a number. */
  missingValue: number;
  /** Matches ignored because their event is at or after the rule's keyward.until. */
  afterUntil: number;
  /** Key states dropped by the global cap (stalest first). */
  evicted: number;
  /** Key states dropped because nothing in them can take part in a window any more. */
  expired: number;
  /** Alerts withheld by keyward.suppress. */
  suppressed: number;
  /** Alerts emitted (onAlert calls). */
  alerts: number;
  /** Key states still open (undecided windows, partial sequences) when flush() ended the input. */
  openAtFlush: number;
}

/** A running correlation engine. */
export interface CorrelationEngine {
  /** Feeds one match of a detection rule. */
  push(match: RuleMatch): void;
  /** Moves the watermark to at least `watermarkMs` (e.g. on a quiet stream) and closes complete windows. */
  advance(watermarkMs: number): void;
  /** End of input: closes windows complete at the watermark, drops the rest (counted as openAtFlush). */
  flush(): void;
  stats(): Readonly<CorrelationStats>;
  /** Current number of state entries (bounded by maxStateEntries). */
  stateEntries(): number;
  /** The latest event time seen (or advanced to); -Infinity before any. */
  watermark(): number;
}

type Mode = 'sliding' | 'closing' | 'temporal' | 'ordered' | 'baseline';

interface Runtime {
  rule: CorrelationRule;
  index: number;
  mode: Mode;
  /** Correlations that consume this one's alerts, with the index of this rule in their `rules`. */
  downstream: Array<{ rt: Runtime; ref: number }>;
  /** A display label per referenced rule (its title, learned from matches). */
  labels: string[];
  /** This rule's key states by group key (JSON of the values). */
  states: Map<string, KeyState>;
}

interface Item {
  t: number;
  seq: number;
  ev: DetectEvent;
  ref: number;
  /** value_count: the canonical value; value_sum/avg/percentile: the number; else undefined. */
  v: unknown;
}

interface KeyState {
  /** The LRU list (stalest first): Map iteration would skip deleted entries, so it is kept by hand. */
  older: KeyState | null;
  newer: KeyState | null;
  rt: Runtime;
  key: string;
  values: unknown[];
  size: number;
  expiresAt: number;
  deadline: number;
  dead: boolean;
  suppressUntil: number;
  items: Item[];
  /** sliding: first item of the window ending at the newest item; n/sum/distinct aggregate items[lo..]. */
  lo: number;
  n: number;
  sum: number;
  /** value_count only. */
  distinct: Map<unknown, number> | null;
  latest: Array<Item | undefined>;
  pending: Array<Item[] | undefined>;
  /** The pending sequence a later-starting one replaced (so an event matching two steps cannot orphan it). */
  prev: Array<Item[] | undefined>;
  orphan: Array<Item | undefined>;
  /** baseline: token (`new_value:x`, `new_network:10.0.0.0/24`, `new_hour:3`) → last seen, oldest first. */
  seen: Map<string, number> | null;
  /** baseline: when the key was first observed, the latest sighting, and the oldest sighting kept. */
  firstSeen: number;
  lastSeen: number;
  oldestSeen: number;
}

interface Timer {
  at: number;
  order: number;
  state: KeyState;
}

/** Shared empty list for the per-step arrays a mode does not use (never written). */
const NONE: never[] = [];

const before = (a: Item, b: Item): boolean => a.t < b.t || (a.t === b.t && a.seq < b.seq);

/** The deterministic alert id: sha256 of rule id, canonical group key and window start. */
export function correlationAlertId(ruleId: string, groupKey: string, windowStart: number): string {
  return createHash('sha256').update(`${ruleId}\n${groupKey}\n${windowStart}`).digest('hex');
}

/** True when every criterion holds for `x`. */
export function meetsCriteria(criteria: Criterion[], x: number): boolean {
  for (const c of criteria) {
    const ok =
      c.op === 'gt'
        ? x > c.value
        : c.op === 'gte'
          ? x >= c.value
          : c.op === 'lt'
            ? x < c.value
            : c.op === 'lte'
              ? x <= c.value
              : c.op === 'eq'
                ? x === c.value
                : x !== c.value;
    if (!ok) return false;
  }
  return true;
}

/** Nearest-rank percentile p (0–100) of `values` (not empty); sorts a copy. */
export function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function modeOf(rule: CorrelationRule): Mode {
  if (rule.baseline) return 'baseline';
  const lowerOnly = rule.criteria.length > 0 && rule.criteria.every((c) => c.op === 'gt' || c.op === 'gte');
  switch (rule.type) {
    case 'temporal_ordered':
      return 'ordered';
    case 'temporal':
      if (rule.expr) return hasNegation(rule.expr) ? 'closing' : 'temporal';
      return lowerOnly ? 'temporal' : 'closing';
    case 'event_count':
    case 'value_count':
    case 'value_sum':
      return lowerOnly ? 'sliding' : 'closing';
    default:
      return 'closing';
  }
}

/** Creates an engine for `rules` (as loaded by parseCorrelationRules: references resolved, no cycles). */
export function createCorrelationEngine(
  rules: CorrelationRule[],
  options: CorrelationEngineOptions,
): CorrelationEngine {
  const lateness = Math.max(0, options.allowedLatenessMs);
  const cap = Math.max(1, options.maxStateEntries);
  const stats: CorrelationStats = {
    matches: 0,
    late: 0,
    missingGroupBy: 0,
    missingValue: 0,
    afterUntil: 0,
    evicted: 0,
    expired: 0,
    suppressed: 0,
    alerts: 0,
    openAtFlush: 0,
  };
  const runtimes: Runtime[] = rules.map((rule, index) => ({
    rule,
    index,
    mode: modeOf(rule),
    downstream: [],
    labels: rule.refs.map((r) => r.title ?? r.name ?? r.id),
    states: new Map(),
  }));
  const byId = new Map(runtimes.map((rt) => [rt.rule.id, rt]));
  /** Detection rule id → the correlations (and rule index in them) it feeds. */
  const dispatch = new Map<string, Array<{ rt: Runtime; ref: number }>>();
  for (const rt of runtimes) {
    rt.rule.refs.forEach((r, ref) => {
      if (r.kind === 'correlation') {
        const up = byId.get(r.id);
        if (up) {
          up.downstream.push({ rt, ref });
          rt.labels[ref] = up.rule.title;
        }
      } else {
        const list = dispatch.get(r.id) ?? [];
        list.push({ rt, ref });
        dispatch.set(r.id, list);
      }
    });
  }

  /** All key states (kept in Runtime.states), linked `stalest`…`freshest` in order of last touch. */
  let stalest: KeyState | null = null;
  let freshest: KeyState | null = null;
  const unlink = (s: KeyState): void => {
    if (s.older) s.older.newer = s.newer;
    else stalest = s.newer;
    if (s.newer) s.newer.older = s.older;
    else freshest = s.older;
    s.older = s.newer = null;
  };
  const append = (s: KeyState): void => {
    s.older = freshest;
    s.newer = null;
    if (freshest) freshest.newer = s;
    else stalest = s;
    freshest = s;
  };
  let entries = 0;
  let watermark = -Infinity;
  const heap: Timer[] = [];
  let timerOrder = 0;
  /** Alerts behind the synthetic events that carry them to chained correlations. */
  const upstreamAlert = new WeakMap<DetectEvent, Alert>();
  /** How a chained alert reads as a step (`denied token request` for a count of those, else the title). */
  const upstreamLabel = new WeakMap<DetectEvent, string>();
  /** Where a window starts: the earliest event, reaching back into the windows of chained alerts. */
  const startOf = (used: Item[]): number => {
    let t = used[0]!.t;
    for (const it of used) {
      const up = upstreamAlert.get(it.ev);
      if (up && up.windowStart < t) t = up.windowStart;
    }
    return t;
  };

  // ------------------------------------------------------------------------------------------- timers
  const heapLess = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.order < b.order);
  const heapPush = (t: Timer): void => {
    heap.push(t);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!heapLess(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const heapPop = (): Timer => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heapLess(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && heapLess(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  const schedule = (s: KeyState, at: number): void => {
    if (s.deadline === at) return;
    s.deadline = at;
    heapPush({ at, order: timerOrder++, state: s });
  };
  const runDeadlines = (limit: number): void => {
    while (heap.length > 0 && heap[0]!.at <= limit) {
      const { at, state } = heapPop();
      if (state.dead || state.deadline !== at) continue;
      state.deadline = Infinity;
      if (state.rt.mode === 'ordered') closeAbsence(state);
      else closeWindow(state);
      settle(state);
    }
  };

  // ------------------------------------------------------------------------------------------- state
  const remove = (s: KeyState): void => {
    if (s.dead) return;
    s.dead = true;
    entries -= s.size;
    s.rt.states.delete(s.key);
    unlink(s);
  };
  const contentSize = (s: KeyState): number => {
    let n = s.items.length;
    for (const x of s.latest) if (x) n++;
    for (const x of s.pending) if (x) n += x.length;
    for (const x of s.prev) if (x) n += x.length;
    for (const x of s.orphan) if (x) n++;
    return n + (s.seen ? s.seen.size : 0);
  };
  /** Recomputes size and expiry; drops the state when it holds nothing and suppresses nothing. */
  const settle = (s: KeyState): void => {
    if (s.dead) return;
    const content = contentSize(s);
    if (content === 0 && s.deadline === Infinity && s.suppressUntil === -Infinity) {
      remove(s);
      return;
    }
    const size = 1 + content;
    entries += size - s.size;
    s.size = size;
    const span = s.rt.rule.timespanMs;
    let exp = s.suppressUntil;
    const last = s.items[s.items.length - 1];
    if (last) exp = Math.max(exp, last.t + span);
    for (const x of s.latest) if (x) exp = Math.max(exp, x.t + span);
    for (const x of s.pending) if (x) exp = Math.max(exp, x[0]!.t + span);
    for (const x of s.prev) if (x) exp = Math.max(exp, x[0]!.t + span);
    for (const x of s.orphan) if (x) exp = Math.max(exp, x.t + span);
    if (s.seen) exp = Math.max(exp, s.lastSeen + s.rt.rule.baseline!.historyMs);
    s.expiresAt = exp;
  };
  const enforceCap = (): void => {
    while (entries > cap && stalest) {
      remove(stalest);
      stats.evicted++;
    }
  };
  const expireFront = (horizon: number): void => {
    while (stalest && stalest.deadline === Infinity && stalest.expiresAt < horizon) {
      remove(stalest);
      stats.expired++;
    }
  };
  const stateFor = (rt: Runtime, key: string, values: unknown[]): KeyState => {
    let s = rt.states.get(key);
    if (s) {
      if (s !== freshest) {
        unlink(s);
        append(s);
      }
      return s;
    }
    const n = rt.rule.refs.length;
    s = {
      older: null,
      newer: null,
      rt,
      key,
      values,
      size: 1,
      expiresAt: -Infinity,
      deadline: Infinity,
      dead: false,
      suppressUntil: -Infinity,
      items: [],
      lo: 0,
      n: 0,
      sum: 0,
      distinct: rt.rule.type === 'value_count' ? new Map() : null,
      latest: rt.mode === 'temporal' ? new Array<Item | undefined>(n) : NONE,
      pending: rt.mode === 'ordered' ? new Array<Item[] | undefined>(n) : NONE,
      prev: rt.mode === 'ordered' ? new Array<Item[] | undefined>(n) : NONE,
      orphan: rt.mode === 'ordered' ? new Array<Item | undefined>(n) : NONE,
      seen: rt.mode === 'baseline' ? new Map() : null,
      firstSeen: Infinity,
      lastSeen: -Infinity,
      oldestSeen: Infinity,
    };
    entries += 1;
    rt.states.set(key, s);
    append(s);
    return s;
  };

  // ------------------------------------------------------------------------------------------- input
  const deliver = (rt: Runtime, ref: number, ev: DetectEvent): void => {
    const rule = rt.rule;
    if (rule.untilMs !== null && ev.time >= rule.untilMs) {
      stats.afterUntil++;
      return;
    }
    const r = rule.refs[ref]!;
    const values: unknown[] = new Array(r.groupFields.length);
    for (let i = 0; i < r.groupFields.length; i++) {
      const v = getField(ev, r.groupFields[i]!);
      if (v === undefined || v === null) {
        if (rule.missingGroupBy === 'skip') {
          stats.missingGroupBy++;
          return;
        }
        values[i] = null;
      } else values[i] = v;
    }
    let v: unknown = undefined;
    if (r.valueFields.length > 0) {
      const raw = r.valueFields.map((f) => getField(ev, f));
      if (raw.some((x) => x === undefined || x === null)) {
        stats.missingValue++;
        return;
      }
      if (rule.type === 'value_count' || rule.baseline)
        v = raw.length === 1 && typeof raw[0] !== 'object' ? raw[0] : JSON.stringify(raw);
      else {
        const num =
          typeof raw[0] === 'number'
            ? raw[0]
            : typeof raw[0] === 'string' && raw[0].trim() !== ''
              ? Number(raw[0])
              : NaN;
        if (!Number.isFinite(num)) {
          stats.missingValue++;
          return;
        }
        v = num;
      }
    }
    // The common case (one string value) skips JSON; other keys are marked so they never collide with it.
    const key =
      values.length === 1 && typeof values[0] === 'string' ? values[0] : `\u0001${JSON.stringify(values)}`;
    const s = stateFor(rt, key, values);
    const item: Item = { t: ev.time, seq: ev.seq, ev, ref, v };
    switch (rt.mode) {
      case 'sliding':
        onSliding(s, item);
        break;
      case 'closing':
        onClosing(s, item);
        break;
      case 'temporal':
        onTemporal(s, item);
        break;
      case 'ordered':
        onOrdered(s, item);
        break;
      case 'baseline':
        onBaseline(s, item);
        break;
    }
    settle(s);
    enforceCap();
  };

  // ------------------------------------------------------------------------------------------- windows
  const insertSorted = (items: Item[], item: Item): number => {
    let hi = items.length;
    if (hi === 0 || !before(item, items[hi - 1]!)) {
      items.push(item);
      return hi;
    }
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(item, items[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    items.splice(lo, 0, item);
    return lo;
  };
  const aggAdd = (s: KeyState, it: Item): void => {
    s.n++;
    if (typeof it.v === 'number') s.sum += it.v;
    if (s.distinct) s.distinct.set(it.v, (s.distinct.get(it.v) ?? 0) + 1);
  };
  const aggRemove = (s: KeyState, it: Item): void => {
    s.n--;
    if (typeof it.v === 'number') s.sum -= it.v;
    if (s.distinct) {
      const c = s.distinct.get(it.v)! - 1;
      if (c === 0) s.distinct.delete(it.v);
      else s.distinct.set(it.v, c);
    }
  };
  const aggReset = (s: KeyState): void => {
    s.n = 0;
    s.sum = 0;
    s.distinct?.clear();
  };
  const aggValue = (s: KeyState): number =>
    s.distinct ? s.distinct.size : s.rt.rule.type === 'value_sum' ? s.sum : s.n;

  /** Sliding windows: the window ending at each event; fires as soon as a lower-bound condition holds. */
  const onSliding = (s: KeyState, item: Item): void => {
    const span = s.rt.rule.timespanMs;
    const items = s.items;
    const p = insertSorted(items, item);
    const newest = items[items.length - 1]!;
    if (p === items.length - 1) {
      aggAdd(s, item);
      while (items[s.lo]!.t < item.t - span) aggRemove(s, items[s.lo++]!);
      if (meetsCriteria(s.rt.rule.criteria, aggValue(s))) return fireSliding(s, s.lo, items.length - 1);
      // Drop the head no future window can reach (amortized: only when it is worth a splice).
      const horizon = watermark - lateness - span;
      while (s.lo > 0 && items[0]!.t < horizon) {
        items.shift();
        s.lo--;
      }
      return;
    }
    // A late event: keep the maintained window right, then check every window ending at or after it.
    if (item.t >= newest.t - span) aggAdd(s, item);
    else s.lo++;
    const fresh: KeyState = { ...s, distinct: s.distinct ? new Map<unknown, number>() : null };
    aggReset(fresh);
    let L = 0;
    while (items[L]!.t < item.t - span) L++;
    for (let k = L; k <= p; k++) aggAdd(fresh, items[k]!);
    for (let j = p; j < items.length; j++) {
      if (j > p) {
        aggAdd(fresh, items[j]!);
        while (items[L]!.t < items[j]!.t - span) aggRemove(fresh, items[L++]!);
      }
      if (meetsCriteria(s.rt.rule.criteria, aggValue(fresh))) return fireSliding(s, L, j);
    }
  };
  const fireSliding = (s: KeyState, from: number, to: number): void => {
    const used = s.items.slice(from, to + 1);
    const value = s.rt.rule.type === 'event_count' ? used.length : undefined;
    fire(s, used, startOf(used), used[used.length - 1]!.t, describeAggregate(s, used, value));
    // The events of an alert are consumed; the window restarts with what is left (late events after `to`).
    s.items = s.items.slice(to + 1);
    aggReset(s);
    s.lo = 0;
    const items = s.items;
    if (items.length > 0) {
      const newest = items[items.length - 1]!;
      for (const it of items) aggAdd(s, it);
      while (items[s.lo]!.t < newest.t - s.rt.rule.timespanMs) aggRemove(s, items[s.lo++]!);
    }
  };

  /** Closing windows: anchored at the earliest pending event, decided once complete. */
  const onClosing = (s: KeyState, item: Item): void => {
    const p = insertSorted(s.items, item);
    if (p === 0) schedule(s, item.t + s.rt.rule.timespanMs);
  };
  const closeWindow = (s: KeyState): void => {
    const rule = s.rt.rule;
    const items = s.items;
    if (items.length === 0) return;
    const end = items[0]!.t + rule.timespanMs;
    let j = 0;
    while (j + 1 < items.length && items[j + 1]!.t <= end) j++;
    const used = items.slice(0, j + 1);
    let ok: boolean;
    let value: number | undefined;
    if (rule.type === 'temporal') {
      const present = new Set(used.map((x) => x.ref));
      ok = rule.expr
        ? evalBoolExpr(rule.expr, (i) => present.has(i))
        : meetsCriteria(rule.criteria, present.size);
    } else {
      value = closingValue(rule, used);
      ok = meetsCriteria(rule.criteria, value);
    }
    if (ok) fire(s, used, startOf(used), used[used.length - 1]!.t, describeAggregate(s, used, value));
    s.items = items.slice(j + 1);
    if (s.items.length > 0) schedule(s, s.items[0]!.t + rule.timespanMs);
  };

  /** Temporal (monotone condition): the latest occurrence of each rule; fires when enough are within the span. */
  const onTemporal = (s: KeyState, item: Item): void => {
    const rule = s.rt.rule;
    const cur = s.latest[item.ref];
    if (!cur || before(cur, item)) s.latest[item.ref] = item;
    let tmax = -Infinity;
    for (const x of s.latest) if (x && x.t > tmax) tmax = x.t;
    const inSpan = (i: number): boolean => {
      const x = s.latest[i];
      return x !== undefined && x.t >= tmax - rule.timespanMs;
    };
    let count = 0;
    for (let i = 0; i < s.latest.length; i++) if (inSpan(i)) count++;
    const ok = rule.expr ? evalBoolExpr(rule.expr, inSpan) : meetsCriteria(rule.criteria, count);
    if (!ok) return;
    const used = s.latest
      .filter((x, i): x is Item => x !== undefined && inSpan(i))
      .sort((a, b) => (before(a, b) ? -1 : 1));
    s.latest = new Array<Item | undefined>(s.latest.length);
    fire(s, used, startOf(used), used[used.length - 1]!.t, describeSteps(s, used, ' and '));
  };

  /** Ordered sequences: one pending partial sequence per step, plus the latest unused occurrence per step. */
  const onOrdered = (s: KeyState, item: Item): void => {
    const rule = s.rt.rule;
    const n = rule.refs.length;
    if (item.ref === 0) return offer(s, 1, [item]);
    const extends_ = (q: Item[] | undefined): q is Item[] =>
      q !== undefined && before(q[q.length - 1]!, item) && item.t <= q[0]!.t + rule.timespanMs;
    const cur = s.pending[item.ref];
    const p = extends_(cur) ? cur : extends_(s.prev[item.ref]) ? s.prev[item.ref] : undefined;
    if (p) {
      if (rule.absence && item.ref === n - 1) {
        s.pending[item.ref] = undefined;
        s.deadline = Infinity;
        return;
      }
      return offer(s, item.ref + 1, [...p, item]);
    }
    const o = s.orphan[item.ref];
    if (!o || before(o, item)) s.orphan[item.ref] = item;
  };
  const offer = (s: KeyState, step: number, seq: Item[]): void => {
    const rule = s.rt.rule;
    const n = rule.refs.length;
    const span = rule.timespanMs;
    const start = seq[0]!;
    if (step === n) {
      s.pending = new Array<Item[] | undefined>(n);
      s.prev = new Array<Item[] | undefined>(n);
      s.orphan = new Array<Item | undefined>(n);
      fire(s, seq, startOf(seq), seq[seq.length - 1]!.t, describeSteps(s, seq, ' then '));
      return;
    }
    const absent = rule.absence && step === n - 1;
    const o = s.orphan[step];
    if (o && before(seq[seq.length - 1]!, o) && o.t <= start.t + span) {
      if (absent) return; // the absent rule already followed
      s.orphan[step] = undefined;
      return offer(s, step + 1, [...seq, o]);
    }
    const cur = s.pending[step];
    if (absent) {
      // Keep the earliest: "A not followed by B" is decided at A + timespan, and later As must not defer it.
      if (!cur || before(seq[0]!, cur[0]!)) {
        s.pending[step] = seq;
        schedule(s, start.t + span);
      }
      return;
    }
    if (
      !cur ||
      cur[0]!.t < start.t ||
      (cur[0]!.t === start.t && before(seq[seq.length - 1]!, cur[cur.length - 1]!))
    ) {
      s.prev[step] = cur;
      s.pending[step] = seq;
    }
  };
  const closeAbsence = (s: KeyState): void => {
    const rule = s.rt.rule;
    const step = rule.refs.length - 1;
    const p = s.pending[step];
    if (!p) return;
    s.pending[step] = undefined;
    const absentLabel = s.rt.labels[step]!;
    fire(
      s,
      p,
      p[0]!.t,
      p[0]!.t + rule.timespanMs,
      `${stepsText(s, p, ' then ')} not followed by ${absentLabel}${keyText(s)} within ${formatDuration(rule.timespanMs)}`,
    );
  };

  /** First-seen baselines: alert when a learned key shows a value (network, hour) unseen within the history. */
  const onBaseline = (s: KeyState, item: Item): void => {
    const b = s.rt.rule.baseline!;
    const seen = s.seen!;
    // Forget what is older than the history (the map is kept oldest-first: a sighting re-inserts); only
    // walked when its oldest entry has actually aged out.
    if (s.oldestSeen < item.t - b.historyMs) {
      s.oldestSeen = Infinity;
      for (const [token, t] of seen) {
        if (t >= item.t - b.historyMs) {
          s.oldestSeen = t;
          break;
        }
        seen.delete(token);
      }
    }
    if (item.t > s.lastSeen) s.lastSeen = item.t;
    const learned = s.firstSeen !== Infinity && item.t - s.firstSeen >= b.learningMs;
    if (item.t < s.firstSeen) s.firstSeen = item.t;
    const fresh: string[] = [];
    for (const kind of b.kinds) {
      const shown = baselineToken(kind, item.v, item.t);
      if (shown === null) continue;
      const token = `${kind}:${shown}`;
      const last = seen.get(token);
      if (learned && last === undefined)
        fresh.push(
          kind === 'new_value'
            ? `new ${b.field} ${shown}`
            : kind === 'new_network'
              ? `new network ${shown}`
              : `new hour ${shown} UTC`,
        );
      seen.delete(token);
      const at = last === undefined ? item.t : Math.max(last, item.t);
      seen.set(token, at);
      if (seen.size === 1 || at < s.oldestSeen) s.oldestSeen = Math.min(s.oldestSeen, at);
    }
    if (fresh.length === 0) return;
    const history = formatDuration(b.historyMs);
    fire(
      s,
      [item],
      item.t,
      item.t,
      `${fresh.join(' and ')}${keyText(s)} (not seen in ${history}) in ${labelOf(s, item)}`,
    );
  };

  // ------------------------------------------------------------------------------------------- alerts
  const weight = (it: Item): number => upstreamAlert.get(it.ev)?.eventCount ?? 1;
  const labelOf = (s: KeyState, it: Item): string => upstreamLabel.get(it.ev) ?? s.rt.labels[it.ref]!;
  const keyText = (s: KeyState): string => {
    const g = s.rt.rule.groupBy;
    if (g.length === 0) return '';
    return ` for ${g.map((name, i) => `${name}=${fmtValue(s.values[i])}`).join(', ')}`;
  };
  const stepsText = (s: KeyState, used: Item[], joiner: string): string =>
    used.map((it) => (weight(it) > 1 ? `${weight(it)} × ${labelOf(s, it)}` : labelOf(s, it))).join(joiner);
  const describeSteps = (s: KeyState, used: Item[], joiner: string): string =>
    `${stepsText(s, used, joiner)}${keyText(s)} within ${formatDuration(used[used.length - 1]!.t - startOf(used))}`;
  const describeAggregate = (s: KeyState, used: Item[], value: number | undefined): string => {
    const rule = s.rt.rule;
    if (rule.type === 'temporal') return describeSteps(s, used, ' and ');
    const labels = [...new Set(used.map((it) => labelOf(s, it)))].join(' or ');
    const count = used.reduce((a, it) => a + weight(it), 0);
    const what = `${count} × ${labels}`;
    const field = rule.field.join('+');
    const v = value ?? closingValue(rule, used);
    const shown = Number.isInteger(v) ? String(v) : v.toFixed(2);
    const head =
      rule.type === 'event_count'
        ? what
        : rule.type === 'value_count'
          ? `${shown} distinct ${field} in ${what}`
          : rule.type === 'value_sum'
            ? `${field} totals ${shown} over ${what}`
            : rule.type === 'value_avg'
              ? `${field} averages ${shown} over ${what}`
              : `p${rule.percentile} of ${field} is ${shown} over ${what}`;
    return `${head}${keyText(s)} within ${formatDuration(used[used.length - 1]!.t - startOf(used))}`;
  };

  const fire = (s: KeyState, used: Item[], windowStart: number, windowEnd: number, summary: string): void => {
    const rule = s.rt.rule;
    if (windowEnd < s.suppressUntil) {
      stats.suppressed++;
      return;
    }
    if (rule.suppressMs > 0) s.suppressUntil = windowEnd + rule.suppressMs;
    const eventIds: string[] = [];
    let eventCount = 0;
    for (const it of used) {
      const up = upstreamAlert.get(it.ev);
      eventCount += up ? up.eventCount : 1;
      for (const id of up ? up.eventIds : [it.ev.id])
        if (eventIds.length < MAX_ALERT_EVENT_IDS) eventIds.push(id);
    }
    const groupKey: Record<string, unknown> = {};
    rule.groupBy.forEach((g, i) => (groupKey[g] = s.values[i]));
    const alert: Alert = {
      id: correlationAlertId(rule.id, JSON.stringify(s.values), windowStart),
      ruleId: rule.id,
      ruleTitle: rule.title,
      level: rule.level,
      tags: [...rule.tags],
      groupKey,
      windowStart,
      windowEnd,
      eventIds,
      eventCount,
      summary,
    };
    if (rule.emit) {
      stats.alerts++;
      options.onAlert(alert);
    }
    if (s.rt.downstream.length === 0) return;
    const last = used[used.length - 1]!.ev;
    const ev: DetectEvent = {
      id: alert.id,
      time: windowEnd,
      raw: groupKey,
      fields: last.fields,
      logsource: last.logsource,
      source: last.source,
      seq: last.seq,
    };
    upstreamAlert.set(ev, alert);
    upstreamLabel.set(
      ev,
      rule.type === 'event_count' ? [...new Set(used.map((it) => labelOf(s, it)))].join(' or ') : rule.title,
    );
    for (const d of s.rt.downstream) deliver(d.rt, d.ref, ev);
  };

  // ------------------------------------------------------------------------------------------- API
  return {
    push(match: RuleMatch): void {
      const targets = dispatch.get(match.rule.id);
      if (!targets) return;
      stats.matches++;
      const ev = match.event;
      if (ev.time < watermark - lateness) {
        stats.late++;
        return;
      }
      for (const t of targets)
        if (t.rt.rule.refs[t.ref]!.kind === 'detection') t.rt.labels[t.ref] = match.rule.title;
      if (ev.time > watermark) watermark = ev.time;
      for (const t of targets) deliver(t.rt, t.ref, ev);
      runDeadlines(watermark - lateness);
      expireFront(watermark - lateness);
    },
    advance(watermarkMs: number): void {
      if (watermarkMs > watermark) watermark = watermarkMs;
      runDeadlines(watermark - lateness);
      expireFront(watermark - lateness);
    },
    flush(): void {
      runDeadlines(watermark);
      while (stalest) {
        if (contentSize(stalest) > 0) stats.openAtFlush++;
        remove(stalest);
      }
      heap.length = 0;
    },
    stats: () => ({ ...stats }),
    stateEntries: () => entries,
    watermark: () => watermark,
  };
}

/** The value a baseline kind compares, or null when it does not apply (no IP for new_network). */
function baselineToken(kind: BaselineKind, v: unknown, t: number): string | null {
  if (kind === 'new_hour') return String(new Date(t).getUTCHours()).padStart(2, '0') + 'h';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return kind === 'new_value' ? text : networkOf(text);
}

/** The /24 of an IPv4 address or the /64 of an IPv6 address; null when `ip` is neither. */
export function networkOf(ip: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (!/^[0-9a-fA-F:]+$/.test(ip) || !ip.includes(':')) return null;
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? h
      : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  if (groups.length !== 8) return null;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

function closingValue(rule: CorrelationRule, used: Item[]): number {
  switch (rule.type) {
    case 'value_count':
      return new Set(used.map((x) => x.v)).size;
    case 'value_sum':
      return used.reduce((a, x) => a + (x.v as number), 0);
    case 'value_avg':
      return used.reduce((a, x) => a + (x.v as number), 0) / used.length;
    case 'value_percentile':
      return percentileOf(
        used.map((x) => x.v as number),
        rule.percentile,
      );
    default:
      return used.length;
  }
}

function fmtValue(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
