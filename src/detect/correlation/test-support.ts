/** Hand-built rules, events and documents for the correlation tests. */
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import type { Alert, DetectEvent, DetectionRule, RawRuleDoc, RuleMatch } from '../detect-types.js';
import { createCorrelationEngine, type CorrelationEngine } from './engine.js';
import { parseCorrelationRules } from './parse.js';
import type { CorrelationRule } from './correlation-types.js';

/** A detection rule that matches whatever it is given (tests decide which rule an event matched). */
export function detectionRule(id: string, name: string | null = null, title = name ?? id): DetectionRule {
  return {
    kind: 'detection',
    id,
    name,
    title,
    description: null,
    level: 'low',
    status: null,
    tags: [],
    author: null,
    references: [],
    falsepositives: [],
    location: { file: 'test.yml', line: 1 },
    keyward: {},
    logsource: {},
    fields: [],
    matches: () => true,
  };
}

let nextSeq = 1;
/** An event at `time` (ms) with `raw` fields; seq increases with every call unless given. */
export function event(id: string, time: number, raw: Record<string, unknown>, seq = nextSeq++): DetectEvent {
  return {
    id,
    time,
    raw,
    fields: {},
    logsource: {},
    source: { adapter: 'ndjson', file: null, line: null },
    seq,
  };
}

/** Splits multi-document YAML into RawRuleDocs with a working lineOf. */
export function docsFromYaml(text: string, file = 'rules.yml'): RawRuleDoc[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  return docs.map((d, index) => {
    if (d.errors.length) throw new Error(d.errors[0]!.message);
    const lineOf = (path: ReadonlyArray<string | number>): number | null => {
      let node: unknown = d.contents;
      for (const k of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === k);
          if (!pair) return null;
          node = pair.value ?? pair.key;
          if (path[path.length - 1] === k && pair.key) node = pair.key;
        } else if (isSeq(node) && typeof k === 'number') node = node.items[k];
        else return null;
      }
      const range = (node as Node | null)?.range;
      return range ? lc.linePos(range[0]).line : null;
    };
    return { file, index, doc: d.toJS() as Record<string, unknown>, lineOf };
  });
}

/** Loads correlation YAML against `detections`; throws on any load error. */
export function load(text: string, detections: DetectionRule[]): CorrelationRule[] {
  const { rules, errors } = parseCorrelationRules(docsFromYaml(text), { rules: detections });
  if (errors.length) throw new Error(errors.map((e) => `${e.line}: ${e.field}: ${e.message}`).join('\n'));
  return rules;
}

/** An engine that collects its alerts. */
export function collect(
  rules: CorrelationRule[],
  opts: { allowedLatenessMs?: number; maxStateEntries?: number } = {},
): { engine: CorrelationEngine; alerts: Alert[]; push(rule: DetectionRule, ev: DetectEvent): void } {
  const alerts: Alert[] = [];
  const engine = createCorrelationEngine(rules, {
    allowedLatenessMs: opts.allowedLatenessMs ?? 0,
    maxStateEntries: opts.maxStateEntries ?? 100_000,
    onAlert: (a) => alerts.push(a),
  });
  return { engine, alerts, push: (rule, ev) => engine.push({ rule, event: ev } satisfies RuleMatch) };
}

export const SEC = 1000;
export const MIN = 60_000;
