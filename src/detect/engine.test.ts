import { describe, expect, it } from 'vitest';
import type { Alert, DetectEvent, DetectionRule, RuleMatch } from './detect-types.js';
import { alertId, createRunner, logsourceApplies } from './engine.js';

const rule = (
  id: string,
  name: string | null,
  test: (e: DetectEvent) => boolean,
  logsource = { product: 'aws', service: 'cloudtrail' },
): DetectionRule => ({
  kind: 'detection',
  id,
  name,
  title: `Rule ${id}`,
  description: null,
  level: 'medium',
  status: 'test',
  tags: ['attack.t1078'],
  author: null,
  references: [],
  falsepositives: [],
  location: { file: 'r.yml', line: 1 },
  keyward: {},
  logsource,
  fields: [],
  matches: test,
});

let seq = 0;
const event = (
  raw: Record<string, unknown>,
  fields: Record<string, unknown> = {},
  logsource = { product: 'aws', service: 'cloudtrail' },
): DetectEvent => ({
  id: `e${++seq}`,
  time: Date.parse('2026-11-01T10:00:00Z') + seq * 1000,
  raw,
  fields,
  logsource,
  source: { adapter: 'cloudtrail', file: 'f.json', line: seq },
  seq,
});

describe('detection runner', () => {
  it('routes by log source: every field a rule names must match, case-insensitively', () => {
    expect(
      logsourceApplies({ product: 'aws', service: 'cloudtrail' }, { product: 'AWS', service: 'cloudtrail' }),
    ).toBe(true);
    expect(logsourceApplies({ product: 'aws' }, { product: 'aws', service: 'cloudtrail' })).toBe(true);
    expect(
      logsourceApplies({ product: 'aws', service: 'guardduty' }, { product: 'aws', service: 'cloudtrail' }),
    ).toBe(false);
    expect(logsourceApplies({ category: 'x' }, { product: 'aws' })).toBe(false);
  });

  it('alerts on single-event matches, feeds consumed rules to correlations only, and both with generate', () => {
    const alerts: Alert[] = [];
    const fed: RuleMatch[] = [];
    const watermarks: number[] = [];
    let flushed = false;
    const assume = rule('r-assume', 'assume_role', (e) => e.raw.eventName === 'AssumeRole');
    const key = rule('r-key', 'create_key', (e) => e.raw.eventName === 'CreateAccessKey');
    const login = rule('r-login', null, (e) => e.raw.eventName === 'ConsoleLogin');
    const github = rule('r-gh', null, () => true, { product: 'github', service: 'audit' });
    const runner = createRunner({
      detections: [assume, key, login, github],
      consumed: new Set(['assume_role', 'r-key']),
      generate: new Set(['create_key']),
      correlation: {
        push: (m) => fed.push(m),
        advance: (w) => watermarks.push(w),
        flush: () => void (flushed = true),
      },
      onAlert: (a) => alerts.push(a),
    });
    const events = [
      event(
        { eventName: 'AssumeRole' },
        { 'actor.user.name': 'ci-deployer', 'src_endpoint.ip': '203.0.113.9', 'api.operation': 'AssumeRole' },
      ),
      event({ eventName: 'CreateAccessKey' }),
      event({ eventName: 'ConsoleLogin' }, { 'actor.user.uid': 'AIDA123' }),
      event({ eventName: 'Other' }),
    ];
    for (const e of events) runner.push(e);
    runner.end();
    expect(fed.map((m) => `${m.rule.id}:${m.event.id}`)).toEqual([
      `r-assume:${events[0]!.id}`,
      `r-key:${events[1]!.id}`,
    ]);
    expect(alerts.map((a) => a.ruleId)).toEqual(['r-key', 'r-login']);
    expect(alerts[1]).toEqual({
      id: alertId('r-login', events[2]!.id, events[2]!.time),
      ruleId: 'r-login',
      ruleTitle: 'Rule r-login',
      level: 'medium',
      tags: ['attack.t1078'],
      groupKey: null,
      windowStart: events[2]!.time,
      windowEnd: events[2]!.time,
      eventIds: [events[2]!.id],
      eventCount: 1,
      summary: `Rule r-login: by AIDA123 at ${new Date(events[2]!.time).toISOString()}`,
    });
    expect(runner.stats).toEqual({ events: 4, matches: 3, alerts: 2 });
    expect(watermarks).toEqual(events.map((e) => e.time));
    expect(flushed).toBe(true);
  });

  it('the alert id of a replayed event is the same', () => {
    expect(alertId('r', 'e1', 5)).toBe(alertId('r', 'e1', 5));
    expect(alertId('r', 'e1', 5)).not.toBe(alertId('r', 'e2', 5));
    expect(alertId('r', { k: 1 }, 5)).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('rule index', () => {
  it('finds exactly the matches of testing every rule, over the SigmaHQ rules, the pack and their fixtures', async () => {
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { loadDetectionRules } = await import('./detect-service.js');
    const { readEvents } = await import('./events/index.js');
    const root = new URL('../..', import.meta.url).pathname;
    const loaded = await loadDetectionRules([join(root, 'src/detect/sigma/fixtures/sigmahq')], {
      builtin: true,
    });
    expect(loaded.detections.filter((r) => r.prefilter).length).toBeGreaterThan(50);
    const fixtures = join(root, 'rules/keyward/fixtures');
    const files = readdirSync(fixtures).flatMap((d) =>
      readdirSync(join(fixtures, d))
        .filter((f) => f.endsWith('.ndjson'))
        .map((f) => join(fixtures, d, f)),
    );
    const run = async (rules: DetectionRule[]) => {
      const hits: string[] = [];
      const runner = createRunner({
        detections: rules,
        onAlert: (a) => hits.push(`${a.ruleId}:${a.eventIds[0]}`),
      });
      for (const file of files) for await (const e of readEvents([file])) runner.push(e);
      return hits;
    };
    const indexed = await run(loaded.detections);
    const plain = await run(loaded.detections.map((r) => ({ ...r, prefilter: null })));
    expect(indexed.length).toBeGreaterThan(20);
    expect(indexed).toEqual(plain);
  });
});
