/**
 * npm gate benchmark: analyses the project's own installed dependency tree (node_modules) the way
 * `keyward npm scan node_modules` does, on one thread, and prints packages per second, megabytes per second,
 * the share of JavaScript files the pre-filter let through to the parser, the verdict counts, and peak memory.
 *
 *   npm run bench:npm                          # the project's node_modules, 3 rounds
 *   npm run bench:npm -- --dir /path/to/tree --rounds 5
 *   npm run bench:npm -- --json
 *   npm run bench:npm -- --in-process       # on the main thread (default heap) instead of the CLI's worker
 *   npm run bench:npm -- --parse-only       # only what parsing the tree's JavaScript costs, with and without offsets
 *
 * Target (issue 6): at least 200 packages per second per core.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { parseModule, parseScript } from 'meriyah';
import { MAX_PARSE_BYTES } from '../src/supplychain/analysis/code-analyser.js';
import {
  createNpmAnalyseContext,
  levelCounts,
  scanNpmInputs,
  scanNpmInputsIsolated,
} from '../src/supplychain/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const dir = resolve(arg('dir') ?? join(ROOT, 'node_modules'));
const rounds = Math.max(1, Number(arg('rounds') ?? 3));
const json = process.argv.includes('--json');
/** In-process runs on the main isolate's default heap; the default is what `keyward npm scan` does (a worker). */
const inProcess = process.argv.includes('--in-process');

/**
 * `--parse-only`: the parser's share alone. Reads every .js/.cjs/.mjs file of the tree that the gate would parse
 * (at most MAX_PARSE_BYTES), then parses each once with meriyah as the gate does (module, else script), with
 * `ranges` (what the gate uses: findings need offsets) and without, and prints the CPU time of each pass against
 * the budget the target leaves for the whole analysis.
 */
function parseOnly(): void {
  const sources: string[] = [];
  let bytes = 0;
  let packages = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        if (e.name === 'package.json') {
          // A package is a directory right under node_modules, or under a @scope there.
          const parent = dirname(d);
          const up = parent.endsWith('/node_modules') ? parent : dirname(parent);
          if (up.endsWith('/node_modules') && (up === parent || parent.split('/').pop()!.startsWith('@')))
            packages++;
        } else if (/\.[cm]?js$/.test(e.name) && statSync(p).size <= MAX_PARSE_BYTES) {
          const text = readFileSync(p, 'utf8');
          sources.push(text);
          bytes += Buffer.byteLength(text);
        }
      }
    }
  };
  walk(dir);
  const out = [
    `JavaScript the gate parses in ${dir}: ${sources.length} files, ${(bytes / 1e6).toFixed(1)} MB (${packages} packages)`,
  ];
  for (const ranges of [true, false]) {
    const opts = { next: true, ranges, webcompat: true, jsx: false };
    let unparsed = 0;
    const cpu0 = process.cpuUsage();
    for (const text of sources) {
      try {
        parseModule(text, opts);
      } catch {
        try {
          parseScript(text, { ...opts, globalReturn: true });
        } catch {
          unparsed++;
        }
      }
    }
    const cpu = process.cpuUsage(cpu0);
    out.push(
      `  meriyah, ranges ${ranges ? 'on ' : 'off'}  ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU-s (${unparsed} files rejected)`,
    );
  }
  out.push(
    `  200 packages/s per core leaves ${(packages / 200).toFixed(2)} CPU-s for the whole analysis of this tree`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv.includes('--parse-only')) {
  parseOnly();
  process.exit(0);
}

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);
sampler.unref();

const loadStart = performance.now();
const ctx = createNpmAnalyseContext();
const loadMs = performance.now() - loadStart;

const results: {
  ms: number;
  cpuMs: number;
  packages: number;
  bytes: number;
  jsFiles: number;
  jsAnalysed: number;
}[] = [];
let last: Awaited<ReturnType<typeof scanNpmInputs>> | null = null;
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  // CPU time of the whole process (every thread: the worker, V8's GC helpers): steadier than wall time when
  // other processes share the machine.
  const cpu0 = process.cpuUsage();
  const report = inProcess
    ? await scanNpmInputs([dir], { ctx, cwd: ROOT })
    : await scanNpmInputsIsolated(
        { paths: [dir], cwd: ROOT, dataDir: null, fetch: false, home: homedir(), env: {} },
        () => ({ ctx, cwd: ROOT }),
      );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  results.push({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    packages: report.packages.length,
    bytes: report.stats.bytes,
    jsFiles: report.packages.reduce((n, p) => n + p.stats.jsFiles, 0),
    jsAnalysed: report.packages.reduce((n, p) => n + p.stats.jsAnalysed, 0),
  });
  last = report;
}
clearInterval(sampler);
peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);

const best = results.reduce((a, b) => (b.ms < a.ms ? b : a));
const first = results[0]!;
const bestCpu = results.reduce((a, b) => (b.cpuMs < a.cpuMs ? b : a));
const counts = levelCounts(last!);
const figures = {
  dir,
  mode: inProcess ? 'in-process' : 'worker thread (as keyward npm scan)',
  rounds,
  packages: best.packages,
  megabytes: +(best.bytes / 1e6).toFixed(1),
  jsFiles: best.jsFiles,
  jsParsed: best.jsAnalysed,
  contextLoadMs: Math.round(loadMs),
  firstRoundMs: Math.round(first.ms),
  bestRoundMs: Math.round(best.ms),
  packagesPerSecond: Math.round(best.packages / (best.ms / 1000)),
  cpuMsPerRound: results.map((r) => Math.round(r.cpuMs)),
  bestRoundCpuMs: Math.round(bestCpu.cpuMs),
  packagesPerCpuSecond: Math.round(bestCpu.packages / (bestCpu.cpuMs / 1000)),
  packagesPerSecondFirstRound: Math.round(first.packages / (first.ms / 1000)),
  megabytesPerSecond: +(best.bytes / 1e6 / (best.ms / 1000)).toFixed(1),
  peakRssMb: Math.round(peakRss / 1024 / 1024),
  levels: counts,
  errors: last!.errors.length,
  target: '>= 200 packages/s per core (one thread here)',
};
if (json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
else {
  const out = [
    `npm gate over ${figures.dir} (${figures.mode})`,
    `  packages        ${figures.packages} (${figures.megabytes} MB, ${figures.jsFiles} JavaScript files, ${figures.jsParsed} parsed after the pre-filter)`,
    `  checkers load   ${figures.contextLoadMs} ms (popular names, malicious feed; inside each round in a worker)`,
    `  first round     ${figures.firstRoundMs} ms  → ${figures.packagesPerSecondFirstRound} packages/s (cold file cache and JIT)`,
    `  best of ${rounds}       ${figures.bestRoundMs} ms  → ${figures.packagesPerSecond} packages/s, ${figures.megabytesPerSecond} MB/s on one thread`,
    `  CPU time        ${figures.cpuMsPerRound.join(', ')} ms per round (all threads) → ${figures.packagesPerCpuSecond} packages per CPU second (best)`,
    `  peak RSS        ${figures.peakRssMb} MB`,
    `  verdicts        critical ${counts.critical}, high ${counts.high}, medium ${counts.medium}, low ${counts.low}, info ${counts.info}, none ${counts.none}; errors ${figures.errors}`,
    `  target          ${figures.target}: ${figures.packagesPerSecond >= 200 ? 'met' : 'NOT met'}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
