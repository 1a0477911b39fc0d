/**
 * Detection as one piece: loads rule files (Sigma rules, filters and correlations, and Keyward's own pack),
 * builds a detector (the runner and the correlation engine over the loaded rules), and reads events into it.
 * `keyward detect`, `keyward rules check` and the server's continuous detection use this module.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCorrelationEngine, parseCorrelationRules, type CorrelationRule } from './correlation/index.js';
import type { Alert, DetectEvent, DetectionRule, RuleLoadError, RuleMeta } from './detect-types.js';
import { createRunner } from './engine.js';
import { loadRules, summarizeLoad, type CheckReport, type LoadResult } from './sigma/index.js';

/** Where Keyward's own rule pack is: `rules/keyward` at the package root (found from src/ and from dist/src/). */
export function builtinRulesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'rules', 'keyward');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('the built-in rule pack (rules/keyward) is missing from the installation');
}

/** Everything loaded from rule files. */
export interface LoadedRules {
  detections: DetectionRule[];
  correlations: CorrelationRule[];
  errors: RuleLoadError[];
  /** Every rule by id, for outputs (SARIF driver rules, OCSF descriptions). */
  byId: Map<string, RuleMeta>;
  /** What `keyward rules check` prints. */
  report: CheckReport;
}

/** Marks the documents whose correlation failed to load (the Sigma loader leaves them ok). */
function withCorrelationErrors(load: LoadResult, errors: RuleLoadError[]): LoadResult {
  if (errors.length === 0) return load;
  const documents = load.documents.map((d) => ({ ...d, errors: [...d.errors] }));
  for (const e of errors) {
    // The document an error belongs to: the last one of its file that starts at or before the error's line.
    const candidates = documents.filter(
      (d) => d.file === e.file && d.kind === 'correlation' && (d.line ?? 0) <= (e.line ?? Infinity),
    );
    const doc = candidates[candidates.length - 1];
    if (doc) {
      doc.errors.push(e);
      doc.status = 'error';
    }
  }
  return { ...load, documents, errors: [...load.errors, ...errors] };
}

/**
 * Loads rule files and directories: Sigma detections and filters, then the correlations over them.
 * Rules that fail to load are reported and left out; the others run.
 */
export async function loadDetectionRules(
  paths: string[],
  options: { placeholders?: Record<string, string[]>; builtin?: boolean } = {},
): Promise<LoadedRules> {
  const all = options.builtin ? [builtinRulesDir(), ...paths] : paths;
  const load = await loadRules(all, options.placeholders ? { placeholders: options.placeholders } : {});
  const correlations = parseCorrelationRules(load.correlationDocs, { rules: load.detections });
  const merged = withCorrelationErrors(load, correlations.errors);
  const byId = new Map<string, RuleMeta>();
  for (const r of load.detections) byId.set(r.id, r);
  for (const r of correlations.rules) byId.set(r.id, r);
  return {
    detections: load.detections,
    correlations: correlations.rules,
    errors: merged.errors,
    byId,
    report: summarizeLoad(merged),
  };
}

/** Settings of a detector. */
export interface DetectorOptions {
  allowedLatenessMs: number;
  maxStateEntries: number;
  onAlert(alert: Alert): void;
}

/**
 * A detector over loaded rules: push events in arrival order, then `end()` (batch) — or keep pushing
 * (streaming; `advance` moves time on a quiet stream).
 */
export function createDetector(
  rules: Pick<LoadedRules, 'detections' | 'correlations'>,
  options: DetectorOptions,
) {
  const consumed = new Set<string>();
  const generate = new Set<string>();
  for (const c of rules.correlations) {
    for (const ref of c.refs) {
      if (ref.kind !== 'detection') continue;
      consumed.add(ref.id);
      if (c.generate) generate.add(ref.id);
    }
  }
  const correlation = createCorrelationEngine(rules.correlations, {
    allowedLatenessMs: options.allowedLatenessMs,
    maxStateEntries: options.maxStateEntries,
    onAlert: options.onAlert,
  });
  const runner = createRunner({
    detections: rules.detections,
    consumed,
    generate,
    correlation,
    onAlert: options.onAlert,
  });
  return {
    push: (event: DetectEvent): void => runner.push(event),
    /** An event no rule can match, passed over unread at this event time (createLinePrefilter). */
    passOver: (time: number): void => runner.passOver(time),
    /** Moves event time on (a quiet stream), closing windows that ended. */
    advance: (watermarkMs: number): void => correlation.advance(watermarkMs),
    end: (): void => runner.end(),
    stats: () => ({
      ...runner.stats,
      correlation: correlation.stats(),
      stateEntries: correlation.stateEntries(),
    }),
  };
}

/** The detector's interface. */
export type Detector = ReturnType<typeof createDetector>;
