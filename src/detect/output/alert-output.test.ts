import { describe, expect, it } from 'vitest';
import type { Alert, RuleMeta } from '../detect-types.js';
import { alertsTable, attacksFromTags, toOcsfFinding, toSarif } from './alert-output.js';

const alert: Alert = {
  id: 'a1b2',
  ruleId: 'kw-denied-then-success',
  ruleTitle: 'Many denied token requests then a success',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1110.001', 'attack.t1078', 'nhi.nhi4', 'attack.g0016'],
  groupKey: { clientId: 'kwc_abc' },
  windowStart: Date.parse('2026-11-01T10:00:00Z'),
  windowEnd: Date.parse('2026-11-01T10:04:00Z'),
  eventIds: ['e1', 'e2'],
  eventCount: 13,
  summary: '12 denied token requests then a success for client kwc_abc within 4m',
};

const rule: RuleMeta = {
  id: 'kw-denied-then-success',
  name: 'denied_then_success',
  title: 'Many denied token requests then a success',
  description: 'Password spraying against the token endpoint that worked.',
  level: 'high',
  status: 'stable',
  tags: alert.tags,
  author: 'Keyward',
  references: [],
  falsepositives: [],
  location: { file: 'rules/broker.yml', line: 12 },
  keyward: {},
};

describe('alert output', () => {
  it('reads ATT&CK techniques and tactics from tags and ignores the rest', () => {
    expect(attacksFromTags(alert.tags)).toEqual([
      { tactic: { name: 'Credential Access', uid: 'TA0006' } },
      { technique: { uid: 'T1110.001' } },
      { technique: { uid: 'T1078' } },
    ]);
  });

  it('an alert is an OCSF Detection Finding', () => {
    const f = toOcsfFinding(alert, rule);
    expect(f).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      type_uid: 200401,
      activity_id: 1,
      severity_id: 4,
      severity: 'High',
      is_alert: true,
      time: alert.windowEnd,
      message: alert.summary,
      metadata: { version: '1.4.0', product: { name: 'Keyward' }, uid: 'a1b2' },
      finding_info: {
        uid: 'a1b2',
        title: alert.ruleTitle,
        desc: rule.description,
        first_seen_time: alert.windowStart,
        analytic: { uid: rule.id, type_id: 1, type: 'Rule' },
        related_events: [{ uid: 'e1' }, { uid: 'e2' }],
        src_url: 'rules/broker.yml:12',
      },
      unmapped: { group_key: { clientId: 'kwc_abc' }, event_count: 13 },
    });
  });

  it('SARIF 2.1.0 lists the rules once and each alert as a result with its fingerprint', () => {
    const sarif = toSarif([alert, { ...alert, id: 'c3', level: 'low' }], new Map([[rule.id, rule]]), {
      version: '0.1.0',
    }) as { version: string; runs: Array<{ tool: { driver: { rules: unknown[] } }; results: unknown[] }> };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.tool.driver.rules).toEqual([
      {
        id: rule.id,
        name: rule.title,
        shortDescription: { text: rule.title },
        fullDescription: { text: rule.description },
        defaultConfiguration: { level: 'error' },
        properties: { tags: rule.tags, level: 'high' },
      },
    ]);
    expect(sarif.runs[0]!.results).toEqual([
      expect.objectContaining({
        ruleId: rule.id,
        ruleIndex: 0,
        level: 'error',
        partialFingerprints: { keywardAlertId: 'a1b2' },
      }),
      expect.objectContaining({ level: 'note', partialFingerprints: { keywardAlertId: 'c3' } }),
    ]);
  });

  it('prints a table, or says there are no alerts', () => {
    expect(alertsTable([])).toBe('no alerts\n');
    const lines = alertsTable([alert]).split('\n');
    expect(lines[0]).toMatch(/^time\s+level\s+rule\s+group\s+events\s+summary$/);
    expect(lines[1]).toMatch(
      /^2026-11-01T10:04:00Z\s+high\s+Many denied token requests then a success\s+kwc_abc\s+13\s+12 denied/,
    );
  });
});
