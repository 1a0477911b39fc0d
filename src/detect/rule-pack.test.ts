/**
 * Keyward's built-in rule pack (rules/keyward): it loads without a single error, every rule carries the
 * metadata the docs promise, and every alerting rule is proven by its fixtures: the positive file raises an
 * alert of exactly that rule, the negative file (a near miss: other keys, outside the window, wrong order)
 * raises none.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CorrelationRule } from './correlation/index.js';
import type { Alert, BrokenRecord, DetectionRule, RuleMeta } from './detect-types.js';
import { builtinRulesDir, createDetector, loadDetectionRules, type LoadedRules } from './detect-service.js';
import { loadFieldMapping, readEvents } from './events/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TECHNIQUE = /^attack\.t\d{4}(\.\d{3})?$/;
const TACTICS = new Set([
  'attack.reconnaissance',
  'attack.resource-development',
  'attack.initial-access',
  'attack.execution',
  'attack.persistence',
  'attack.privilege-escalation',
  'attack.defense-evasion',
  'attack.credential-access',
  'attack.discovery',
  'attack.lateral-movement',
  'attack.collection',
  'attack.command-and-control',
  'attack.exfiltration',
  'attack.impact',
]);
const STATUSES = new Set(['stable', 'test', 'experimental']);

const fixturesDir = join(builtinRulesDir(), 'fixtures');
const stemOf = (r: RuleMeta): string => basename(r.location.file).replace(/\.ya?ml$/, '');

let rules: LoadedRules;
/** Rules that raise alerts of their own: detections no correlation consumes, and emitting correlations. */
let alerting: RuleMeta[];

beforeAll(async () => {
  rules = await loadDetectionRules([], { builtin: true });
  const consumed = new Set<string>();
  for (const c of rules.correlations)
    for (const ref of c.refs) if (ref.kind === 'detection') consumed.add(ref.id);
  alerting = [
    ...rules.detections.filter((d) => !consumed.has(d.id)),
    ...rules.correlations.filter((c) => c.emit),
  ];
});

/** Replays one fixture file through a fresh detector over the whole pack; returns the alerts. */
async function replay(
  file: string,
): Promise<{ alerts: Alert[]; broken: BrokenRecord[]; events: number; matches: number }> {
  const mappingFile = join(file, '..', 'mapping.json');
  const mapping = existsSync(mappingFile) ? await loadFieldMapping(mappingFile) : null;
  const alerts: Alert[] = [];
  const broken: BrokenRecord[] = [];
  const detector = createDetector(rules, {
    allowedLatenessMs: 60_000, // the server default (detect.allowedLatenessMs)
    maxStateEntries: 100_000,
    onAlert: (a) => alerts.push(a),
  });
  let events = 0;
  for await (const event of readEvents([file], { mapping, onBroken: (b) => broken.push(b) })) {
    detector.push(event);
    events++;
  }
  detector.end();
  return { alerts, broken, events, matches: detector.stats().matches };
}

describe('the built-in rule pack', () => {
  it('loads with zero errors', () => {
    expect(rules.errors).toEqual([]);
    expect(rules.report.ok).toBe(true);
    expect(rules.report.counts.error).toBe(0);
  });

  it('has at least 30 alerting rules, 10 or more of them correlations', () => {
    expect(alerting.length).toBeGreaterThanOrEqual(30);
    expect(
      alerting.filter((r) => (r as CorrelationRule).kind === 'correlation').length,
    ).toBeGreaterThanOrEqual(10);
  });

  it('gives every rule a UUID, title, description, author Keyward, level, status, references and false positives', () => {
    const all: RuleMeta[] = [...rules.detections, ...rules.correlations];
    for (const r of all) {
      const where = `${r.title} (${r.location.file}:${r.location.line})`;
      expect(r.id, where).toMatch(UUID);
      expect(r.title.length, where).toBeGreaterThan(10);
      expect(r.description?.length ?? 0, where).toBeGreaterThan(20);
      expect(r.author, where).toBe('Keyward');
      expect(STATUSES.has(r.status ?? ''), where).toBe(true);
      expect(r.falsepositives.length, where).toBeGreaterThan(0);
    }
    for (const r of alerting) expect(r.references.length, `${r.title}`).toBeGreaterThan(0);
    for (const d of rules.detections)
      expect(d.logsource.product, d.title).toMatch(/^(aws|github|kubernetes|keyward)$/);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
  });

  it('tags every rule with an ATT&CK technique and tactic', () => {
    for (const r of [...rules.detections, ...rules.correlations]) {
      expect(
        r.tags.some((t) => TECHNIQUE.test(t)),
        `${r.title}: ${r.tags.join(' ')}`,
      ).toBe(true);
      expect(
        r.tags.some((t) => TACTICS.has(t)),
        `${r.title}: ${r.tags.join(' ')}`,
      ).toBe(true);
    }
  });

  it('has exactly one alerting rule per file, and positive and negative fixtures for each', () => {
    const stems = alerting.map(stemOf).sort();
    expect(new Set(stems).size).toBe(stems.length);
    const folders = readdirSync(fixturesDir).sort();
    expect(folders).toEqual(stems);
    for (const f of folders) {
      expect(existsSync(join(fixturesDir, f, 'positive.ndjson')), f).toBe(true);
      expect(existsSync(join(fixturesDir, f, 'negative.ndjson')), f).toBe(true);
    }
  });
});

describe('rule fixtures', () => {
  const folders = existsSync(fixturesDir) ? readdirSync(fixturesDir).sort() : [];
  const ruleOf = (stem: string): RuleMeta | DetectionRule => {
    const found = alerting.filter((r) => stemOf(r) === stem);
    expect(found.map((r) => r.title)).toHaveLength(1);
    return found[0]!;
  };

  for (const stem of folders) {
    it(`${stem}: the positive fixture raises the rule`, async () => {
      const rule = ruleOf(stem);
      const { alerts, broken, events } = await replay(join(fixturesDir, stem, 'positive.ndjson'));
      expect(broken).toEqual([]);
      expect(events).toBeGreaterThan(0);
      expect(
        alerts.filter((a) => a.ruleId === rule.id).length,
        alerts.map((a) => a.ruleTitle).join('; '),
      ).toBeGreaterThan(0);
    });

    it(`${stem}: the negative fixture (a near miss) does not`, async () => {
      const rule = ruleOf(stem);
      const { alerts, broken, events, matches } = await replay(join(fixturesDir, stem, 'negative.ndjson'));
      expect(broken).toEqual([]);
      expect(events).toBeGreaterThan(0);
      // A correlation's near miss: its input rules match, the correlation's logic is what says no.
      if ((rule as CorrelationRule).kind === 'correlation') expect(matches).toBeGreaterThan(0);
      expect(alerts.filter((a) => a.ruleId === rule.id).map((a) => a.summary)).toEqual([]);
    });
  }
});
