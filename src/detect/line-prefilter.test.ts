/**
 * The raw-line prefilter: the literal scanner, the shape checks, when it is off, and — the point — that a run
 * with it raises exactly the alerts (ids, counts, windows, event ids) a run without it does, with the same
 * counters, over the bench's synthetic CloudTrail with the bench's rules and correlations, SigmaHQ's cloud
 * rules and Keyward's own pack.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCloudTrail } from '../../bench/detect-data.js';
import { benchCorrelations, benchSingleRules } from '../../bench/detect-rules.js';
import type { Alert, BrokenRecord, DetectEvent, DetectionRule } from './detect-types.js';
import { builtinRulesDir, createDetector, loadDetectionRules, type LoadedRules } from './detect-service.js';
import { logsourceApplies } from './engine.js';
import {
  CLOUDTRAIL_LOGSOURCE,
  CLOUDTRAIL_VERBATIM_FIELDS,
  cloudtrailAdapter,
} from './events/cloudtrail-adapter.js';
import { NORMALIZED_FIELDS, isBrokenRecord, readEvents } from './events/index.js';
import {
  cloudTrailClauses,
  createClauseMatcher,
  createLinePrefilter,
  createLiteralScanner,
  verbatimInCloudTrail,
  type LineFilter,
} from './line-prefilter.js';

const SIGMAHQ = fileURLToPath(new URL('./sigma/fixtures/sigmahq', import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-prefilter-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Loads rule text (YAML documents) written to a file in the test directory. */
async function rulesFrom(name: string, yaml: string, extra: string[] = []): Promise<LoadedRules> {
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, yaml);
  const loaded = await loadDetectionRules([file, ...extra]);
  expect(loaded.errors).toEqual([]);
  return loaded;
}

const rule = (name: string, detection: string, logsource = '{ product: aws, service: cloudtrail }'): string =>
  `title: ${name}\nname: ${name}\nstatus: test\nlevel: high\nlogsource: ${logsource}\ndetection:\n${detection}\n`;

const line = (record: Record<string, unknown>): string =>
  JSON.stringify({
    eventVersion: '1.08',
    eventTime: '2026-11-01T00:00:00Z',
    eventSource: 's3.amazonaws.com',
    ...record,
  });

describe('createLiteralScanner', () => {
  it('finds every literal, overlapping ones and ones at the same position too, without case', () => {
    const s = createLiteralScanner(['"get', '"getobject"', 'object"', 'tobj', '"put']);
    expect(s.scan('{"eventName":"GetObject"}')!.sort()).toEqual([0, 1, 2, 3]);
    expect(s.scan('{"eventName":"GETOBJECT"}')!.sort()).toEqual([0, 1, 2, 3]);
    expect(s.scan('{"a":"getobj"}')).toEqual([0, 3]);
    expect(s.scan('{"a":"other"}')).toEqual([]);
  });

  it('tells of every occurrence with its position', () => {
    const s = createLiteralScanner(['"eventtime"', '"e']);
    const seen: Array<[number, number]> = [];
    s.scan('{"eventTime":"x","b":{"EventTime":"y"}}', (id, at) => seen.push([id, at]));
    expect(seen).toEqual([
      [0, 1],
      [1, 1],
      [0, 22],
      [1, 22],
    ]);
  });

  it('refuses to scan a line with a backslash or a character outside ASCII', () => {
    const s = createLiteralScanner(['"createuser"']);
    expect(s.scan('{"eventName":"Create\\u0055ser"}')).toBeNull();
    expect(s.scan('{"eventName":"CreateUser","x":"\u212A"}')).toBeNull();
    expect(s.scan('{"eventName":"CreateUser","x":"é"}')).toBeNull();
  });

  it('refuses literals that are not lower-case printable ASCII', () => {
    expect(() => createLiteralScanner(['Upper'])).toThrow(/not lower-case printable ASCII/);
    expect(() => createLiteralScanner(['a\\b'])).toThrow(/not lower-case printable ASCII/);
    expect(() => createLiteralScanner([''])).toThrow(/not lower-case printable ASCII/);
  });
});

describe('createClauseMatcher', () => {
  it('holds when every clause of some rule has a literal found', () => {
    // rule 0: (0 or 1) and 2; rule 1: 3
    const m = createClauseMatcher([[[0, 1], [2]], [[3]]], 4);
    expect(m([1, 2])).toBe(true);
    expect(m([0])).toBe(false);
    expect(m([2])).toBe(false);
    expect(m([3])).toBe(true);
    expect(m([])).toBe(false);
    // The found set of one call leaves nothing behind for the next.
    expect(m([0, 2])).toBe(true);
    expect(m([0])).toBe(false);
  });

  it('refuses a rule without a clause', () => {
    expect(() => createClauseMatcher([[]], 1)).toThrow(/no clause/);
  });
});

describe('the fields whose values occur verbatim in a CloudTrail line', () => {
  it('are exactly the normalized fields the adapter copies from one raw string field', () => {
    const record = {
      eventVersion: '1.08',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLE:s',
        arn: 'arn:aws:sts::111122223333:assumed-role/r/s',
        accountId: '111122223333',
        accessKeyId: 'ASIAEXAMPLE',
        sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::111122223333:role/r', userName: 'r' } },
      },
      eventTime: '2026-11-01T00:00:00Z',
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      awsRegion: 'eu-west-1',
      sourceIPAddress: '203.0.113.9',
      userAgent: 'aws-cli/2',
      errorCode: 'AccessDenied',
      errorMessage: 'no',
      requestID: 'req-1',
      eventID: 'evt-1',
      recipientAccountId: '111122223333',
      resources: [{ ARN: 'arn:aws:iam::111122223333:user/u', type: 'AWS::IAM::User' }],
    };
    const text = JSON.stringify(record);
    const e = cloudtrailAdapter(record, { file: null, line: null, seq: 1 });
    if (isBrokenRecord(e)) throw new Error(e.reason);
    const derived = Object.keys(e.fields).filter((f) => !CLOUDTRAIL_VERBATIM_FIELDS.has(f));
    expect(derived.sort()).toEqual(['cloud.provider', 'status', 'time']);
    for (const f of CLOUDTRAIL_VERBATIM_FIELDS) {
      if (f === 'src_endpoint.domain') continue; // the address here is an IP
      expect(e.fields[f], f).toBeTypeOf('string');
      expect(text.includes(JSON.stringify(e.fields[f])), f).toBe(true);
    }
    for (const f of CLOUDTRAIL_VERBATIM_FIELDS) expect(NORMALIZED_FIELDS as readonly string[]).toContain(f);
  });

  it('are what verbatimInCloudTrail allows, with raw fields and ocsf. names', () => {
    expect(verbatimInCloudTrail('eventName')).toBe(true);
    expect(verbatimInCloudTrail('userIdentity.arn')).toBe(true);
    expect(verbatimInCloudTrail('api.operation')).toBe(true);
    expect(verbatimInCloudTrail('ocsf.api.operation')).toBe(true);
    expect(verbatimInCloudTrail('status')).toBe(false);
    expect(verbatimInCloudTrail('ocsf.status')).toBe(false);
    expect(verbatimInCloudTrail('time')).toBe(false);
    expect(verbatimInCloudTrail('cloud.provider')).toBe(false);
    expect(verbatimInCloudTrail('http_request.http_method')).toBe(false);
  });
});

describe('createLinePrefilter', () => {
  const RULES = [
    rule(
      'iam',
      '  sel:\n    eventSource: iam.amazonaws.com\n    eventName: [CreateUser, CreateAccessKey]\n  condition: sel',
    ),
    rule('trail', '  sel:\n    eventName|endswith: Trail\n    userIdentity.type: IAMUser\n  condition: sel'),
  ].join('---\n');

  it('passes over a line no rule can match, giving its time; reads the others', async () => {
    const loaded = await rulesFrom('basic', RULES);
    const f = createLinePrefilter(loaded.detections, () => {})!;
    expect(f).not.toBeNull();
    expect(f.adapter).toBe('cloudtrail');
    const t = Date.parse('2026-11-01T00:00:00Z');
    expect(f.passOver(line({ eventName: 'GetObject' }))).toBe(t);
    // The same time again (kept from the last line), then another.
    expect(f.passOver(line({ eventName: 'PutObject' }))).toBe(t);
    expect(f.passOver(line({ eventName: 'PutObject', eventTime: '2026-11-01T00:00:07.250Z' }))).toBe(
      t + 7250,
    );
    // One clause of a rule is not enough.
    expect(f.passOver(line({ eventName: 'CreateUser' }))).toBe(t);
    expect(f.passOver(line({ eventName: 'DeleteTrail', userIdentity: { type: 'AssumedRole' } }))).toBe(t);
    // Every clause of a rule: read, in any case.
    expect(f.passOver(line({ eventName: 'CreateUser', eventSource: 'iam.amazonaws.com' }))).toBeNull();
    expect(f.passOver(line({ eventName: 'CREATEUSER', eventSource: 'IAM.amazonaws.COM' }))).toBeNull();
    expect(f.passOver(line({ eventName: 'DeleteTrail', userIdentity: { type: 'IAMUser' } }))).toBeNull();
  });

  it('reads every line whose text could hide a literal or whose shape or time is not plain', async () => {
    const loaded = await rulesFrom('shape', RULES);
    const f = createLinePrefilter(loaded.detections, () => {})!;
    const plain = line({ eventName: 'GetObject' });
    const cases: Record<string, string> = {
      // "Create\u0055ser" is CreateUser once parsed: a value split by an escape.
      escape:
        '{"eventTime":"2026-11-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"Create\\u0055ser"}',
      escapedQuote: '{"eventTime":"2026-11-01T00:00:00Z","eventName":"a\\"b"}',
      nonAscii: line({ eventName: 'GetObject', userAgent: 'caf\u00e9' }),
      kelvin: line({ eventName: 'GetObject', userAgent: '\u212Aelvin' }),
      truncated: plain.slice(0, -1),
      truncatedAtBrace: '{"eventTime":"2026-11-01T00:00:00Z","a":{"b":1}',
      twoObjects: `${plain}${plain}`,
      leadingSpace: ` ${plain}`,
      extraClose: '{"eventTime":"2026-11-01T00:00:00Z","a":1}}',
      nestedTime: '{"a":{"eventTime":"2026-11-01T00:00:00Z"},"eventName":"GetObject"}',
      twoTimes:
        '{"eventTime":"2026-11-01T00:00:00Z","eventName":"GetObject","eventTime":"2026-11-01T00:00:09Z"}',
      otherCaseTime: '{"eventTime":"2026-11-01T00:00:00Z","EventTime":"x"}',
      noTime: '{"eventName":"GetObject"}',
      spacedTime: '{"eventTime" : "2026-11-01T00:00:00Z"}',
      numberTime: '{"eventTime":1762000000}',
      emptyTime: '{"eventTime":"","eventName":"GetObject"}',
      badTime: '{"eventTime":"yesterday","eventName":"GetObject"}',
      badDay: '{"eventTime":"2026-02-30T00:00:00Z","eventName":"GetObject"}',
      delivery: '{"Records":[{"eventTime":"2026-11-01T00:00:00Z","eventName":"GetObject"}]}',
    };
    for (const [name, text] of Object.entries(cases)) expect(f.passOver(text), name).toBeNull();
    expect(f.passOver(plain)).not.toBeNull();
  });

  it('is off when a CloudTrail rule gives no clause on fields whose values occur verbatim', async () => {
    const onlyDerived = await rulesFrom(
      'derived',
      [
        RULES,
        rule('failed', '  sel:\n    status: failure\n    ocsf.cloud.provider: aws\n  condition: sel'),
      ].join('---\n'),
    );
    expect(createLinePrefilter(onlyDerived.detections, () => {})).toBeNull();
    const onlyNot = await rulesFrom(
      'not',
      [RULES, rule('not', '  sel:\n    eventName: GetObject\n  condition: not sel')].join('---\n'),
    );
    expect(createLinePrefilter(onlyNot.detections, () => {})).toBeNull();
    const regexAny = await rulesFrom(
      'regex',
      [RULES, rule('re', "  sel:\n    eventName|re: '.*'\n  condition: sel")].join('---\n'),
    );
    expect(createLinePrefilter(regexAny.detections, () => {})).toBeNull();
    const noLiterals = (await rulesFrom('nolits', RULES)).detections.map((r): DetectionRule => ({
      ...r,
      literals: null,
    }));
    expect(createLinePrefilter(noLiterals, () => {})).toBeNull();
  });

  it('stays on for a derived field beside a verbatim one, a normalized copy, and rules of other sources', async () => {
    const loaded = await rulesFrom(
      'mixed',
      [
        rule('both', '  sel:\n    status: failure\n    eventName: DeleteUser\n  condition: sel'),
        rule('copy', '  sel:\n    api.operation: StopLogging\n  condition: sel'),
        rule('gh', '  sel:\n    action|re: .*\n  condition: sel', '{ product: github, service: audit }'),
      ].join('---\n'),
    );
    const f = createLinePrefilter(loaded.detections, () => {})!;
    expect(f).not.toBeNull();
    expect(cloudTrailClauses(loaded.detections[0]!)).toEqual([['"deleteuser"']]);
    expect(f.passOver(line({ eventName: 'StopLogging' }))).toBeNull();
    expect(f.passOver(line({ eventName: 'DeleteUser' }))).toBeNull();
    expect(f.passOver(line({ eventName: 'GetObject' }))).not.toBeNull();
  });
});

describe('readEvents with a line filter', () => {
  const fake = (times: number[]): LineFilter => ({
    adapter: 'cloudtrail',
    passOver: (text) => (text.includes('"skip"') ? Date.parse('2026-11-01T00:00:05Z') : null),
    onPassedOver: (t) => times.push(t),
  });

  it('counts a line passed over as an event (its seq taken), tells its time, and yields the others', async () => {
    const file = join(dir, 'filtered.ndjson');
    const rows = ['skip', 'GetObject', 'skip', 'PutObject'].map((n, i) =>
      line({ eventName: n, eventID: `e${i + 1}` }),
    );
    writeFileSync(file, `${rows.join('\n')}\n`);
    const times: number[] = [];
    const stream = readEvents([file], { lineFilter: fake(times) });
    const seen: Array<[string, number]> = [];
    for await (const e of stream) seen.push([e.id, e.seq]);
    // The first line is parsed anyway: the format is detected from it.
    expect(seen).toEqual([
      ['e1', 1],
      ['e2', 2],
      ['e4', 4],
    ]);
    expect(times).toEqual([Date.parse('2026-11-01T00:00:05Z')]);
    expect(stream.counters).toMatchObject({ events: 4, passedOver: 1, byAdapter: { cloudtrail: 4 } });
  });

  it('is used only for files of its adapter', async () => {
    const file = join(dir, 'github.ndjson');
    const gh = (action: string, i: number): string =>
      JSON.stringify({
        action,
        actor: 'bot',
        '@timestamp': 1762000000000 + i,
        _document_id: `d${i}`,
        skip: 'skip',
      });
    writeFileSync(file, `${[gh('repo.create', 1), gh('repo.destroy', 2)].join('\n')}\n`);
    const times: number[] = [];
    const stream = readEvents([file], { lineFilter: fake(times) });
    let n = 0;
    for await (const e of stream) n += e.source.adapter === 'github' ? 1 : 0;
    expect(n).toBe(2);
    expect(times).toEqual([]);
    expect(stream.counters.passedOver).toBe(0);
  });
});

/** The outcome of one run over a file: everything a run reports. */
interface Outcome {
  alerts: Alert[];
  broken: BrokenRecord[];
  pushed: Array<[string, number]>;
  events: number;
  passedOver: number;
  stats: unknown;
  prefilter: boolean;
}

async function run(
  rules: Pick<LoadedRules, 'detections' | 'correlations'>,
  file: string,
  prefilter: boolean,
  maxStateEntries: number,
  read: 'iterate' | 'forEach' = 'iterate',
): Promise<Outcome> {
  const alerts: Alert[] = [];
  const broken: BrokenRecord[] = [];
  const pushed: Array<[string, number]> = [];
  const detector = createDetector(rules, {
    allowedLatenessMs: 60_000,
    maxStateEntries,
    onAlert: (a) => alerts.push(a),
  });
  const lineFilter = prefilter ? createLinePrefilter(rules.detections, (t) => detector.passOver(t)) : null;
  // The format is detected from the first record, as `keyward detect` does.
  const stream = readEvents([file], { lineFilter, onBroken: (b) => broken.push(b) });
  const onEvent = (e: DetectEvent): void => {
    pushed.push([e.id, e.seq]);
    detector.push(e);
  };
  if (read === 'forEach') await stream.forEach(onEvent);
  else for await (const e of stream) onEvent(e);
  const before = detector.stats();
  detector.end();
  return {
    alerts,
    broken,
    pushed,
    events: stream.counters.events,
    passedOver: stream.counters.passedOver,
    stats: { before, after: detector.stats() },
    prefilter: lineFilter !== null,
  };
}

/** Runs with and without the prefilter and checks they agree on everything; the run with it. */
async function equivalent(
  rules: Pick<LoadedRules, 'detections' | 'correlations'>,
  file: string,
  maxStateEntries = 1_000_000,
): Promise<Outcome> {
  const without = await run(rules, file, false, maxStateEntries);
  const withIt = await run(rules, file, true, maxStateEntries);
  expect(withIt.alerts.length).toBe(without.alerts.length);
  expect(withIt.alerts).toEqual(without.alerts);
  expect(withIt.broken).toEqual(without.broken);
  expect(withIt.events).toBe(without.events);
  expect(withIt.stats).toEqual(without.stats);
  // The events that were parsed got the seq they get without the prefilter.
  const seqs = new Map(without.pushed);
  for (const [id, seq] of withIt.pushed) expect(seqs.get(id)).toBe(seq);
  expect(without.passedOver).toBe(0);
  // Reading with forEach (a block of lines at a time, as `keyward detect` does) changes nothing either.
  const forEach = await run(rules, file, true, maxStateEntries, 'forEach');
  expect(forEach).toEqual(withIt);
  return withIt;
}

/** Only the rules that give clauses, and the correlations over them (transitively). */
function prefilterable(rules: LoadedRules): Pick<LoadedRules, 'detections' | 'correlations'> {
  const dropped = new Set(
    rules.detections
      .filter((r) => logsourceApplies(r.logsource, CLOUDTRAIL_LOGSOURCE) && cloudTrailClauses(r) === null)
      .map((r) => r.id),
  );
  let correlations = rules.correlations;
  for (;;) {
    const kept = correlations.filter((c) => c.refs.every((ref) => !dropped.has(ref.id)));
    if (kept.length === correlations.length) break;
    for (const c of correlations) if (!kept.includes(c)) dropped.add(c.id);
    correlations = kept;
  }
  return { detections: rules.detections.filter((r) => !dropped.has(r.id)), correlations };
}

describe('alerts with the prefilter are the alerts without it', { timeout: 90_000 }, () => {
  let data: string;
  beforeAll(async () => {
    const generated = join(dir, 'generated.ndjson');
    await writeCloudTrail(generated, 100_000, { identityCount: 3_000, seed: 7 });
    const lines = readFileSync(generated, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    // Keyward's CloudTrail fixtures first (earlier times), then lines that must be read and lines that must
    // not count, then the generated events with a jump in time 90% of the way (closing every window).
    const fixtures = ['aws-access-denied-burst', 'aws-nhi-key-browser-user-agent', 'aws-secrets-read-burst']
      .flatMap((f) =>
        ['positive', 'negative'].map((k) => join(builtinRulesDir(), 'fixtures', f, `${k}.ndjson`)),
      )
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
    const t = '2026-11-01T00:00:00Z';
    const iam = (name: string): string =>
      `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/x","accessKeyId":"AKIAXX"},"eventTime":"${t}","eventSource":"iam.amazonaws.com","eventName":"${name}","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","userAgent":"Mozilla/5.0","eventID":"tricky-${name.length}-${name.charCodeAt(7)}","readOnly":false}`;
    const tricky = [
      iam('Create\\u0041ccessKey'),
      iam('CREATEACCESSKEY'),
      iam('AttachUserPolicy').replace('Mozilla/5.0', 'Mozilla/5.0 \u2603'),
      `{"eventVersion":"1.08","eventTime":"${t}","eventName":"GetObject"`,
      `{"eventVersion":"1.08","x":{"eventTime":"${t}"},"eventName":"GetObject"}`,
      `{"eventVersion":"1.08","eventTime":"yesterday","eventName":"GetObject"}`,
      '',
      `{"Records":[${iam('DeleteTrail')}]}`,
    ];
    const jump = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole"},"eventTime":"2026-11-01T09:00:00Z","eventSource":"s3.amazonaws.com","eventName":"HeadObject","awsRegion":"us-east-1","eventID":"jump"}`;
    const at = Math.floor(lines.length * 0.9);
    data = join(dir, 'events.ndjson');
    writeFileSync(
      data,
      [...fixtures, ...tricky, ...lines.slice(0, at), jump, ...lines.slice(at)].join('\n') + '\n',
    );
  });

  it("over the bench's 100 rules and 20 correlations (state capped and not)", async () => {
    const rules = await rulesFrom('bench', benchSingleRules());
    const corr = join(dir, 'bench-correlations.yml');
    writeFileSync(corr, benchCorrelations());
    const withCorr = await loadDetectionRules([join(dir, 'bench.yml'), corr]);
    expect(withCorr.errors).toEqual([]);
    const single = await equivalent(rules, data);
    expect(single.prefilter).toBe(true);
    expect(single.alerts.length).toBeGreaterThan(5_000);
    // Most lines are passed over.
    expect(single.passedOver).toBeGreaterThan(single.events * 0.8);
    const correlated = await equivalent(withCorr, data);
    expect(correlated.prefilter).toBe(true);
    expect(correlated.alerts.some((a) => a.groupKey !== null)).toBe(true);
    // With correlation state capped, entries are evicted as windows fill: at the same points.
    expect((await equivalent(withCorr, data, 300)).prefilter).toBe(true);
  });

  it("over SigmaHQ's cloud rules, alone and with the bench's", async () => {
    const sigmahq = await loadDetectionRules([SIGMAHQ]);
    expect(sigmahq.errors).toEqual([]);
    const alone = await equivalent(sigmahq, data);
    expect(alone.prefilter).toBe(true);
    expect(alone.alerts.length).toBeGreaterThan(1_000);
    expect(alone.passedOver).toBeGreaterThan(alone.events * 0.5);
    const both = await rulesFrom('bench-and-sigmahq', benchSingleRules(), [SIGMAHQ]);
    expect((await equivalent(both, data)).prefilter).toBe(true);
  });

  it("over Keyward's own pack: off as a whole (a rule gives no clause), on without that rule", async () => {
    const pack = await loadDetectionRules([], { builtin: true });
    expect(pack.errors).toEqual([]);
    const whole = await equivalent(pack, data);
    expect(whole.prefilter).toBe(false);
    expect(whole.passedOver).toBe(0);
    const part = prefilterable(pack);
    expect(part.detections.length).toBe(pack.detections.length - 1);
    const some = await equivalent(part, data);
    expect(some.prefilter).toBe(true);
    expect(some.alerts.length).toBeGreaterThan(0);
  });
});
