import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getField } from '../detect-types.js';
import { compileAccessor } from './sigma-field.js';
import { checkRules, loadRules, loadRuleTexts } from './sigma-loader.js';
import { ev } from './sigma-test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyward-sigma-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

const HEAD = `title: Test
id: 11111111-1111-4111-8111-111111111111
level: high
logsource:
  product: aws
  service: cloudtrail
detection:
`;

describe('loadRules errors name file, line and field', () => {
  it('bad YAML', async () => {
    const path = await file(
      'bad-yaml.yml',
      `${HEAD}  selection:\n    eventName: x\n    eventName: y\n  condition: selection\n`,
    );
    const result = await loadRules([path]);
    expect(result.detections).toEqual([]);
    expect(result.errors).toEqual([
      { file: path, line: 10, field: null, message: 'YAML: Map keys must be unique (column 5)' },
    ]);
    const indent = await file(
      'bad-indent.yml',
      `${HEAD}  selection:\n    eventName: x\n   userAgent: y\n  condition: selection\n`,
    );
    expect((await loadRules([indent])).errors[0]).toEqual({
      file: indent,
      line: 10,
      field: null,
      message: 'YAML: All mapping items must start at the same column (column 1)',
    });
  });

  it('unknown modifier', async () => {
    const path = await file(
      'mod.yml',
      `${HEAD}  selection:\n    eventName: x\n    userAgent|contain: y\n  condition: selection\n`,
    );
    expect((await loadRules([path])).errors).toEqual([
      {
        file: path,
        line: 10,
        field: 'detection.selection.userAgent|contain',
        message: "unknown modifier 'contain'",
      },
    ]);
  });

  it('unknown condition identifier', async () => {
    const path = await file(
      'cond.yml',
      `${HEAD}  selection:\n    eventName: x\n  condition: selection and not filter\n`,
    );
    expect((await loadRules([path])).errors).toEqual([
      {
        file: path,
        line: 10,
        field: 'detection.condition',
        message: "condition: unknown identifier 'filter' at column 19",
      },
    ]);
  });

  it('bad regex', async () => {
    const path = await file(
      're.yml',
      `${HEAD}  selection:\n    eventName|re: '[a-'\n  condition: selection\n`,
    );
    expect((await loadRules([path])).errors).toEqual([
      {
        file: path,
        line: 9,
        field: 'detection.selection.eventName|re',
        message:
          'regex "[a-" refused: error parsing regexp: missing closing ]: `[a-` (only linear-time RE2 syntax is supported: no lookaround, no backreferences)',
      },
    ]);
  });

  it('lookahead and backreference regexes are refused, never evaluated', async () => {
    const path = await file(
      'look.yml',
      `${HEAD}  selection:\n    eventName|re:\n      - 'a(?=b)'\n      - '(a)\\1'\n  condition: selection\n`,
    );
    const errors = (await loadRules([path])).errors;
    expect(errors).toEqual([
      {
        file: path,
        line: 10,
        field: 'detection.selection.eventName|re.0',
        message:
          'regex "a(?=b)" refused: error parsing regexp: invalid or unsupported Perl syntax: `(?=` (only linear-time RE2 syntax is supported: no lookaround, no backreferences)',
      },
    ]);
  });

  it('unknown placeholder', async () => {
    const path = await file(
      'ph.yml',
      `${HEAD}  selection:\n    user|expand: '%Admins%'\n  condition: selection\n`,
    );
    expect((await loadRules([path], { placeholders: { Administrators: ['root'] } })).errors).toEqual([
      {
        file: path,
        line: 9,
        field: 'detection.selection.user|expand',
        message: 'unknown placeholder %Admins%',
      },
    ]);
  });

  it('schema: every problem of a document, each with its line', async () => {
    const path = await file(
      'schema.yml',
      `id: x\nstatus: ready\nlevel: severe\ndate: 2024/01/01\ntags:\n  - attack.t1078\n  - Bad Tag\nfalsepositives: none\nlogsource: aws\ndetection:\n  sel:\n    a: 1\n  condition: sel\n`,
    );
    expect((await loadRules([path])).errors).toEqual([
      { file: path, line: 1, field: null, message: 'title is required' },
      {
        file: path,
        line: 2,
        field: 'status',
        message: 'status must be one of stable, test, experimental, deprecated, unsupported',
      },
      {
        file: path,
        line: 3,
        field: 'level',
        message: 'level must be one of informational, low, medium, high, critical',
      },
      { file: path, line: 4, field: 'date', message: 'date must be a date YYYY-MM-DD' },
      {
        file: path,
        line: 7,
        field: 'tags.1',
        message: "tag 'Bad Tag' must look like namespace.name (lowercase letters, digits, _ - .)",
      },
      { file: path, line: 8, field: 'falsepositives', message: 'falsepositives must be a list of strings' },
      { file: path, line: 9, field: 'logsource', message: 'logsource must be a map' },
    ]);
  });

  it('missing detection and condition', async () => {
    const a = await file('nodet.yml', `title: t\nlogsource:\n  product: aws\n`);
    const b = await file(
      'nocond.yml',
      `title: t\nlogsource:\n  product: aws\ndetection:\n  sel:\n    a: 1\n`,
    );
    expect((await loadRules([a, b])).errors).toEqual([
      { file: a, line: 1, field: null, message: 'detection is required' },
      { file: b, line: 4, field: 'detection', message: 'detection needs a condition' },
    ]);
  });

  it('multi-document files: each document on its own; errors at the line within the file', async () => {
    const path = await file(
      'multi.yml',
      `title: one\nid: m-1\nlogsource: {product: aws}\ndetection:\n  sel: {a: 1}\n  condition: sel\n---\ntitle: two\nid: m-2\nlogsource: {product: aws}\ndetection:\n  sel: {a|bogus: 1}\n  condition: sel\n---\n`,
    );
    const result = await loadRules([path]);
    expect(result.detections.map((r) => [r.id, r.location])).toEqual([['m-1', { file: path, line: 1 }]]);
    expect(result.errors).toEqual([
      { file: path, line: 12, field: 'detection.sel.a|bogus', message: "unknown modifier 'bogus'" },
    ]);
    expect(result.documents.map((d) => [d.index, d.line, d.id, d.status])).toEqual([
      [0, 1, 'm-1', 'ok'],
      [1, 8, 'm-2', 'error'],
    ]);
  });

  it('duplicate ids: the later document is refused', async () => {
    const a = await file(
      'dup/a.yml',
      `title: a\nid: same\nlogsource: {product: aws}\ndetection:\n  sel: {a: 1}\n  condition: sel\n`,
    );
    const b = await file(
      'dup/b.yml',
      `title: b\nid: same\nlogsource: {product: aws}\ndetection:\n  sel: {a: 1}\n  condition: sel\n`,
    );
    const result = await loadRules([join(dir, 'dup')]);
    expect(result.detections.map((r) => r.title)).toEqual(['a']);
    expect(result.errors).toEqual([
      { file: b, line: 2, field: 'id', message: `duplicate id same (first in ${a}:1)` },
    ]);
  });

  it('duplicate names: the later document is refused', () => {
    const doc = (id: string): string =>
      `title: t\nid: ${id}\nname: same_name\nlogsource: {product: aws}\ndetection:\n  sel: {a: 1}\n  condition: sel\n`;
    const result = loadRuleTexts([{ file: 'n.yml', text: `${doc('n-1')}---\n${doc('n-2')}` }]);
    expect(result.detections.map((r) => r.id)).toEqual(['n-1']);
    expect(result.errors).toEqual([
      { file: 'n.yml', line: 11, field: 'name', message: 'duplicate name same_name (first in n.yml:1)' },
    ]);
  });

  it('a missing path is an error, not a throw', async () => {
    const missing = join(dir, 'nope');
    const result = await loadRules([missing]);
    expect(result.errors).toEqual([
      {
        file: missing,
        line: null,
        field: null,
        message: expect.stringMatching(/^cannot read: ENOENT/) as string,
      },
    ]);
  });
});

describe('loadRules reading', () => {
  it('reads .yml and .yaml recursively, ignores other files; meta, keyward block and custom keys', async () => {
    await file(
      'tree/x/r1.yaml',
      `title: R1\nid: t-1\nname: r_one\nstatus: test\nauthor: me\nlevel: low\ntags: [attack.t1078.004]\nreferences: [https://example.com]\nfalsepositives: [admins]\nfields: [userIdentity.arn]\ncustom_attribute: anything\nkeyward:\n  suppress: 1h\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: X}\n  condition: sel\n`,
    );
    await file('tree/notes.txt', 'not a rule');
    const result = await loadRules([join(dir, 'tree')]);
    expect(result.errors).toEqual([]);
    const rule = result.detections[0]!;
    expect({ ...rule, matches: undefined }).toEqual({
      kind: 'detection',
      id: 't-1',
      name: 'r_one',
      title: 'R1',
      description: null,
      level: 'low',
      status: 'test',
      tags: ['attack.t1078.004'],
      author: 'me',
      references: ['https://example.com'],
      falsepositives: ['admins'],
      location: { file: join(dir, 'tree/x/r1.yaml'), line: 1 },
      keyward: { suppress: '1h' },
      logsource: { product: 'aws', service: 'cloudtrail' },
      fields: ['eventName', 'userIdentity.arn'],
      prefilter: { field: 'eventName', values: ['x'] },
      literals: [{ fields: ['eventName'], literals: ['"x"'] }],
      matches: undefined,
    });
  });

  it('a rule without id gets <file>#<index>; without level, medium', () => {
    const result = loadRuleTexts([
      {
        file: 'x.yml',
        text: `title: t\nlogsource: {product: aws}\ndetection:\n  sel: {a: 1}\n  condition: sel\n`,
      },
    ]);
    expect(result.detections.map((r) => [r.id, r.level])).toEqual([['x.yml#0', 'medium']]);
  });

  it('correlation documents are returned raw, with lineOf', () => {
    const text = `title: base\nid: b-1\nname: base_rule\nlogsource: {product: aws}\ndetection:\n  sel: {a: 1}\n  condition: sel\n---\ntitle: many\nid: c-1\ncorrelation:\n  type: event_count\n  rules:\n    - base_rule\n  group-by:\n    - user\n  timespan: 1h\n  condition:\n    gte: 10\n`;
    const result = loadRuleTexts([{ file: 'c.yml', text }]);
    expect(result.errors).toEqual([]);
    expect(result.correlationDocs).toHaveLength(1);
    const doc = result.correlationDocs[0]!;
    expect(doc.index).toBe(1);
    expect(doc.file).toBe('c.yml');
    expect(doc.doc['correlation']).toEqual({
      type: 'event_count',
      rules: ['base_rule'],
      'group-by': ['user'],
      timespan: '1h',
      condition: { gte: 10 },
    });
    expect(doc.lineOf([])).toBe(9);
    expect(doc.lineOf(['correlation', 'timespan'])).toBe(17);
    expect(doc.lineOf(['correlation', 'rules', 0])).toBe(14);
    expect(doc.lineOf(['correlation', 'condition', 'gte'])).toBe(19);
  });

  it('checkRules: status per file and per document', async () => {
    const good = await file(
      'check/good.yml',
      `title: g\nid: g-1\nlogsource: {product: aws}\ndetection:\n  sel: {a: 1}\n  condition: sel\n`,
    );
    const bad = await file(
      'check/bad.yml',
      `title: b\nid: b-9\nlogsource: {product: aws}\ndetection:\n  sel: {a|nope: 1}\n  condition: sel\n`,
    );
    const report = await checkRules([join(dir, 'check')]);
    expect(report.ok).toBe(false);
    expect(
      report.files.map((f) => [f.file, f.status, f.documents.map((d) => [d.id, d.status, d.errors.length])]),
    ).toEqual([
      [bad, 'error', [['b-9', 'error', 1]]],
      [good, 'ok', [['g-1', 'ok', 0]]],
    ]);
    expect(report.counts).toEqual({
      files: 2,
      documents: 2,
      ok: 1,
      error: 1,
      detections: 1,
      filters: 0,
      correlations: 0,
    });
  });
});

describe('Sigma filters', () => {
  const RULES = `title: Assume role
id: rule-1
name: assume_role
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: AssumeRole}
  condition: sel
---
title: Other
id: rule-2
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: AssumeRole}
  condition: sel
`;
  const FILTER = `title: CI role is expected
id: filter-1
logsource: {product: aws}
filter:
  rules:
    - assume_role
  selection:
    userIdentity.arn|startswith: 'arn:aws:iam::1:role/ci'
  condition: selection
`;

  it('a filter suppresses the matches of the rules it names (by name or id), not others', () => {
    const result = loadRuleTexts([
      { file: 'r.yml', text: RULES },
      { file: 'f.yml', text: FILTER },
    ]);
    expect(result.errors).toEqual([]);
    expect(result.filters.map((f) => [f.id, f.appliedTo])).toEqual([['filter-1', ['rule-1']]]);
    const [r1, r2] = result.detections;
    const ci = ev({ eventName: 'AssumeRole', userIdentity: { arn: 'arn:aws:iam::1:role/ci-deploy' } });
    const human = ev({ eventName: 'AssumeRole', userIdentity: { arn: 'arn:aws:iam::1:user/bob' } });
    expect(r1!.matches(ci)).toBe(false);
    expect(r1!.matches(human)).toBe(true);
    expect(r2!.matches(ci)).toBe(true);
    const byId = loadRuleTexts([
      { file: 'r.yml', text: RULES },
      { file: 'f.yml', text: FILTER.replace('- assume_role', '- rule-2') },
    ]);
    expect(byId.detections[1]!.matches(ci)).toBe(false);
    expect(byId.detections[0]!.matches(ci)).toBe(true);
  });

  it('a filter naming an unknown rule, or a rule of another logsource, is refused with the line', () => {
    const result = loadRuleTexts([
      { file: 'r.yml', text: RULES },
      { file: 'f.yml', text: FILTER.replace('- assume_role', '- assume_role\n    - nosuch') },
      {
        file: 'g.yml',
        text: FILTER.replace('filter-1', 'filter-2').replace('{product: aws}', '{product: gcp}'),
      },
    ]);
    expect(result.filters).toEqual([]);
    expect(result.errors).toEqual([
      {
        file: 'f.yml',
        line: 7,
        field: 'filter.rules.1',
        message: "no loaded detection rule has id or name 'nosuch'",
      },
      {
        file: 'g.yml',
        line: 3,
        field: 'logsource',
        message: "the filter's logsource does not cover the logsource of rule 'assume_role'",
      },
    ]);
    // Refused filters are applied to nothing.
    expect(
      result.detections[0]!.matches(
        ev({ eventName: 'AssumeRole', userIdentity: { arn: 'arn:aws:iam::1:role/ci' } }),
      ),
    ).toBe(true);
  });

  it('filter selections compile with the same errors as rules', () => {
    const result = loadRuleTexts([
      { file: 'r.yml', text: RULES },
      { file: 'f.yml', text: FILTER.replace('condition: selection', 'condition: selection and other') },
    ]);
    expect(result.errors).toEqual([
      {
        file: 'f.yml',
        line: 9,
        field: 'filter.condition',
        message: "condition: unknown identifier 'other' at column 15",
      },
    ]);
  });
});

describe('compiled field accessors', () => {
  it('agree with getField', () => {
    const event = ev(
      {
        a: { b: { c: 1 } },
        'a.b': { c: 2 },
        'k8s.io/x': 'lit',
        n: null,
        arr: [1, 2],
        d: { 'e.f': { g: 3 } },
      },
      { 'actor.user.uid': 'u', src_endpoint: { ip: '1.2.3.4' } },
    );
    const withUndefined = ev({ u: undefined, 'v.w': undefined }, { u: 'from fields', 'v.w': 'nf' });
    for (const f of ['u', 'v.w'])
      expect(compileAccessor(f)(withUndefined)).toEqual(getField(withUndefined, f));
    for (const f of [
      'a.b.c',
      'a.b',
      'k8s.io/x',
      'n',
      'arr',
      'd.e.f.g',
      'actor.user.uid',
      'src_endpoint.ip',
      'missing',
      'a.x',
      'arr.0',
      'ocsf.actor.user.uid',
      'ocsf.src_endpoint.ip',
      'ocsf.a.b',
      'ocsf.missing',
    ]) {
      expect([f, compileAccessor(f)(event)]).toEqual([f, getField(event, f)]);
    }
  });
});
