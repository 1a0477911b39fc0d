/**
 * Secret-scanning benchmark: generates a corpus of realistic files with planted secrets and tricky non-secrets
 * (bench/secrets-corpus.ts), scans it with `keyward scan` and with secretlint (recommended preset) in the same
 * run, each as a child process, and prints throughput, peak RSS, recall and precision of both against the
 * planted ground truth, with the targets.
 *
 *   npm run bench:secrets                                  # 500 MB corpus, secretlint on the first 50 MB
 *   npm run bench:secrets -- --mb 50 --secretlint-mb 50    # quicker, both on the same files
 *   npm run bench:secrets -- --dir /tmp/corpus --workers 2 # keep (and next time reuse) the corpus
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  generateCorpus,
  manifestMatches,
  readCorpusManifest,
  TRUTH_FILE,
  type CorpusManifest,
  type PlantedDecoy,
  type PlantedSecret,
} from './secrets-corpus.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEYWARD_MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SECRETLINT_BIN = join(ROOT, 'node_modules', 'secretlint', 'bin', 'secretlint.js');
const TIME = '/usr/bin/time';

interface Args {
  mb: number;
  dir: string | null;
  seed: number;
  skipSecretlint: boolean;
  secretlintMb: number;
  /** Megabytes of files per secretlint invocation. */
  secretlintBatchMb: number;
  workers: number | null;
  json: boolean;
  /** Keyward's CLI entry point (default: this build's dist/src/cli/main.js). */
  cli: string;
}

const USAGE =
  'options: --mb <n> (500), --dir <path>, --seed <n> (1), --skip-secretlint, --secretlint-mb <n> (50), --secretlint-batch-mb <n> (8), --workers <n>, --cli <main.js>, --json';

function parseArgs(argv: string[]): Args {
  const args: Args = {
    mb: 500,
    dir: null,
    seed: 1,
    skipSecretlint: false,
    secretlintMb: 50,
    secretlintBatchMb: 8,
    workers: null,
    json: false,
    cli: KEYWARD_MAIN,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const n = Number(v);
    if (a === '--skip-secretlint') args.skipSecretlint = true;
    else if (a === '--json') args.json = true;
    else if ((a === '--dir' || a === '--cli') && v) {
      if (a === '--dir') args.dir = resolve(v);
      else args.cli = resolve(v);
      i++;
    } else if (a === '--seed' && Number.isSafeInteger(n)) {
      args.seed = n;
      i++;
    } else if (
      (a === '--mb' || a === '--secretlint-mb' || a === '--secretlint-batch-mb') &&
      Number.isFinite(n) &&
      n > 0
    ) {
      if (a === '--mb') args.mb = n;
      else if (a === '--secretlint-mb') args.secretlintMb = n;
      else args.secretlintBatchMb = n;
      i++;
    } else if (a === '--workers' && Number.isSafeInteger(n) && n > 0) {
      args.workers = n;
      i++;
    } else throw new Error(`unknown or bad option ${a} (${USAGE})`);
  }
  return args;
}

/** What one child process cost. */
interface Measured {
  exitCode: number | null;
  seconds: number;
  /** Peak resident set size in bytes (GNU time's %M), null when /usr/bin/time is missing. */
  peakRssBytes: number | null;
  /** User + system CPU seconds of the child, null when /usr/bin/time is missing. */
  cpuSeconds: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in `cwd`, wrapped in GNU time when present, stdout to a file (it can be large). */
async function runNode(args: string[], cwd: string, work: string): Promise<Measured> {
  const outFile = join(work, `stdout-${process.hrtime.bigint()}.txt`);
  const timeFile = join(work, `time-${process.hrtime.bigint()}.txt`);
  const useTime = existsSync(TIME);
  const cmd = useTime ? TIME : process.execPath;
  const argv = useTime ? ['-f', '%M %e %U %S', '-o', timeFile, process.execPath, ...args] : args;
  const fd = openSync(outFile, 'w');
  const started = performance.now();
  let stderr = '';
  const exitCode = await new Promise<number | null>((done, fail) => {
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', fd, 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr = (stderr + d).slice(-8_000);
    });
    child.on('error', fail);
    child.on('close', (code) => done(code));
  });
  const seconds = (performance.now() - started) / 1000;
  closeSync(fd);
  const stdout = readFileSync(outFile, 'utf8');
  rmSync(outFile, { force: true });
  let peakRssBytes: number | null = null;
  let cpuSeconds: number | null = null;
  if (useTime && existsSync(timeFile)) {
    // GNU time appends its line after anything else it wrote (e.g. "Command exited with non-zero status 1").
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [kb, , user, sys] = last.split(' ').map(Number);
    if (Number.isFinite(kb)) peakRssBytes = kb! * 1024;
    if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user! + sys!;
    rmSync(timeFile, { force: true });
  }
  return { exitCode, seconds, peakRssBytes, cpuSeconds, stdout, stderr };
}

/** A finding reduced to what is scored: where, and which rule said so. */
interface Hit {
  path: string;
  line: number;
  rule: string;
}

/** One tool's run over the corpus or part of it. */
interface ToolRun {
  tool: 'keyward' | 'secretlint';
  bytes: number;
  files: number;
  seconds: number;
  peakRssBytes: number | null;
  cpuSeconds: number | null;
  /** Cores the tool used (keyward's worker count; 1 for secretlint). */
  cores: number;
  invocations: number;
  hits: Hit[];
  /** Files and bytes the tool says it scanned (keyward's `stats`), when it says. */
  reported?: { files: number | null; bytes: number | null };
}

/** A reported path as the ground truth spells it: relative to the corpus root, posix separators. */
function toCorpusPath(dir: string, p: string): string {
  return (isAbsolute(p) ? relative(dir, p) : p).split(sep).join('/');
}

interface KeywardJson {
  findings?: Array<{ ruleId?: string; path?: string; line?: number; origin?: { path?: string } }>;
  stats?: { files?: number; bytes?: number; workers?: number };
}

async function runKeyward(dir: string, args: Args, manifest: CorpusManifest, work: string): Promise<ToolRun> {
  if (!existsSync(args.cli))
    throw new Error(`${args.cli} does not exist: build first (npx tsc -p tsconfig.build.json)`);
  const argv = [args.cli, 'scan', dir, '--json', '--exclude', TRUTH_FILE];
  if (args.workers !== null) argv.push('--workers', String(args.workers));
  const m = await runNode(argv, ROOT, work);
  const tail = m.stderr.trim().split('\n').slice(-5).join('\n');
  if (m.exitCode !== 0 && m.exitCode !== 1)
    throw new Error(`keyward scan exited with ${m.exitCode}${tail ? `: ${tail}` : ''}`);
  let out: KeywardJson;
  try {
    out = JSON.parse(m.stdout) as KeywardJson;
  } catch {
    throw new Error(
      `keyward scan did not print JSON (exit ${m.exitCode}; is the \`scan\` command built?)${tail ? `: ${tail}` : ''}`,
    );
  }
  if (!Array.isArray(out.findings)) throw new Error('keyward scan printed JSON without a `findings` array');
  const hits: Hit[] = out.findings.map((f) => ({
    path: toCorpusPath(dir, f.path ?? f.origin?.path ?? ''),
    line: f.line ?? 0,
    rule: f.ruleId ?? '?',
  }));
  // stats.workers is 0 when the tree was small enough to scan on the main thread: one core.
  const cores = Math.max(1, out.stats?.workers ?? args.workers ?? availableParallelism());
  return {
    tool: 'keyward',
    // Throughput is over the corpus, whatever the scanner chose to skip; its own counts are printed beside.
    bytes: manifest.bytes,
    files: manifest.files.length,
    reported: { files: out.stats?.files ?? null, bytes: out.stats?.bytes ?? null },
    seconds: m.seconds,
    peakRssBytes: m.peakRssBytes,
    cpuSeconds: m.cpuSeconds,
    cores,
    invocations: 1,
    hits,
  };
}

interface SecretlintResult {
  filePath: string;
  messages: Array<{ ruleId?: string; loc?: { start?: { line?: number } } }>;
}

/** The files secretlint scans: the corpus's first `mb` megabytes, in generation order. */
function secretlintSubset(manifest: CorpusManifest, mb: number): CorpusManifest['files'] {
  const out: CorpusManifest['files'] = [];
  let bytes = 0;
  for (const f of manifest.files) {
    if (bytes >= mb * 1e6) break;
    out.push(f);
    bytes += f.bytes;
  }
  return out;
}

/**
 * Runs secretlint over `files` in batches of `batchMb` MB, summing wall and CPU time and keeping the largest
 * peak RSS. Batches are its best case: its time per MB grows with the files of one invocation (30 MB of this
 * corpus took 26 s in one run, 13 s in four), and its JSON output holds every file's content.
 */
async function runSecretlint(
  dir: string,
  files: CorpusManifest['files'],
  batchMb: number,
  work: string,
): Promise<ToolRun> {
  if (!existsSync(SECRETLINT_BIN))
    throw new Error(`${SECRETLINT_BIN} is missing: secretlint 12 is a devDependency (npm install)`);
  const rc = join(work, 'secretlintrc.json');
  writeFileSync(rc, JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
  const batches: string[][] = [];
  let batch: string[] = [];
  let batchBytes = 0;
  let argChars = 0;
  for (const f of files) {
    if (batch.length > 0 && (batchBytes + f.bytes > batchMb * 1e6 || argChars + f.path.length > 100_000)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
      argChars = 0;
    }
    batch.push(f.path);
    batchBytes += f.bytes;
    argChars += f.path.length + 1;
  }
  if (batch.length > 0) batches.push(batch);

  const run: ToolRun = {
    tool: 'secretlint',
    bytes: files.reduce((s, f) => s + f.bytes, 0),
    files: files.length,
    seconds: 0,
    peakRssBytes: null,
    cpuSeconds: null,
    cores: 1,
    invocations: batches.length,
    hits: [],
  };
  for (const b of batches) {
    const out = join(work, 'secretlint-out.json');
    const m = await runNode(
      [
        SECRETLINT_BIN,
        '--secretlintrc',
        rc,
        '--format',
        'json',
        '--output',
        out,
        '--no-color',
        '--no-glob',
        ...b,
      ],
      dir,
      work,
    );
    if (m.exitCode !== 0 && m.exitCode !== 1)
      throw new Error(
        `secretlint exited with ${m.exitCode}: ${m.stderr.trim().split('\n').slice(-5).join('\n')}`,
      );
    run.seconds += m.seconds;
    if (m.cpuSeconds !== null) run.cpuSeconds = (run.cpuSeconds ?? 0) + m.cpuSeconds;
    if (m.peakRssBytes !== null) run.peakRssBytes = Math.max(run.peakRssBytes ?? 0, m.peakRssBytes);
    const results = JSON.parse(readFileSync(out, 'utf8')) as SecretlintResult[];
    rmSync(out, { force: true });
    for (const r of results) {
      const rel = toCorpusPath(dir, r.filePath);
      for (const msg of r.messages)
        run.hits.push({ path: rel, line: msg.loc?.start?.line ?? 0, rule: msg.ruleId ?? '?' });
    }
  }
  return run;
}

/**
 * The secretlint (recommended preset) rule covering a planted secret's type, or null. Matched on Keyward's
 * provider and rule id, so rules added later are mapped without changes here when their names follow suit.
 */
export function secretlintRuleFor(s: Pick<PlantedSecret, 'ruleId' | 'provider'>): string | null {
  const id = s.ruleId;
  const p = s.provider;
  const table: Array<[string, boolean]> = [
    // secretlint-rule-aws reports secret access keys only (access key ids need enableIDScanRule).
    ['aws', p === 'aws' && /secret/.test(id)],
    ['gcp', /^(gcp|google)/.test(p) && /service-account/.test(id)],
    ['privatekey', /private-key/.test(id)],
    ['database-connection-string', /postgres|mysql|mongo/.test(id)],
    ['basicauth', /basic-auth|url-(credential|password|userinfo)|credentials-in-url/.test(id)],
    ['gitlab', p === 'gitlab' && /pat|personal/.test(id)],
    ['docker', p === 'docker' && /pat|personal|access-token/.test(id)],
    ['1password', p === '1password' || p === 'onepassword'],
    ['hashicorp-vault', /vault|hashicorp/.test(p)],
  ];
  for (const [rule, covered] of table) if (covered) return `@secretlint/secretlint-rule-${rule}`;
  const sameName = [
    'npm', 'slack', 'openai', 'anthropic', 'groq', 'huggingface', 'linear', 'notion', 'sendgrid', 'shopify',
    'github', 'grafana', 'vercel', 'databricks', 'figma',
  ]; // prettier-ignore
  return sameName.includes(p) ? `@secretlint/secretlint-rule-${p}` : null;
}

/** Recall and precision of one run against the planted secrets of the files it scanned. */
interface Score {
  planted: number;
  found: number;
  recall: number | null;
  /** Distinct (path, line) findings, and how many of them fall on a planted secret. */
  findings: number;
  truePositives: number;
  precision: number | null;
  /** Planted secrets of types secretlint covers, and how many of those were found. */
  sharedPlanted: number;
  sharedFound: number;
  sharedRecall: number | null;
  /** False positives by what they fell on (`negative:<rule>`, `uuid`, …, or `other text`). */
  falsePositivesBy: Record<string, number>;
  /** Planted and found per provider. */
  byProvider: Record<string, { planted: number; found: number }>;
  /** Planted and found per file kind. */
  byKind: Record<string, { planted: number; found: number }>;
}

function ranges<T extends { path: string; line: number; endLine: number }>(items: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const a = m.get(it.path);
    if (a) a.push(it);
    else m.set(it.path, [it]);
  }
  return m;
}

function score(hits: Hit[], manifest: CorpusManifest, onlyFiles: Set<string> | null): Score {
  const secrets = manifest.secrets.filter((s) => !onlyFiles || onlyFiles.has(s.path));
  const decoys = manifest.decoys.filter((d) => !onlyFiles || onlyFiles.has(d.path));
  const byPath = ranges(secrets);
  const decoysByPath = ranges<PlantedDecoy>(decoys);
  const found = new Set<PlantedSecret>();
  const seen = new Set<string>();
  let truePositives = 0;
  const falsePositivesBy: Record<string, number> = {};
  for (const h of hits) {
    if (onlyFiles && !onlyFiles.has(h.path)) continue;
    const key = `${h.path}\0${h.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const inSecret = (byPath.get(h.path) ?? []).filter((s) => h.line >= s.line && h.line <= s.endLine);
    if (inSecret.length > 0) {
      truePositives++;
      for (const s of inSecret) found.add(s);
      continue;
    }
    const decoy = (decoysByPath.get(h.path) ?? []).find((d) => h.line >= d.line && h.line <= d.endLine);
    const what = decoy ? decoy.decoy : 'other text';
    falsePositivesBy[what] = (falsePositivesBy[what] ?? 0) + 1;
  }
  const byProvider: Score['byProvider'] = {};
  const byKind: Score['byKind'] = {};
  let sharedPlanted = 0;
  let sharedFound = 0;
  for (const s of secrets) {
    const hit = found.has(s) ? 1 : 0;
    const p = (byProvider[s.provider] ??= { planted: 0, found: 0 });
    p.planted++;
    p.found += hit;
    const k = (byKind[s.kind] ??= { planted: 0, found: 0 });
    k.planted++;
    k.found += hit;
    if (secretlintRuleFor(s)) {
      sharedPlanted++;
      sharedFound += hit;
    }
  }
  const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);
  return {
    planted: secrets.length,
    found: found.size,
    recall: ratio(found.size, secrets.length),
    findings: seen.size,
    truePositives,
    precision: ratio(truePositives, seen.size),
    sharedPlanted,
    sharedFound,
    sharedRecall: ratio(sharedFound, sharedPlanted),
    falsePositivesBy,
    byProvider,
    byKind,
  };
}

const mbs = (bytes: number, seconds: number): number => bytes / 1e6 / seconds;
const f1 = (n: number | null, digits = 1): string => (n === null ? 'n/a' : n.toFixed(digits));
const pct = (n: number | null): string => (n === null ? 'n/a' : `${(n * 100).toFixed(1)}%`);
const mb = (n: number | null): string => (n === null ? 'n/a' : `${(n / 1e6).toFixed(0)} MB`);

interface Check {
  target: string;
  value: string;
  pass: boolean | null;
}

async function run(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'keyward-bench-secrets-work-'));
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'keyward-bench-secrets-'));
  const log = (s: string): void => void process.stderr.write(s + '\n');
  try {
    const opts = { megabytes: args.mb, seed: args.seed };
    let manifest = readCorpusManifest(dir);
    let reused = true;
    if (!manifestMatches(manifest, opts)) {
      reused = false;
      log(`generating a ${args.mb} MB corpus (seed ${args.seed}) in ${dir} …`);
      manifest = await generateCorpus(dir, opts);
    }
    const m = manifest!;
    log(
      `corpus: ${m.files.length} files, ${(m.bytes / 1e6).toFixed(1)} MB, ${m.secrets.length} planted secrets of ${m.rules.length} rules, ${m.decoys.length} planted non-secrets` +
        (reused ? ' (reused)' : ` (generated in ${m.generatedSeconds.toFixed(1)} s)`),
    );

    let keyward: ToolRun | null = null;
    let keywardError: string | null = null;
    log('scanning with keyward …');
    try {
      keyward = await runKeyward(dir, args, m, work);
    } catch (err) {
      keywardError = err instanceof Error ? err.message : String(err);
      log(`keyward FAILED: ${keywardError}`);
    }

    let secretlint: ToolRun | null = null;
    let subset: Set<string> | null = null;
    if (!args.skipSecretlint) {
      const files = secretlintSubset(m, args.secretlintMb);
      subset = files.length === m.files.length ? null : new Set(files.map((f) => f.path));
      log(
        `scanning with secretlint (recommended preset) ${subset ? `the first ${(files.reduce((s, f) => s + f.bytes, 0) / 1e6).toFixed(1)} MB (${files.length} files)` : 'the whole corpus'} …`,
      );
      secretlint = await runSecretlint(dir, files, args.secretlintBatchMb, work);
    }

    const kScore = keyward ? score(keyward.hits, m, null) : null;
    // Recall against secretlint is compared on the same files.
    const kSubsetScore = keyward && subset ? score(keyward.hits, m, subset) : kScore;
    const sScore = secretlint ? score(secretlint.hits, m, subset) : null;

    const kMbs = keyward ? mbs(m.bytes, keyward.seconds) : null;
    const sMbs = secretlint ? mbs(secretlint.bytes, secretlint.seconds) : null;
    const kPerCore = keyward && kMbs !== null ? kMbs / keyward.cores : null;
    const checks: Check[] = [];
    const ratio = kMbs !== null && sMbs !== null ? kMbs / sMbs : null;
    checks.push({
      target: 'keyward throughput ≥ 20× secretlint',
      value: ratio === null ? 'n/a' : `${ratio.toFixed(1)}×`,
      pass: ratio === null ? null : ratio >= 20,
    });
    const kr = kSubsetScore?.sharedRecall ?? null;
    const sr = sScore?.sharedRecall ?? null;
    checks.push({
      target: 'keyward recall ≥ secretlint recall, shared types',
      value: `${pct(kr)} vs ${pct(sr)}`,
      pass: kr === null || sr === null ? null : kr >= sr,
    });
    checks.push({
      target: 'keyward precision ≥ 0.95',
      value: f1(kScore?.precision ?? null, 3),
      pass: kScore?.precision === null || !kScore ? null : kScore.precision >= 0.95,
    });
    checks.push({
      target: 'keyward ≥ 100 MB/s per core',
      value: kPerCore === null ? 'n/a' : `${kPerCore.toFixed(1)} MB/s (${keyward!.cores} cores)`,
      pass: kPerCore === null ? null : kPerCore >= 100,
    });

    const row = (t: ToolRun | null, s: Score | null, label: string): string => {
      if (!t || !s)
        return `${label.padEnd(12)} ${keywardError && label === 'keyward' ? 'FAILED' : 'skipped'}`;
      const rate = mbs(t.bytes, t.seconds);
      const cpuRate = t.cpuSeconds ? mbs(t.bytes, t.cpuSeconds) : null;
      return (
        `${label.padEnd(12)} ${(t.bytes / 1e6).toFixed(1).padStart(8)} ${t.seconds.toFixed(1).padStart(8)} ` +
        `${f1(rate).padStart(8)} ${f1(rate / t.cores).padStart(9)} ${f1(cpuRate).padStart(10)} ${mb(t.peakRssBytes).padStart(9)} ` +
        `${pct(s.recall).padStart(7)} ${pct(s.sharedRecall).padStart(8)} ${f1(s.precision, 3).padStart(9)} ` +
        `${String(s.findings).padStart(8)} ${String(s.findings - s.truePositives).padStart(5)}`
      );
    };
    const lines: string[] = [];
    lines.push(
      `Keyward secret-scanning benchmark (node ${process.version}, ${availableParallelism()} CPUs): ${(m.bytes / 1e6).toFixed(1)} MB in ${m.files.length} files, ` +
        `${m.secrets.length} planted secrets (${m.rules.length} rules), ${m.decoys.length} planted non-secrets, seed ${m.seed}`,
    );
    lines.push(
      `tool               MB  seconds     MB/s  MB/s/core  MB/CPU-s  peak RSS  recall   shared  precision findings   FPs`,
    );
    lines.push(row(keyward, kScore, 'keyward'));
    if (keyward && subset && kSubsetScore)
      lines.push(
        `  on secretlint's files: recall ${pct(kSubsetScore.recall)}, shared ${pct(kSubsetScore.sharedRecall)}, precision ${f1(kSubsetScore.precision, 3)}`,
      );
    lines.push(row(secretlint, sScore, 'secretlint'));
    if (secretlint && subset)
      lines.push(
        `  secretlint scanned the first ${(secretlint.bytes / 1e6).toFixed(1)} MB only (--secretlint-mb ${args.secretlintMb}); ` +
          `its MB/s on that subset stands for the whole corpus, and its recall and precision are on those files`,
      );
    if (secretlint && secretlint.invocations > 1)
      lines.push(
        `  secretlint ran in ${secretlint.invocations} invocations (≤ ${args.secretlintBatchMb} MB each, --secretlint-batch-mb); times are summed`,
      );
    if (keyward?.reported)
      lines.push(
        `  keyward's stats: ${keyward.reported.files ?? '?'} files, ${keyward.reported.bytes === null ? '?' : (keyward.reported.bytes / 1e6).toFixed(1)} MB scanned (corpus: ${m.files.length} files, ${(m.bytes / 1e6).toFixed(1)} MB, plus the excluded truth file)`,
      );
    if (keyward)
      lines.push(`  keyward cores: ${keyward.cores} (stats.workers, else --workers, else the CPU count)`);
    if (keywardError) lines.push(`keyward FAILED: ${keywardError}`);
    lines.push(
      `shared types: planted secrets whose rule maps to a secretlint rule: ${kSubsetScore?.sharedPlanted ?? sScore?.sharedPlanted ?? 0} on the compared files`,
    );
    for (const [label, s] of [
      ['keyward', kScore],
      ['secretlint', sScore],
    ] as const) {
      if (!s) continue;
      const fps = Object.entries(s.falsePositivesBy)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      if (fps) lines.push(`${label} false positives on: ${fps}`);
      const missed = Object.entries(s.byProvider)
        .filter(([, v]) => v.found < v.planted)
        .map(([k, v]) => `${k} ${v.found}/${v.planted}`)
        .join(', ');
      if (missed) lines.push(`${label} found/planted by provider (incomplete only): ${missed}`);
      const kinds = Object.entries(s.byKind)
        .filter(([, v]) => v.found < v.planted)
        .map(([k, v]) => `${k} ${v.found}/${v.planted}`)
        .join(', ');
      if (kinds) lines.push(`${label} found/planted by file kind (incomplete only): ${kinds}`);
    }
    lines.push('');
    lines.push('target                                               value                       result');
    for (const c of checks)
      lines.push(
        `${c.target.padEnd(52)} ${c.value.padEnd(27)} ${c.pass === null ? 'n/a' : c.pass ? 'PASS' : 'FAIL'}`,
      );

    const figures = {
      bench: 'secrets',
      corpus: {
        dir: args.dir,
        megabytes: m.megabytes,
        seed: m.seed,
        bytes: m.bytes,
        files: m.files.length,
        secrets: m.secrets.length,
        decoys: m.decoys.length,
        rules: m.rules,
        reused,
      },
      keyward: keyward
        ? {
            seconds: keyward.seconds,
            mbPerSecond: kMbs,
            cores: keyward.cores,
            mbPerSecondPerCore: kPerCore,
            cpuSeconds: keyward.cpuSeconds,
            peakRssBytes: keyward.peakRssBytes,
            reported: keyward.reported,
            score: kScore,
            scoreOnSecretlintFiles: subset ? kSubsetScore : undefined,
          }
        : { error: keywardError },
      secretlint: secretlint
        ? {
            bytes: secretlint.bytes,
            files: secretlint.files,
            subset: subset !== null,
            invocations: secretlint.invocations,
            seconds: secretlint.seconds,
            mbPerSecond: sMbs,
            cpuSeconds: secretlint.cpuSeconds,
            peakRssBytes: secretlint.peakRssBytes,
            score: sScore,
          }
        : null,
      checks,
    };
    process.stdout.write(args.json ? JSON.stringify(figures) + '\n' : lines.join('\n') + '\n');
    if (keywardError) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!args.dir) rmSync(dir, { recursive: true, force: true });
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`bench/secrets failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
