import { describe, expect, it } from 'vitest';
import { MAX_ALERT_EVENT_IDS } from '../detect-types.js';
import { correlationAlertId, percentileOf } from './engine.js';
import { collect, detectionRule, event, load, MIN, SEC } from './test-support.js';

const A = detectionRule('id-a', 'a', 'Rule A');
const B = detectionRule('id-b', 'b', 'Rule B');
const C = detectionRule('id-c', 'c', 'Rule C');
const rules = [A, B, C];
const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);

const countRule = (cond: string, extra = '') =>
  load(
    `title: Many A\nid: cnt\ncorrelation: { type: event_count, rules: [a], group-by: [host], timespan: 1m, condition: ${cond} }\n${extra}`,
    rules,
  );

describe('event_count', () => {
  it('uses sliding windows on event time, not clock-aligned buckets', () => {
    const { alerts, push } = collect(countRule('{ gte: 4 }'));
    // 10:00:40 … 10:01:10: no clock minute holds 4 events, but a 60 s window does.
    for (const s of [40, 50, 65, 70]) push(A, event(`e${s}`, T0 + s * SEC, { host: 'h1' }));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      ruleId: 'cnt',
      groupKey: { host: 'h1' },
      windowStart: T0 + 40 * SEC,
      windowEnd: T0 + 70 * SEC,
      eventIds: ['e40', 'e50', 'e65', 'e70'],
      eventCount: 4,
      summary: '4 × Rule A for host=h1 within 30s',
    });
    expect(alerts[0]!.id).toBe(correlationAlertId('cnt', '["h1"]', T0 + 40 * SEC));
  });

  it('never counts over a span longer than the timespan', () => {
    const { alerts, push } = collect(countRule('{ gte: 3 }'));
    // Every 31 s: any 60 s window holds at most 2.
    for (let i = 0; i < 10; i++) push(A, event(`e${i}`, T0 + i * 31 * SEC, { host: 'h1' }));
    expect(alerts).toEqual([]);
    push(A, event('x', T0 + 9 * 31 * SEC + 1, { host: 'h1' }));
    expect(alerts.map((a) => a.eventIds)).toEqual([['e8', 'e9', 'x']]);
  });

  it('counts per group-by key: events of other hosts never add up', () => {
    const { alerts, push } = collect(countRule('{ gte: 3 }'));
    push(A, event('1', T0, { host: 'h1' }));
    push(A, event('2', T0 + 1, { host: 'h2' }));
    push(A, event('3', T0 + 2, { host: 'h1' }));
    push(A, event('4', T0 + 3, { host: 'h3' }));
    expect(alerts).toEqual([]);
    push(A, event('5', T0 + 4, { host: 'h1' }));
    expect(alerts.map((a) => a.eventIds)).toEqual([['1', '3', '5']]);
  });

  it('consumes the events of an alert: the next alert needs a fresh set', () => {
    const { alerts, push } = collect(countRule('{ gte: 2 }'));
    for (let i = 0; i < 5; i++) push(A, event(`e${i}`, T0 + i * SEC, { host: 'h' }));
    expect(alerts.map((a) => a.eventIds)).toEqual([
      ['e0', 'e1'],
      ['e2', 'e3'],
    ]);
  });

  it('decides upper-bound and range conditions once the window is complete', () => {
    const { alerts, push, engine } = collect(countRule('{ gt: 1, lte: 3 }'));
    for (const [id, s, host] of [
      ['1', 0, 'h1'],
      ['2', 10, 'h1'],
      ['3', 0, 'h2'],
      ['4', 1, 'h2'],
      ['5', 2, 'h2'],
      ['6', 3, 'h2'],
      ['7', 5, 'h3'],
    ] as const) {
      push(A, event(id, T0 + s * SEC, { host }));
    }
    expect(alerts).toEqual([]);
    engine.advance(T0 + 60 * SEC - 1);
    expect(alerts).toEqual([]);
    engine.advance(T0 + 65 * SEC);
    // h1: 2 (in range), h2: 4 (above), h3: 1 (below).
    expect(alerts.map((a) => [a.groupKey, a.eventCount, a.summary])).toEqual([
      [{ host: 'h1' }, 2, '2 × Rule A for host=h1 within 10s'],
    ]);
  });

  it('caps the event ids of an alert and keeps the full count', () => {
    const { alerts, push } = collect(countRule('{ gte: 120 }'));
    for (let i = 0; i < 120; i++) push(A, event(`e${i}`, T0 + i * 100, { host: 'h' }));
    expect(alerts[0]!.eventCount).toBe(120);
    expect(alerts[0]!.eventIds).toHaveLength(MAX_ALERT_EVENT_IDS);
    expect(alerts[0]!.eventIds[0]).toBe('e0');
  });
});

describe('group-by and missing fields', () => {
  const temporal = (extra = '') =>
    load(
      `title: A and B\nid: tmp\ncorrelation: { type: temporal, rules: [a, b], group-by: [host], timespan: 5m }\n${extra}`,
      rules,
    );

  it('temporal requires the same group-by values across rules', () => {
    const { alerts, push } = collect(temporal());
    push(A, event('a1', T0, { host: 'h1' }));
    push(B, event('b2', T0 + SEC, { host: 'h2' }));
    expect(alerts).toEqual([]);
    push(B, event('b1', T0 + 2 * SEC, { host: 'h1' }));
    expect(alerts.map((a) => [a.groupKey, a.eventIds, a.summary])).toEqual([
      [{ host: 'h1' }, ['a1', 'b1'], 'Rule A and Rule B for host=h1 within 2s'],
    ]);
  });

  it('skips a match without a group-by field by default (no merged "undefined" group)', () => {
    const { alerts, push, engine } = collect(temporal());
    push(A, event('a1', T0, {}));
    push(B, event('b1', T0 + SEC, {}));
    expect(alerts).toEqual([]);
    expect(engine.stats().missingGroupBy).toBe(2);
  });

  it('missingGroupBy: null groups missing values under null', () => {
    const { alerts, push } = collect(temporal('keyward: { missingGroupBy: "null" }'));
    push(A, event('a1', T0, {}));
    push(B, event('b1', T0 + SEC, { host: null }));
    expect(alerts.map((a) => [a.groupKey, a.summary])).toEqual([
      [{ host: null }, 'Rule A and Rule B for host=(none) within 1s'],
    ]);
  });

  it('aliases map a group-by name to a different field per rule', () => {
    const rs = load(
      `title: Err then conn\nid: al\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  group-by: [ip]\n  timespan: 10s\n  aliases:\n    ip: { a: destination.ip, b: source.ip }`,
      rules,
    );
    const { alerts, push } = collect(rs);
    push(A, event('a1', T0, { destination: { ip: '10.0.0.1' }, source: { ip: '10.0.0.9' } }));
    push(B, event('b1', T0 + SEC, { source: { ip: '10.0.0.2' } }));
    expect(alerts).toEqual([]);
    push(B, event('b2', T0 + 2 * SEC, { source: { ip: '10.0.0.1' } }));
    expect(alerts.map((a) => [a.groupKey, a.eventIds])).toEqual([[{ ip: '10.0.0.1' }, ['a1', 'b2']]]);
  });
});

describe('temporal_ordered', () => {
  const ordered = (extra = '', span = '5m') =>
    load(
      `title: A then B then C\nid: ord\ncorrelation: { type: temporal_ordered, rules: [a, b, c], group-by: [u], timespan: ${span} }\n${extra}`,
      rules,
    );

  it('enforces the order of every step, not only the first', () => {
    const { alerts, push } = collect(ordered());
    push(A, event('a1', T0, { u: 'x' }));
    push(C, event('c1', T0 + SEC, { u: 'x' }));
    push(B, event('b1', T0 + 2 * SEC, { u: 'x' }));
    expect(alerts).toEqual([]);
    push(C, event('c2', T0 + 3 * SEC, { u: 'x' }));
    expect(alerts.map((a) => [a.eventIds, a.summary])).toEqual([
      [['a1', 'b1', 'c2'], 'Rule A then Rule B then Rule C for u=x within 3s'],
    ]);
  });

  it('breaks equal timestamps by arrival (seq) and never uses one event for two steps', () => {
    const { alerts, push } = collect(
      load(
        `title: A then B\nid: ab\ncorrelation: { type: temporal_ordered, rules: [a, b], group-by: [u], timespan: 1m }`,
        rules,
      ),
    );
    push(B, event('b0', T0, { u: 'x' }, 10));
    push(A, event('a1', T0, { u: 'x' }, 11));
    expect(alerts).toEqual([]);
    const both = event('ab', T0 + SEC, { u: 'x' }, 12);
    push(A, both);
    push(B, both);
    expect(alerts.map((a) => a.eventIds)).toEqual([['a1', 'ab']]);
  });

  it('requires every step within the timespan of the first', () => {
    const { alerts, push } = collect(ordered('', '1m'));
    push(A, event('a1', T0, { u: 'x' }));
    push(B, event('b1', T0 + 30 * SEC, { u: 'x' }));
    push(C, event('c1', T0 + 61 * SEC, { u: 'x' }));
    expect(alerts).toEqual([]);
  });

  it('requires equal group-by values across steps', () => {
    const { alerts, push } = collect(ordered());
    push(A, event('a1', T0, { u: 'x' }));
    push(B, event('b1', T0 + 1, { u: 'y' }));
    push(C, event('c1', T0 + 2, { u: 'x' }));
    expect(alerts).toEqual([]);
  });

  it('accepts events out of order within the allowed lateness: timestamps decide the order', () => {
    const { alerts, push } = collect(ordered(), { allowedLatenessMs: MIN });
    push(B, event('b1', T0 + 10 * SEC, { u: 'x' }));
    push(C, event('c1', T0 + 20 * SEC, { u: 'x' }));
    push(A, event('a1', T0, { u: 'x' }));
    expect(alerts.map((a) => [a.eventIds, a.windowStart, a.windowEnd])).toEqual([
      [['a1', 'b1', 'c1'], T0, T0 + 20 * SEC],
    ]);
  });
});

describe('late events', () => {
  it('counts a late event within the lateness in its own window, drops later ones', () => {
    const { alerts, push, engine } = collect(countRule('{ gte: 3 }'), { allowedLatenessMs: 30 * SEC });
    push(A, event('e1', T0 + 100 * SEC, { host: 'h' }));
    push(A, event('e2', T0 + 130 * SEC, { host: 'h' }));
    push(A, event('too-late', T0 + 99 * SEC, { host: 'h' })); // watermark 130 s − 30 s = 100 s
    expect(engine.stats().late).toBe(1);
    expect(alerts).toEqual([]);
    push(A, event('late-ok', T0 + 101 * SEC, { host: 'h' }));
    expect(alerts.map((a) => [a.eventIds, a.windowStart])).toEqual([
      [['e1', 'late-ok', 'e2'], T0 + 100 * SEC],
    ]);
  });

  it('value_count: a late event adds its distinct value to the windows it belongs to', () => {
    const rs = load(
      `title: Spray\nid: vcl\ncorrelation: { type: value_count, rules: [a], group-by: [ip], timespan: 1m, condition: { field: user, gte: 3 } }`,
      rules,
    );
    const { alerts, push } = collect(rs, { allowedLatenessMs: 5 * MIN });
    push(A, event('1', T0, { ip: 'i', user: 'u1' }));
    push(A, event('2', T0 + 50 * SEC, { ip: 'i', user: 'u2' }));
    push(A, event('3', T0 + 3 * MIN, { ip: 'i', user: 'u3' }));
    expect(alerts).toEqual([]);
    push(A, event('late', T0 + 40 * SEC, { ip: 'i', user: 'u1' }));
    expect(alerts).toEqual([]);
    push(A, event('late-2', T0 + 30 * SEC, { ip: 'i', user: 'u9' }));
    expect(alerts.map((a) => a.eventIds)).toEqual([['1', 'late-2', 'late', '2']]);
  });

  it('a late event that falls between earlier windows completes the window it belongs to', () => {
    const { alerts, push } = collect(countRule('{ gte: 3 }'), { allowedLatenessMs: 10 * MIN });
    push(A, event('e1', T0, { host: 'h' }));
    push(A, event('e2', T0 + 50 * SEC, { host: 'h' }));
    push(A, event('e3', T0 + 5 * MIN, { host: 'h' }));
    push(A, event('late', T0 + 30 * SEC, { host: 'h' }));
    expect(alerts.map((a) => a.eventIds)).toEqual([['e1', 'late', 'e2']]);
  });
});

describe('chained correlations', () => {
  const chain = `
title: Brute force then success
id: outer
correlation:
  type: temporal_ordered
  rules: [many_denied, b]
  group-by: [client_id, ip]
  timespan: 10m
level: high
tags: [attack.t1110]
---
title: Denied burst
id: inner
name: many_denied
correlation: { type: event_count, rules: [a], group-by: [client_id, ip], timespan: 5m, condition: { gte: 12 } }
`;

  it('fire when their inputs fire; the intermediate does not alert on its own', () => {
    const denied = detectionRule('id-a', 'a', 'denied token request');
    const success = detectionRule('id-b', 'b', 'token issued');
    const { alerts, push } = collect(load(chain, [denied, success]));
    const who = { client_id: 'kwc_7Hx', ip: '203.0.113.9' };
    for (let i = 0; i < 12; i++) push(denied, event(`d${i}`, T0 + i * 10 * SEC, who));
    expect(alerts).toEqual([]);
    push(success, event('ok', T0 + 4 * MIN, who));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      ruleId: 'outer',
      level: 'high',
      tags: ['attack.t1110'],
      groupKey: who,
      windowStart: T0,
      windowEnd: T0 + 4 * MIN,
      eventCount: 13,
      summary: '12 × denied token request then token issued for client_id=kwc_7Hx, ip=203.0.113.9 within 4m',
    });
    expect(alerts[0]!.eventIds).toEqual([...Array.from({ length: 12 }, (_, i) => `d${i}`), 'ok']);
  });

  it('emit the intermediate too when the outer sets generate: true', () => {
    const { alerts, push } = collect(
      load(chain.replace('  timespan: 10m\n', '  timespan: 10m\n  generate: true\n'), rules),
    );
    for (let i = 0; i < 12; i++) push(A, event(`d${i}`, T0 + i, { client_id: 'k', ip: 'i' }));
    push(B, event('ok', T0 + 20, { client_id: 'k', ip: 'i' }));
    expect(alerts.map((a) => a.ruleId)).toEqual(['inner', 'outer']);
  });
});

describe('replay and bounded state', () => {
  it('a replay gives identical alerts (same ids)', () => {
    const rs = countRule('{ gte: 3 }');
    const run = () => {
      const { alerts, push, engine } = collect(rs);
      for (let i = 0; i < 200; i++) push(A, event(`e${i}`, T0 + i * 7 * SEC, { host: `h${i % 3}` }, i + 1));
      engine.flush();
      return alerts;
    };
    const first = run();
    expect(first.length).toBeGreaterThan(5);
    expect(run()).toEqual(first);
    expect(new Set(first.map((a) => a.id)).size).toBe(first.length);
  });

  it('holds the state cap under 1M distinct keys, evicting the stalest', () => {
    const { alerts, push, engine } = collect(countRule('{ gte: 2 }'), { maxStateEntries: 10_000 });
    let max = 0;
    for (let i = 0; i < 1_000_000; i++) {
      push(A, event(`e${i}`, T0, { host: `h${i}` }, i + 1));
      if ((i & 1023) === 0) max = Math.max(max, engine.stateEntries());
    }
    expect(max).toBeLessThanOrEqual(10_000);
    expect(engine.stateEntries()).toBeLessThanOrEqual(10_000);
    expect(engine.stats().evicted).toBeGreaterThan(980_000);
    // The most recent key survived, the stalest did not.
    push(A, event('again-last', T0, { host: 'h999999' }, 2_000_001));
    push(A, event('again-first', T0, { host: 'h0' }, 2_000_002));
    expect(alerts.map((a) => a.groupKey)).toEqual([{ host: 'h999999' }]);
  }, 120_000);

  it('drops a key state once its window has expired', () => {
    const { push, engine } = collect(countRule('{ gte: 5 }'));
    push(A, event('e1', T0, { host: 'h1' }));
    push(A, event('e2', T0, { host: 'h2' }));
    expect(engine.stateEntries()).toBe(4);
    push(A, event('e3', T0 + 61 * SEC, { host: 'h3' }));
    expect(engine.stateEntries()).toBe(2);
    expect(engine.stats().expired).toBe(2);
  });

  it('keeps one pending sequence per key and step', () => {
    const rs = load(
      `title: A then B\nid: ab\ncorrelation: { type: temporal_ordered, rules: [a, b], group-by: [u], timespan: 1h }`,
      rules,
    );
    const { push, engine } = collect(rs);
    for (let i = 0; i < 1000; i++) push(A, event(`a${i}`, T0 + i, { u: 'x' }));
    // The key itself, the pending sequence (latest start) and the one it replaced.
    expect(engine.stateEntries()).toBe(3);
  });
});

describe('value correlations', () => {
  it('value_count counts distinct values (tuples for several fields)', () => {
    const rs = load(
      `title: Spray\nid: vc\ncorrelation: { type: value_count, rules: [a], group-by: [ip], timespan: 1m, condition: { field: user, gte: 3 } }`,
      rules,
    );
    const { alerts, push } = collect(rs);
    for (const [id, user] of [
      ['1', 'u1'],
      ['2', 'u1'],
      ['3', 'u2'],
      ['4', 'u2'],
    ])
      push(A, event(id!, T0 + Number(id), { ip: 'i', user }));
    expect(alerts).toEqual([]);
    push(A, event('5', T0 + 5, { ip: 'i', user: 'u3' }));
    expect(alerts.map((a) => [a.eventCount, a.summary])).toEqual([
      [5, '3 distinct user in 5 × Rule A for ip=i within 4ms'],
    ]);
  });

  it('value_sum fires when the total crosses the threshold; non-numbers are counted and skipped', () => {
    const rs = load(
      `title: Exfil\nid: vs\ncorrelation: { type: value_sum, rules: [a], group-by: [u], timespan: 1h, condition: { field: bytes, gt: 1000 } }`,
      rules,
    );
    const { alerts, push, engine } = collect(rs);
    push(A, event('1', T0, { u: 'x', bytes: 600 }));
    push(A, event('2', T0 + 1, { u: 'x', bytes: 'lots' }));
    push(A, event('3', T0 + 2, { u: 'x', bytes: '401' }));
    expect(alerts.map((a) => [a.eventIds, a.summary])).toEqual([
      [['1', '3'], 'bytes totals 1001 over 2 × Rule A for u=x within 2ms'],
    ]);
    expect(engine.stats().missingValue).toBe(1);
  });

  it('value_avg decides on the complete window', () => {
    const rs = load(
      `title: Avg\nid: va\ncorrelation: { type: value_avg, rules: [a], group-by: [u], timespan: 1m, condition: { field: n, gt: 10 } }`,
      rules,
    );
    const { alerts, push, engine } = collect(rs);
    push(A, event('1', T0, { u: 'x', n: 30 }));
    push(A, event('2', T0 + SEC, { u: 'x', n: 1 }));
    push(A, event('3', T0 + 2 * SEC, { u: 'y', n: 3 }));
    engine.advance(T0 + MIN);
    expect(alerts.map((a) => [a.groupKey, a.summary])).toEqual([
      [{ u: 'x' }, 'n averages 15.50 over 2 × Rule A for u=x within 1s'],
    ]);
  });

  it('value_percentile matches a sorted reference (nearest rank)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const p of [1, 50, 90, 99, 100]) {
      const values = Array.from({ length: 501 }, () => Math.floor(rnd() * 10_000));
      const sorted = [...values].sort((x, y) => x - y);
      const reference = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      expect(percentileOf(values, p)).toBe(reference);
      const rs = load(
        `title: P\nid: vp\ncorrelation: { type: value_percentile, rules: [a], group-by: [u], timespan: 1h, condition: { field: ms, eq: ${reference} } }\nkeyward: { percentile: ${p} }`,
        rules,
      );
      const { alerts, push, engine } = collect(rs);
      values.forEach((v, i) => push(A, event(`e${i}`, T0 + i, { u: 'x', ms: v })));
      engine.advance(T0 + 3_600_000);
      expect(alerts.map((a) => a.summary)).toEqual([
        `p${p} of ms is ${reference} over 501 × Rule A for u=x within 500ms`,
      ]);
    }
  });
});

describe('temporal boolean condition', () => {
  it('"a and b and not c" fires on a complete window without c', () => {
    const rs = load(
      `title: AB not C\nid: bn\ncorrelation: { type: temporal, rules: [a, b, c], group-by: [u], timespan: 1m, condition: "a and b and not c" }`,
      rules,
    );
    const { alerts, push, engine } = collect(rs);
    push(A, event('a1', T0, { u: 'x' }));
    push(B, event('b1', T0 + SEC, { u: 'x' }));
    push(A, event('a2', T0, { u: 'y' }));
    push(B, event('b2', T0 + SEC, { u: 'y' }));
    push(C, event('c2', T0 + 2 * SEC, { u: 'y' }));
    expect(alerts).toEqual([]);
    engine.advance(T0 + MIN);
    expect(alerts.map((a) => [a.groupKey, a.eventIds])).toEqual([[{ u: 'x' }, ['a1', 'b1']]]);
  });

  it('a condition without "not" fires at once', () => {
    const rs = load(
      `title: A or B\nid: bo\ncorrelation: { type: temporal, rules: [a, b, c], group-by: [u], timespan: 1m, condition: "c and (a or b)" }`,
      rules,
    );
    const { alerts, push } = collect(rs);
    push(B, event('b1', T0, { u: 'x' }));
    push(C, event('c1', T0 + SEC, { u: 'x' }));
    expect(alerts.map((a) => a.eventIds)).toEqual([['b1', 'c1']]);
  });
});

describe('Keyward extensions', () => {
  const absence = (extra = '') =>
    load(
      `title: Approval requested, never granted\nid: abs\ncorrelation: { type: temporal_ordered, rules: [a, b], group-by: [req], timespan: 5m }\nkeyward: { absence: true${extra} }`,
      rules,
    );

  it('absence: A not followed by B within the timespan alerts at A + timespan', () => {
    const { alerts, push, engine } = collect(absence());
    push(A, event('a1', T0, { req: 'r1' }));
    push(A, event('a2', T0 + MIN, { req: 'r2' }));
    push(A, event('a1-again', T0 + 2 * MIN, { req: 'r1' }));
    push(B, event('b2', T0 + 3 * MIN, { req: 'r2' }));
    engine.advance(T0 + 5 * MIN - 1);
    expect(alerts).toEqual([]);
    engine.advance(T0 + 10 * MIN);
    expect(alerts.map((a) => [a.groupKey, a.eventIds, a.windowStart, a.windowEnd, a.summary])).toEqual([
      [{ req: 'r1' }, ['a1'], T0, T0 + 5 * MIN, 'Rule A not followed by Rule B for req=r1 within 5m'],
    ]);
  });

  it('absence: a B arriving late (within the lateness) still cancels', () => {
    const { alerts, push, engine } = collect(absence(), { allowedLatenessMs: 2 * MIN });
    push(A, event('a1', T0, { req: 'r1' }));
    push(C, event('other', T0 + 6 * MIN, {}));
    engine.advance(T0 + 6 * MIN);
    push(B, event('b1-late', T0 + 4 * MIN, { req: 'r1' }));
    engine.advance(T0 + 20 * MIN);
    expect(alerts).toEqual([]);
  });

  it('until: events at or after it are ignored', () => {
    const until = new Date(T0 + MIN).toISOString();
    const { alerts, push, engine } = collect(countRule('{ gte: 2 }', `keyward: { until: "${until}" }`));
    push(A, event('1', T0 + 59 * SEC, { host: 'h' }));
    push(A, event('2', T0 + MIN, { host: 'h' }));
    expect(alerts).toEqual([]);
    expect(engine.stats().afterUntil).toBe(1);
  });

  it('suppress: one alert per key within the suppression window', () => {
    const { alerts, push, engine } = collect(countRule('{ gte: 2 }', 'keyward: { suppress: 10m }'));
    for (let i = 0; i < 6; i++) push(A, event(`e${i}`, T0 + i * MIN, { host: 'h' }));
    push(A, event('o1', T0 + 6 * MIN, { host: 'other' }));
    push(A, event('o2', T0 + 6 * MIN, { host: 'other' }));
    for (let i = 0; i < 2; i++) push(A, event(`f${i}`, T0 + 11 * MIN + i, { host: 'h' }));
    expect(alerts.map((a) => [a.groupKey, a.eventIds])).toEqual([
      [{ host: 'h' }, ['e0', 'e1']],
      [{ host: 'other' }, ['o1', 'o2']],
      [{ host: 'h' }, ['f0', 'f1']],
    ]);
    expect(engine.stats().suppressed).toBe(2);
  });

  it('flush decides windows complete at the watermark and counts the rest as open', () => {
    const { alerts, push, engine } = collect(absence());
    push(A, event('a1', T0, { req: 'r1' }));
    push(A, event('a2', T0 + 5 * MIN, { req: 'r2' }));
    engine.flush();
    expect(alerts.map((a) => a.groupKey)).toEqual([{ req: 'r1' }]);
    expect(engine.stats().openAtFlush).toBe(1);
    expect(engine.stateEntries()).toBe(0);
  });
});

describe('first-seen baselines (keyward.baseline)', () => {
  const DAY = 86_400_000;
  const rs = () =>
    load(
      `title: New source for a client\nid: bl\ncorrelation: { type: event_count, rules: [a], group-by: [client], timespan: 30d }\nkeyward:\n  baseline: { field: ip, per: client, history: 30d, kinds: [new_value, new_network, new_hour], learning: 1d }`,
      rules,
    );

  it('alerts on a value, network or hour an identity has not shown within the history, after learning', () => {
    const { alerts, push } = collect(rs());
    const at = (day: number, hour: number, min = 0) => Date.UTC(2025, 0, 1 + day, hour, min);
    push(A, event('learn', at(0, 10), { client: 'c1', ip: '10.0.0.1' }));
    push(A, event('learn-2', at(0, 11), { client: 'c1', ip: '10.0.0.9' }));
    push(A, event('known', at(2, 10), { client: 'c1', ip: '10.0.0.1' }));
    push(A, event('new-ip', at(2, 10, 5), { client: 'c1', ip: '10.0.0.2' }));
    push(A, event('all-new', at(3, 3), { client: 'c1', ip: '198.51.100.7' }));
    push(A, event('c2-learning', at(3, 4), { client: 'c2', ip: '203.0.113.1' }));
    push(A, event('no-ip', at(3, 5), { client: 'c1' }));
    push(A, event('aged-out', at(40, 10), { client: 'c1', ip: '10.0.0.1' }));
    expect(alerts.map((a) => [a.eventIds, a.windowStart, a.summary])).toEqual([
      [['new-ip'], at(2, 10, 5), 'new ip 10.0.0.2 for client=c1 (not seen in 30d) in Rule A'],
      [
        ['all-new'],
        at(3, 3),
        'new ip 198.51.100.7 and new network 198.51.100.0/24 and new hour 03h UTC for client=c1 (not seen in 30d) in Rule A',
      ],
      [
        ['aged-out'],
        at(40, 10),
        'new ip 10.0.0.1 and new network 10.0.0.0/24 and new hour 10h UTC for client=c1 (not seen in 30d) in Rule A',
      ],
    ]);
  });

  it('keeps one entry per remembered value and forgets values older than the history', () => {
    const { push, engine } = collect(rs());
    for (let i = 0; i < 100; i++) push(A, event(`e${i}`, T0 + i * DAY, { client: 'c1', ip: `10.0.${i}.1` }));
    // The key, plus (value, network) for the last 31 days and the hour (always the same).
    expect(engine.stateEntries()).toBe(1 + 31 * 2 + 1);
  });

  it('computes networks: IPv4 /24 and IPv6 /64', async () => {
    const { networkOf } = await import('./engine.js');
    expect(networkOf('192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(networkOf('2001:0db8:0001:0002:0003:0004:0005:0006')).toBe('2001:db8:1:2::/64');
    expect(networkOf('not an ip')).toBeNull();
  });
});
