import { describe, expect, it } from 'vitest';
import { parseCorrelationRules } from './parse.js';
import { detectionRule, docsFromYaml } from './test-support.js';

const known = {
  rules: [
    detectionRule('id-failed', 'failed_login'),
    detectionRule('id-ok', 'successful_login'),
    detectionRule('id-x', 'x'),
  ],
};
const parse = (yaml: string) => parseCorrelationRules(docsFromYaml(yaml, 'mr_test.yml'), known);

describe('parseCorrelationRules', () => {
  it('loads the spec example chain (names resolved to ids, intermediate does not emit)', () => {
    const { rules, errors } = parse(`
title: Many failed then success
id: outer
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]
  group-by: [User]
  timespan: 10m
level: high
tags: [attack.t1110]
---
title: Multiple failed logons
id: inner
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [User]
  timespan: 10m
  condition:
    gte: 10
`);
    expect(errors).toEqual([]);
    const [outer, inner] = rules;
    expect(outer!.refs.map((r) => [r.ref, r.id, r.kind])).toEqual([
      ['multiple_failed_login', 'inner', 'correlation'],
      ['successful_login', 'id-ok', 'detection'],
    ]);
    expect(outer!.timespanMs).toBe(600_000);
    expect(outer!.level).toBe('high');
    expect(outer!.tags).toEqual(['attack.t1110']);
    expect(outer!.emit).toBe(true);
    expect(inner!.emit).toBe(false);
    expect(inner!.criteria).toEqual([{ op: 'gte', value: 10 }]);
  });

  it('applies aliases per referenced rule to group-by and field', () => {
    const { rules, errors } = parse(`
title: t
correlation:
  type: temporal
  rules: [failed_login, id-ok]
  group-by: [ip]
  timespan: 10s
  aliases:
    ip:
      failed_login: source.ip
      successful_login: destination.ip
`);
    expect(errors).toEqual([]);
    expect(rules[0]!.refs.map((r) => r.groupFields)).toEqual([['source.ip'], ['destination.ip']]);
    expect(rules[0]!.criteria).toEqual([{ op: 'gte', value: 2 }]);
    expect(rules[0]!.id).toBe('mr_test.yml#0');
  });

  it('reads ranges, value fields, the temporal boolean condition and Keyward extensions', () => {
    const { rules, errors } = parse(`
title: range
correlation: { type: value_count, rules: [x], group-by: [h], timespan: 2w, condition: { field: [u, d], gt: 100, lte: 200 } }
---
title: bool
correlation: { type: temporal, rules: [failed_login, successful_login, x], group-by: [u], timespan: 1d, condition: "failed_login and (successful_login or id-x) and not x" }
---
title: absence
correlation: { type: temporal_ordered, rules: [failed_login, successful_login], group-by: [u], timespan: 5m }
keyward: { absence: true, until: 2030-01-01T00:00:00Z, suppress: 1h, missingGroupBy: "null" }
`);
    expect(errors).toEqual([]);
    const [range, bool, absence] = rules;
    expect(range!.criteria).toEqual([
      { op: 'gt', value: 100 },
      { op: 'lte', value: 200 },
    ]);
    expect(range!.field).toEqual(['u', 'd']);
    expect(range!.timespanMs).toBe(14 * 86_400_000);
    expect(bool!.expr).toEqual({
      kind: 'and',
      operands: [
        { kind: 'ref', index: 0 },
        {
          kind: 'or',
          operands: [
            { kind: 'ref', index: 1 },
            { kind: 'ref', index: 2 },
          ],
        },
        { kind: 'not', operand: { kind: 'ref', index: 2 } },
      ],
    });
    expect(absence!.absence).toBe(true);
    expect(absence!.untilMs).toBe(Date.UTC(2030, 0, 1));
    expect(absence!.suppressMs).toBe(3_600_000);
    expect(absence!.missingGroupBy).toBe('null');
  });

  it('reports errors with file, line and field', () => {
    const { rules, errors } = parse(`
title: ok
correlation: { type: event_count, rules: [x], group-by: [u], timespan: 1h, condition: { gte: 2 } }
---
title: bad timespan
correlation:
  type: event_count
  rules: [x]
  group-by: [u]
  timespan: 1y
  condition: { gte: 2 }
---
title: unknown rule
correlation:
  type: event_count
  rules:
    - x
    - nope
  timespan: 1h
  condition: { gte: 2 }
---
title: no field
correlation: { type: value_sum, rules: [x], timespan: 1h, condition: { gt: 2 } }
---
title: bad op
correlation: { type: event_count, rules: [x], timespan: 1h, condition: { ge: 2 } }
---
title: bool on event_count
correlation: { type: event_count, rules: [x], timespan: 1h, condition: "x and x" }
---
title: bool unknown name
correlation: { type: temporal, rules: [x, failed_login], timespan: 1h, condition: "x and y" }
---
title: baseline with a condition
correlation: { type: event_count, rules: [x], group-by: [u], timespan: 1h, condition: { gte: 1 } }
keyward: { baseline: { field: ip, per: u, history: 30d, kinds: [new_value] } }
---
title: absence needs ordered
correlation: { type: temporal, rules: [x, failed_login], timespan: 1h }
keyward: { absence: true }
---
title: alias without rule
correlation:
  type: temporal
  rules: [x, failed_login]
  group-by: [ip]
  timespan: 1h
  aliases: { ip: { x: a } }
`);
    expect(rules.map((r) => r.title)).toEqual(['ok']);
    expect(errors.map((e) => [e.file, e.line, e.field, e.message])).toEqual([
      [
        'mr_test.yml',
        10,
        'correlation.timespan',
        'timespan must be a positive integer followed by s, m, h, d or w (e.g. 10m)',
      ],
      ['mr_test.yml', 23, 'correlation.condition', 'value_sum requires condition.field'],
      [
        'mr_test.yml',
        26,
        'correlation.condition.ge',
        'unknown condition operator "ge" (gt, gte, lt, lte, eq, neq)',
      ],
      [
        'mr_test.yml',
        29,
        'correlation.condition',
        'a boolean condition is only allowed for temporal correlations',
      ],
      ['mr_test.yml', 35, 'correlation.condition', 'a baseline correlation takes no condition'],
      [
        'mr_test.yml',
        40,
        'keyward.absence',
        'absence applies to temporal_ordered correlations (rule A not followed by rule B)',
      ],
      [
        'mr_test.yml',
        18,
        'correlation.rules.1',
        'unknown rule "nope" (no detection rule or correlation has this id or name)',
      ],
      [
        'mr_test.yml',
        32,
        'correlation.condition',
        'condition names "y", which is not one of the correlation\'s rules',
      ],
      ['mr_test.yml', 46, 'correlation.group-by.0', 'alias "ip" gives no field for rule "failed_login"'],
    ]);
  });

  it('refuses reference cycles and what depends on them', () => {
    const { rules, errors } = parse(`
title: a
name: a
correlation: { type: temporal, rules: [b, x], group-by: [u], timespan: 1h }
---
title: b
name: b
correlation: { type: temporal, rules: [a, x], group-by: [u], timespan: 1h }
---
title: c
name: c
correlation: { type: event_count, rules: [a], group-by: [u], timespan: 1h, condition: { gte: 1 } }
---
title: self
name: self
correlation: { type: event_count, rules: [self], timespan: 1h, condition: { gte: 1 } }
`);
    expect(rules).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([
      'reference cycle: a → b → a',
      'reference cycle: b → a → b',
      'reference cycle: self → self',
      'refers to correlation "a", which did not load',
    ]);
  });

  it('refuses duplicate ids and names', () => {
    const { rules, errors } = parse(`
title: one
id: dup
correlation: { type: event_count, rules: [x], timespan: 1h, condition: { gte: 1 } }
---
title: two
id: dup
correlation: { type: event_count, rules: [x], timespan: 1h, condition: { gte: 1 } }
---
title: three
name: failed_login
correlation: { type: event_count, rules: [x], timespan: 1h, condition: { gte: 1 } }
`);
    expect(rules.map((r) => r.title)).toEqual(['one']);
    expect(errors.map((e) => [e.field, e.message])).toEqual([
      ['id', 'duplicate rule id "dup"'],
      ['name', 'duplicate rule name "failed_login"'],
    ]);
  });
});

describe('keyward.baseline', () => {
  it('loads a baseline (per = the group-by) with defaults, and refuses a mismatched per', () => {
    const { rules, errors } = parse(`
title: New UA
correlation: { type: event_count, rules: [x], group-by: [client], timespan: 30d }
keyward: { baseline: { field: user_agent } }
---
title: bad per
correlation: { type: event_count, rules: [x], group-by: [client], timespan: 30d }
keyward: { baseline: { field: ip, per: [user] } }
---
title: bad kind
correlation: { type: event_count, rules: [x], group-by: [client], timespan: 30d }
keyward: { baseline: { field: ip, kinds: [new_city] } }
`);
    expect(rules.map((r) => [r.title, r.baseline, r.refs[0]!.valueFields])).toEqual([
      [
        'New UA',
        { field: 'user_agent', historyMs: 30 * 86_400_000, kinds: ['new_value'], learningMs: 86_400_000 },
        ['user_agent'],
      ],
    ]);
    expect(errors.map((e) => [e.field, e.message])).toEqual([
      ['keyward.baseline.per', "baseline.per must name the correlation's group-by fields (the identity)"],
      ['keyward.baseline.kinds', 'baseline.kinds must list some of new_value, new_network, new_hour'],
    ]);
  });
});
