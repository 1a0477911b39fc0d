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
import { createLinePrefilter } from '../src/detect/line-prefilter.js';
import { writeCloudTrail } from './detect-data.js';
import { benchCorrelations, benchSingleRules } from './detect-rules.js';

interface Args {
  events: number;
  identities: number;
  prefilter: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { events: 1_000_000, identities: 10_000, prefilter: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const n = Number(argv[i + 1]);
    if (a === '--no-prefilter') args.prefilter = false;
    else if ((a === '--events' || a === '--identities') && Number.isSafeInteger(n) && n > 0) {
      if (a === '--events') args.events = n;
      else args.identities = n;
      i++;
    } else
      throw new Error(`unknown or bad option ${a} (options: --events <n>, --identities <n>, --no-prefilter)`);
  }
  return args;
}

interface Pass {
  label: string;
  events: number;
  seconds: number;
  perSecond: number;
  alerts: number;
  matches: number;
  stateEntries: number;
  /** Events parsed and normalized (the others were passed over by the prefilter). */
  parsed: number;
  /** Process CPU seconds (user + system) of the pass: steadier than wall time on a busy machine. */
  cpuSeconds: number;
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
    writeFileSync(join(dir, 'single.yml'), benchSingleRules());
    const corrDir = join(dir, 'with-correlations');
    mkdirSync(corrDir);
    writeFileSync(join(corrDir, 'single.yml'), benchSingleRules());
    writeFileSync(join(corrDir, 'correlations.yml'), benchCorrelations());

    const single = await loadDetectionRules([join(dir, 'single.yml')]);
    const withCorr = await loadDetectionRules([corrDir]);
    for (const r of [single, withCorr]) {
      if (r.errors.length > 0) throw new Error(`bench rules failed to load: ${JSON.stringify(r.errors[0])}`);
    }

    const pass = async (label: string, rules: typeof single | null): Promise<Pass> => {
      let alerts = 0;
      let parsed = 0;
      const detector = rules
        ? createDetector(rules, {
            allowedLatenessMs: 60_000,
            maxStateEntries: 1_000_000,
            onAlert: () => void alerts++,
          })
        : null;
      // The raw-line prefilter (rules only): lines no rule can match are counted but not parsed.
      const lineFilter =
        rules && detector && args.prefilter
          ? createLinePrefilter(rules.detections, (t) => detector.passOver(t))
          : null;
      if (rules && args.prefilter && lineFilter === null)
        throw new Error('the bench rules allow no prefilter');
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      const stream = readEvents([data], { format: 'cloudtrail', lineFilter });
      await stream.forEach(detector ? (e) => detector.push(e) : () => {});
      const n = stream.counters.events;
      parsed = stream.counters.events - stream.counters.passedOver;
      const stats = detector?.stats();
      detector?.end();
      const seconds = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpu0);
      return {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        label,
        events: n,
        seconds,
        perSecond: n / seconds,
        alerts,
        matches: stats?.matches ?? 0,
        stateEntries: stats?.stateEntries ?? 0,
        parsed,
      };
    };

    const a = await pass('(a) parse and normalize only', null);
    const b = await pass('(b) 100 single-event rules', single);
    const c = await pass('(c) 100 rules + 20 correlations', withCorr);
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    process.stdout.write(
      `Keyward detection benchmark (node ${process.version}): ${fmt(args.events)} CloudTrail events over ${fmt(args.identities)} identities, ${(bytes / 1e6).toFixed(0)} MB NDJSON (generated in ${genSeconds.toFixed(1)} s)\n` +
        `pass                                events/s   seconds  CPU s  events/CPU-s  matches     alerts   state entries     parsed\n` +
        [a, b, c]
          .map(
            (p) =>
              `${p.label.padEnd(35)} ${fmt(p.perSecond).padStart(9)} ${p.seconds.toFixed(1).padStart(8)} ${p.cpuSeconds.toFixed(1).padStart(6)} ${fmt(p.events / p.cpuSeconds).padStart(13)}  ${fmt(p.matches).padStart(10)} ${fmt(p.alerts).padStart(9)} ${fmt(p.stateEntries).padStart(14)} ${fmt(p.parsed).padStart(10)}`,
          )
          .join('\n') +
        `\nraw-line prefilter ${args.prefilter ? 'on' : 'off'} for (b) and (c)` +
        `\n(c) is ${((c.perSecond / a.perSecond) * 100).toFixed(0)}% of (a) (target ≥ 40%) at ${fmt(c.perSecond)} events/s (target ≥ 150,000); peak RSS ${(peakRss / 1e6).toFixed(0)} MB\n` +
        JSON.stringify({
          bench: 'detect',
          events: args.events,
          prefilter: args.prefilter,
          a,
          b,
          c,
          peakRssBytes: peakRss,
        }) +
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
