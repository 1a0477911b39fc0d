/**
 * Detection benchmark: synthetic CloudTrail NDJSON (default 1M events over 10k identities) read three ways in
 * one run — (a) parsing and normalizing only, (b) with 100 single-event Sigma rules, (c) with those rules and
 * 20 correlations — printing events per second for each, peak RSS and the correlation state. One process, one
 * thread: the figures are for one core.
 *
 *   npm run bench:detect                       # 1,000,000 events
 *   npm run bench:detect -- --events 200000    # quicker
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDetector, loadDetectionRules } from '../src/detect/detect-service.js';
import { readEvents } from '../src/detect/events/index.js';
import { writeCloudTrail } from './detect-data.js';

interface Args {
  events: number;
  identities: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { events: 1_000_000, identities: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const n = Number(argv[i + 1]);
    if ((a === '--events' || a === '--identities') && Number.isSafeInteger(n) && n > 0) {
      if (a === '--events') args.events = n;
      else args.identities = n;
      i++;
    } else throw new Error(`unknown or bad option ${a} (options: --events <n>, --identities <n>)`);
  }
  return args;
}

const OPS = [
  'GetObject',
  'PutObject',
  'AssumeRole',
  'GetCallerIdentity',
  'GetSecretValue',
  'GetParameter',
  'DescribeInstances',
  'ListBuckets',
  'Decrypt',
  'PutMetricData',
  'CreateAccessKey',
  'CreateUser',
  'AttachUserPolicy',
  'UpdateTrail',
  'ConsoleLogin',
  'DeleteTrail',
];

const header = (i: number, title: string, level = 'medium'): string =>
  `title: ${title}
id: 00000000-0000-4000-8000-${String(i).padStart(12, '0')}
name: r${i}
status: test
level: ${level}
tags: [attack.t1078.004]
logsource: { product: aws, service: cloudtrail }
`;

/** 100 single-event rules with the variety real rule sets have: lists, modifiers, conditions, a regex, a CIDR. */
function singleRules(): string {
  const docs: string[] = [];
  for (let i = 0; i < 100; i++) {
    const op = OPS[i % OPS.length]!;
    const kind = i % 10;
    let detection: string;
    // Each rule is selective, as real ones are: a rare combination of an operation with a condition.
    if (kind === 0)
      detection = `  sel:\n    eventName: ${op}\n    errorCode: AccessDenied\n    awsRegion: ${['us-east-1', 'eu-west-1'][i % 2]}\n  condition: sel`;
    else if (kind === 1)
      detection = `  sel:\n    eventName: [${op}, ${OPS[(i + 3) % OPS.length]}]\n    errorCode: AccessDenied\n    userIdentity.type: AssumedRole\n  condition: sel`;
    else if (kind === 2)
      detection = `  sel:\n    eventName: ${op}\n    userAgent|contains: ['Mozilla', 'Chrome/']\n  condition: sel`;
    else if (kind === 3)
      detection = `  sel:\n    userIdentity.arn|startswith: 'arn:aws:iam::123456789012:user/svc-0${i % 10}0'\n    eventName: ${op}\n  condition: sel`;
    else if (kind === 4)
      detection = `  sel:\n    eventSource: iam.amazonaws.com\n    eventName: ${op}\n  filter:\n    userIdentity.type: AssumedRole\n  condition: sel and not filter`;
    else if (kind === 5)
      detection = `  sel:\n    sourceIPAddress|cidr: '203.0.113.0/24'\n    eventName: ${op}\n  condition: sel`;
    else if (kind === 6)
      detection = `  sel:\n    eventName: GetSecretValue\n    requestParameters.secretId|re: '^prod/app/secret-4${i % 10}[0-9]$'\n  condition: sel`;
    else if (kind === 7)
      detection = `  sel1:\n    eventName: ${op}\n  sel2:\n    awsRegion: ap-southeast-2\n  sel3:\n    errorCode|exists: true\n  condition: all of sel*`;
    else if (kind === 8)
      detection = `  sel:\n    eventName|endswith: 'Trail'\n    userIdentity.type: IAMUser\n    sourceIPAddress|startswith: '203.0.113.'\n  condition: sel`;
    else
      detection = `  sel:\n    readOnly: false\n    eventName: ${op}\n    userAgent|contains: 'Mozilla'\n  condition: sel`;
    docs.push(`${header(i, `bench rule ${i}`)}detection:\n${detection}\n`);
  }
  return docs.join('---\n');
}

/** 20 correlations over those rules: counts, distinct values and sequences per key. */
function correlations(): string {
  const docs: string[] = [];
  for (let j = 0; j < 20; j++) {
    const id = `00000000-0000-4000-9000-${String(j).padStart(12, '0')}`;
    const kind = j % 4;
    let body: string;
    if (kind === 0)
      body = `correlation:\n  type: event_count\n  rules: [r${(j * 5) % 100}]\n  group-by: [userIdentity.accessKeyId]\n  timespan: 5m\n  condition: { gte: 20 }`;
    else if (kind === 1)
      body = `correlation:\n  type: value_count\n  rules: [r${(j * 5 + 6) % 100}]\n  group-by: [userIdentity.arn]\n  timespan: 10m\n  condition: { field: requestParameters.secretId, gte: 10 }`;
    else if (kind === 2)
      body = `correlation:\n  type: temporal\n  rules: [r${(j * 5 + 2) % 100}, r${(j * 5 + 10) % 100}]\n  group-by: [userIdentity.arn]\n  timespan: 10m`;
    else
      body = `correlation:\n  type: temporal_ordered\n  rules: [r${(j * 5 + 1) % 100}, r${(j * 5 + 20) % 100}]\n  group-by: [userIdentity.arn]\n  timespan: 15m`;
    docs.push(`title: bench correlation ${j}\nid: ${id}\nstatus: test\nlevel: high\n${body}\n`);
  }
  return docs.join('---\n');
}

interface Pass {
  label: string;
  events: number;
  seconds: number;
  perSecond: number;
  alerts: number;
  matches: number;
  stateEntries: number;
}

async function run(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-detect-'));
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  try {
    const data = join(dir, 'cloudtrail.ndjson');
    const t0 = performance.now();
    const bytes = await writeCloudTrail(data, args.events, { identityCount: args.identities });
    const genSeconds = (performance.now() - t0) / 1000;
    writeFileSync(join(dir, 'single.yml'), singleRules());
    const corrDir = join(dir, 'with-correlations');
    mkdirSync(corrDir);
    writeFileSync(join(corrDir, 'single.yml'), singleRules());
    writeFileSync(join(corrDir, 'correlations.yml'), correlations());

    const single = await loadDetectionRules([join(dir, 'single.yml')]);
    const withCorr = await loadDetectionRules([corrDir]);
    for (const r of [single, withCorr]) {
      if (r.errors.length > 0) throw new Error(`bench rules failed to load: ${JSON.stringify(r.errors[0])}`);
    }

    const pass = async (label: string, rules: typeof single | null): Promise<Pass> => {
      let alerts = 0;
      const detector = rules
        ? createDetector(rules, {
            allowedLatenessMs: 60_000,
            maxStateEntries: 1_000_000,
            onAlert: () => void alerts++,
          })
        : null;
      const start = performance.now();
      let n = 0;
      for await (const e of readEvents([data], { format: 'cloudtrail' })) {
        n++;
        detector?.push(e);
      }
      const stats = detector?.stats();
      detector?.end();
      const seconds = (performance.now() - start) / 1000;
      return {
        label,
        events: n,
        seconds,
        perSecond: n / seconds,
        alerts,
        matches: stats?.matches ?? 0,
        stateEntries: stats?.stateEntries ?? 0,
      };
    };

    const a = await pass('(a) parse and normalize only', null);
    const b = await pass('(b) 100 single-event rules', single);
    const c = await pass('(c) 100 rules + 20 correlations', withCorr);
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    process.stdout.write(
      `Keyward detection benchmark (node ${process.version}): ${fmt(args.events)} CloudTrail events over ${fmt(args.identities)} identities, ${(bytes / 1e6).toFixed(0)} MB NDJSON (generated in ${genSeconds.toFixed(1)} s)\n` +
        `pass                                events/s   seconds  matches     alerts   state entries\n` +
        [a, b, c]
          .map(
            (p) =>
              `${p.label.padEnd(35)} ${fmt(p.perSecond).padStart(9)} ${p.seconds.toFixed(1).padStart(8)}  ${fmt(p.matches).padStart(10)} ${fmt(p.alerts).padStart(9)} ${fmt(p.stateEntries).padStart(14)}`,
          )
          .join('\n') +
        `\n(c) is ${((c.perSecond / a.perSecond) * 100).toFixed(0)}% of (a) (target ≥ 40%) at ${fmt(c.perSecond)} events/s (target ≥ 150,000); peak RSS ${(peakRss / 1e6).toFixed(0)} MB\n` +
        JSON.stringify({ bench: 'detect', events: args.events, a, b, c, peakRssBytes: peakRss }) +
        '\n',
    );
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`bench/detect failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
