/**
 * Inventory benchmark: imports a synthetic inventory (default 100k identities, 300k credentials) into SQLite
 * and PostgreSQL through `store.applyInventoryBatch` in chunks, then measures a re-import of one chunk, the
 * snapshot load, and the posture run (`inventory.refreshFindings`), and reports peak RSS.
 *
 *   npm run bench:inventory -- [--identities N] [--credentials-per-identity N] [--chunk N] [--only sqlite|postgres]
 *
 * Each adapter runs in its own child process so its peak RSS is its own. PostgreSQL uses a fresh schema on
 * KEYWARD_DATABASE_URL or KEYWARD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) and is
 * skipped with a note when unreachable. Prints a table and, last, one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createFingerprinter } from '../src/core/fingerprint.js';
import { fixedClock } from '../src/core/time.js';
import { OWASP_NHI_IDS } from '../src/core/types.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { createPostgresStore } from '../src/store/postgres/postgres-store.js';
import type { Store } from '../src/store/store-types.js';
import { createInventoryService } from '../src/inventory/inventory-service.js';
import { DEFAULT_POSTURE_CONFIG } from '../src/inventory/posture/posture-types.js';
import { computeRiskScores, evaluatePosture } from '../src/inventory/posture/index.js';
import {
  syntheticChunk,
  syntheticDirectoryBatch,
  syntheticSizes,
  type SyntheticOptions,
  type SyntheticSizes,
} from './synthetic-inventory.js';

type Adapter = 'sqlite' | 'postgres';

interface Args {
  identities: number;
  credentialsPerIdentity: number;
  chunk: number;
  only: Adapter | null;
  /** Set on the child processes: print only the result JSON. */
  child: boolean;
}

/** What one adapter measured (times in milliseconds). */
interface AdapterResult {
  adapter: Adapter;
  skipped?: string;
  generateMs?: number;
  importMs?: number;
  importIdentitiesPerSec?: number;
  slowestChunkMs?: number;
  /** Apply time of each identity chunk in order, to show whether imports slow down as tables grow. */
  chunkMs?: number[];
  reimportChunkMs?: number;
  reimportUnchanged?: boolean;
  snapshotMs?: number;
  findingsMs?: number;
  evaluateAndRiskMs?: number;
  replaceFindingsMs?: number;
  findingsAgainMs?: number;
  /** Process CPU time (user + system) of the same phases; robust against a busy machine, but for PostgreSQL it leaves out the server's share. */
  importCpuMs?: number;
  snapshotCpuMs?: number;
  findingsCpuMs?: number;
  /** evaluatePosture and computeRiskScores alone, timed in a separate call after the refresh. */
  evaluateMs?: number;
  riskMs?: number;
  findings?: number;
  findingsByOwasp?: Record<string, number>;
  stored?: { identities: number; credentials: number; grants: number; events: number };
  peakRssMb?: number;
}

/** Process CPU time so far in milliseconds (user + system). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const NOW = new Date('2026-01-15T12:00:00.000Z');
const SEED = 'keyward-bench-inventory-v1';
const FINDINGS_TARGET_MS = 5000;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    identities: 100_000,
    credentialsPerIdentity: 3,
    chunk: 5000,
    only: null,
    child: false,
  };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) fail(`${flag} needs an integer ≥ ${min} (got "${v ?? ''}")`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--identities':
        args.identities = int(flag, value(), 1);
        break;
      case '--credentials-per-identity':
        args.credentialsPerIdentity = int(flag, value(), 0);
        break;
      case '--chunk':
        args.chunk = int(flag, value(), 1);
        break;
      case '--only': {
        const v = value();
        if (v !== 'sqlite' && v !== 'postgres') fail(`--only takes sqlite or postgres (got "${v ?? ''}")`);
        args.only = v;
        break;
      }
      case '--child':
        args.child = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          'usage: npm run bench:inventory -- [--identities N] [--credentials-per-identity N] [--chunk N] [--only sqlite|postgres]\n',
        );
        process.exit(0);
        break;
      default:
        fail(`unknown option ${a}`);
    }
  }
  return args;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

/** Progress on a TTY only, so piped output stays the table and the JSON line. */
function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${message}`);
}
function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

function postgresUrl(): string {
  for (const v of [process.env.KEYWARD_DATABASE_URL, process.env.KEYWARD_TEST_DATABASE_URL]) {
    if (v && /^postgres(ql)?:\/\//i.test(v)) return v;
  }
  return 'postgres://postgres@127.0.0.1:5432/test';
}

/** The URL without its password, for notes. */
function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

async function postgresReachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs the whole measurement against one freshly created store. */
async function measure(adapter: Adapter, args: Args): Promise<AdapterResult> {
  const fingerprinter = createFingerprinter(Buffer.alloc(32, 42));
  const options: SyntheticOptions = {
    identities: args.identities,
    credentialsPerIdentity: args.credentialsPerIdentity,
    chunkSize: args.chunk,
    seed: SEED,
    now: NOW,
    fingerprinter,
  };
  const sizes = syntheticSizes(options);

  let store: Store;
  let cleanup: () => Promise<void>;
  if (adapter === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-'));
    store = createSqliteStore({ filename: join(dir, 'bench.db') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const url = postgresUrl();
    const unreachable = await postgresReachable(url);
    if (unreachable)
      return { adapter, skipped: `PostgreSQL at ${redactUrl(url)} unreachable: ${unreachable}` };
    const schema = `kw_bench_${process.pid}_${Date.now().toString(36)}`;
    store = createPostgresStore({ connectionString: url, schema });
    cleanup = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    };
  }

  // Time replaceFindings inside refreshFindings, so the posture run splits into evaluate+risk and the write.
  let replaceMs = 0;
  const timed = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'replaceFindings' || typeof v !== 'function') return v;
      return async (...a: unknown[]) => {
        const t = performance.now();
        try {
          return await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
        } finally {
          replaceMs = performance.now() - t;
        }
      };
    },
  });

  const result: AdapterResult = { adapter };
  try {
    await store.migrate();
    const inventory = createInventoryService({
      store: timed,
      fingerprinter,
      clock: fixedClock(NOW),
      posture: DEFAULT_POSTURE_CONFIG,
      maxImportBytes: 64 << 20,
    });
    const ctx = (file: string) => ({
      time: NOW.toISOString(),
      actor: 'bench',
      source: { kind: 'bench', file },
    });

    let generateMs = 0;
    let importMs = 0;
    let importCpu = 0;
    let slowest = 0;
    const chunkMs: number[] = [];
    const apply = async (name: string, make: () => ReturnType<typeof syntheticChunk>) => {
      let t = performance.now();
      const batch = make();
      generateMs += performance.now() - t;
      t = performance.now();
      const c = cpuMs();
      const r = await store.applyInventoryBatch(batch, ctx(name));
      importCpu += cpuMs() - c;
      const ms = performance.now() - t;
      importMs += ms;
      slowest = Math.max(slowest, ms);
      return r;
    };
    await apply('directory', () => syntheticDirectoryBatch(options));
    for (let i = 0; i < sizes.chunks; i++) {
      progress(
        `${adapter}: importing chunk ${i + 1}/${sizes.chunks} (${(importMs / 1000).toFixed(1)} s so far)`,
      );
      const before = importMs;
      await apply(`chunk-${i}`, () => syntheticChunk(options, i));
      chunkMs.push(Math.round(importMs - before));
    }
    progressDone();
    result.generateMs = generateMs;
    result.importMs = importMs;
    result.importCpuMs = importCpu;
    result.importIdentitiesPerSec = Math.round(args.identities / (importMs / 1000));
    result.slowestChunkMs = slowest;
    result.chunkMs = chunkMs;

    progress(`${adapter}: re-importing chunk 0`);
    const again = syntheticChunk(options, 0);
    let t = performance.now();
    const re = await store.applyInventoryBatch(again, ctx('chunk-0'));
    result.reimportChunkMs = performance.now() - t;
    result.reimportUnchanged = [re.identities, re.credentials, re.grants].every(
      (c) => c.created === 0 && c.updated === 0,
    );

    progress(`${adapter}: loading the snapshot`);
    t = performance.now();
    let c = cpuMs();
    const snapshot = await store.loadSnapshot();
    result.snapshotMs = performance.now() - t;
    result.snapshotCpuMs = cpuMs() - c;

    progress(`${adapter}: evaluating posture`);
    t = performance.now();
    c = cpuMs();
    const first = await inventory.refreshFindings(snapshot);
    result.findingsMs = performance.now() - t;
    result.findingsCpuMs = cpuMs() - c;
    result.replaceFindingsMs = replaceMs;
    result.evaluateAndRiskMs = result.findingsMs - replaceMs;
    result.findings = first.open;

    // A second run, as after every later import: the findings exist, so only first-seen times are kept.
    t = performance.now();
    await inventory.refreshFindings(snapshot);
    result.findingsAgainMs = performance.now() - t;

    // The pure halves on their own, to tell rule time from risk-score time.
    t = performance.now();
    const findings = evaluatePosture(snapshot, DEFAULT_POSTURE_CONFIG, NOW);
    result.evaluateMs = performance.now() - t;
    t = performance.now();
    computeRiskScores(snapshot, findings);
    result.riskMs = performance.now() - t;
    progressDone();

    const byOwasp: Record<string, number> = {};
    for (const id of OWASP_NHI_IDS) {
      const n = (await store.listFindings({ owasp: id, limit: 1 })).total;
      if (n > 0) byOwasp[id] = n;
    }
    result.findingsByOwasp = byOwasp;
    const stats = await store.stats();
    result.stored = {
      identities: stats.identities,
      credentials: stats.credentials,
      grants: stats.grants,
      events: stats.events,
    };
  } finally {
    await store.close().catch(() => undefined);
    await cleanup().catch(() => undefined);
  }
  result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return result;
}

/** Runs one adapter in a child process (clean peak RSS) and returns its result. */
function runChild(adapter: Adapter, args: Args): AdapterResult {
  const script = fileURLToPath(import.meta.url);
  const childArgs = [
    ...process.execArgv,
    script,
    '--identities',
    String(args.identities),
    '--credentials-per-identity',
    String(args.credentialsPerIdentity),
    '--chunk',
    String(args.chunk),
    '--only',
    adapter,
    '--child',
  ];
  const r = spawnSync(process.execPath, childArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const last = r.stdout?.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as AdapterResult;
  } catch {
    return { adapter, skipped: `the ${adapter} run failed (exit ${r.status ?? r.signal})` };
  }
}

const s = (ms: number | undefined): string => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
const n = (v: number | undefined): string => (v === undefined ? '–' : v.toLocaleString('en-US'));

function table(sizes: SyntheticSizes, results: AdapterResult[]): string {
  const lines: string[] = [];
  lines.push(
    `Keyward inventory benchmark: ${n(sizes.identities)} identities, ${n(sizes.credentials)} credentials, ` +
      `${n(sizes.grants)} grants, ${n(sizes.resources)} resources, ${n(sizes.people)} people, ` +
      `${n(sizes.chunks)} chunks (node ${process.version})`,
  );
  const rows: string[][] = [
    [
      'adapter',
      'import',
      'ids/s',
      'slowest chunk',
      're-import chunk',
      'snapshot',
      'findings',
      '= rules+risk',
      '+ replaceFindings',
      'findings again',
      'open findings',
      'peak RSS',
    ],
  ];
  for (const r of results) {
    if (r.skipped) {
      rows.push([r.adapter, `skipped: ${r.skipped}`]);
      continue;
    }
    rows.push([
      r.adapter,
      s(r.importMs),
      n(r.importIdentitiesPerSec),
      s(r.slowestChunkMs),
      `${s(r.reimportChunkMs)}${r.reimportUnchanged ? '' : ' (CHANGED!)'}`,
      s(r.snapshotMs),
      s(r.findingsMs),
      s(r.evaluateAndRiskMs),
      s(r.replaceFindingsMs),
      s(r.findingsAgainMs),
      n(r.findings),
      `${n(r.peakRssMb)} MB`,
    ]);
  }
  // A skipped adapter's note spans the row, so it sets only the first column's width.
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.filter((r) => i === 0 || r.length > 2).map((r) => r[i]?.length ?? 0)),
  );
  for (const r of rows) {
    lines.push(
      r.length === 2
        ? `${r[0]!.padEnd(widths[0]!)}  ${r[1]}`
        : r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
    );
  }
  for (const r of results) {
    if (r.skipped) continue;
    lines.push(
      `${r.adapter} CPU time: import ${s(r.importCpuMs)}, snapshot ${s(r.snapshotCpuMs)}, findings ${s(r.findingsCpuMs)}; ` +
        `evaluatePosture alone ${s(r.evaluateMs)}, computeRiskScores alone ${s(r.riskMs)}; generating the data ${s(r.generateMs)}`,
    );
  }
  for (const r of results) {
    if (r.skipped || !r.findingsByOwasp) continue;
    const parts = Object.entries(r.findingsByOwasp).map(([k, v]) => `${k} ${n(v)}`);
    lines.push(`${r.adapter} findings by OWASP id: ${parts.join(', ')}`);
  }
  const sqlite = results.find((r) => r.adapter === 'sqlite' && !r.skipped);
  if (sqlite?.findingsMs !== undefined) {
    const ok = sqlite.findingsMs < FINDINGS_TARGET_MS;
    lines.push(
      `target: findings for ${n(sizes.identities)} identities under ${FINDINGS_TARGET_MS / 1000} s on SQLite: ` +
        `${ok ? 'met' : 'MISSED'} (${s(sqlite.findingsMs)})`,
    );
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  // Piped into `head`, say: stop quietly when the reader goes away.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const args = parseArgs(process.argv.slice(2));
  if (args.child) {
    const r = await measure(args.only ?? 'sqlite', args);
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const adapters: Adapter[] = args.only ? [args.only] : ['sqlite', 'postgres'];
  const results = adapters.map((a) => runChild(a, args));
  const sizes = syntheticSizes({
    identities: args.identities,
    credentialsPerIdentity: args.credentialsPerIdentity,
    chunkSize: args.chunk,
  });
  process.stdout.write(table(sizes, results));
  process.stdout.write(
    JSON.stringify({
      bench: 'inventory',
      node: process.version,
      sizes,
      targetFindingsMs: FINDINGS_TARGET_MS,
      results,
    }) + '\n',
  );
  if (results.every((r) => r.skipped)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
