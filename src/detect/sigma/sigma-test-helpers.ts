/** Test helpers: rules from JS objects, events from raw records. Not used by the engine. */
import { stringify } from 'yaml';
import type { DetectEvent, DetectionRule } from '../detect-types.js';
import { loadRuleTexts, type LoadOptions, type LoadResult } from './sigma-loader.js';

/** A CloudTrail-like event whose raw record is `raw`. */
export function ev(raw: Record<string, unknown>, fields: Record<string, unknown> = {}): DetectEvent {
  return {
    id: 'evt-1',
    time: Date.parse('2024-03-07T22:15:30Z'),
    raw,
    fields,
    logsource: { product: 'aws', service: 'cloudtrail' },
    source: { adapter: 'cloudtrail', file: null, line: null },
    seq: 1,
  };
}

/** Loads one rule document made of a title, a logsource and `detection`. */
export function loadDetection(detection: Record<string, unknown>, options: LoadOptions = {}): LoadResult {
  const text = stringify({
    title: 'test rule',
    id: 'r-1',
    logsource: { product: 'aws', service: 'cloudtrail' },
    detection,
  });
  return loadRuleTexts([{ file: 'test.yml', text }], options);
}

/** The compiled rule of `detection`; throws with the load errors when it does not load. */
export function ruleOf(detection: Record<string, unknown>, options: LoadOptions = {}): DetectionRule {
  const result = loadDetection(detection, options);
  const rule = result.detections[0];
  if (!rule || result.errors.length > 0)
    throw new Error(`rule did not load: ${JSON.stringify(result.errors)}`);
  return rule;
}

/** The single selection `sel` with condition `sel`. */
export function selection(sel: unknown, options: LoadOptions = {}): DetectionRule {
  return ruleOf({ sel, condition: 'sel' }, options);
}
