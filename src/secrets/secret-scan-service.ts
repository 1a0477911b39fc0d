/**
 * The secret scan service: runs the scanner over a source (a tree of files, git history, staged changes, stdin,
 * the environment) and returns findings in a stable order with the run's figures. Nothing here prints or reads
 * the process environment; the CLI passes what it needs.
 */
import { cpus } from 'node:os';
import { posix } from 'node:path';
import { BUILTIN_SECRET_RULES } from './rules/index.js';
import { createSecretScanner, type SecretScanner, type TextScanResult } from './secret-scanner.js';
import { scanFile, scanStructuredText, type FileSkipReason } from './secret-file-scan.js';
import { hmacFingerprint } from './secret-fingerprint.js';
import {
  createBatcher,
  createScanPool,
  workerModule,
  type PoolFile,
  type PoolResult,
} from './secret-scan-pool.js';
import { envValues, gitHistory, gitStaged, walkTree, extractConfigValues } from './sources/index.js';
import type { ScanOrigin, SecretFinding, SecretRule } from './secret-types.js';

/** Figures of one scan. */
export interface ScanStats {
  /** Files (or commits' files, variables) scanned. */
  files: number;
  bytes: number;
  skipped: { binary: number; tooLarge: number; unreadable: number; symlink: number; special: number };
  /** Findings suppressed by `keyward:allow` comments. */
  allowed: number;
  /** Worker threads used (0: scanned on the calling thread). */
  workers: number;
  rules: number;
  durationMs: number;
}

/** The result of a scan. */
export interface ScanReport {
  findings: SecretFinding[];
  allowed: Array<{ finding: SecretFinding; reason: string }>;
  stats: ScanStats;
  /** Files that could not be read, with why (never stops a scan). */
  errors: Array<{ path: string; message: string }>;
}

/** Options of a tree scan. */
export interface PathScanOptions {
  /** Files larger than this are skipped and counted (default 1 GiB). */
  maxFileBytes?: number;
  /** Extra gitignore-style patterns to leave out. */
  exclude?: string[];
  /** Worker threads; default: one per core when the tree is large, 0 to scan on the calling thread. */
  workers?: number;
  /**
   * Put before each path in findings: where the root is as the user sees it (`src` for `keyward scan src`), so
   * locations are relative to the working directory (what SARIF consumers expect). Default: relative to the root.
   */
  displayPrefix?: string;
}

/** The scan service type. */
export type SecretScanService = ReturnType<typeof createSecretScanService>;

/** Larger files are skipped and counted; large ones below it (datasets, logs) are streamed in pieces. */
const DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024;
/** Below this many bytes of files a tree is scanned on the calling thread. */
const POOL_THRESHOLD_BYTES = 8 * 1024 * 1024;

/** The `stats.skipped` counter of each reason a file is left out. */
const SKIP_KEYS: Record<FileSkipReason, keyof ScanStats['skipped']> = {
  binary: 'binary',
  unreadable: 'unreadable',
  'too-large': 'tooLarge',
  symlink: 'symlink',
  special: 'special',
};

function emptyStats(rules: number): ScanStats {
  return {
    files: 0,
    bytes: 0,
    skipped: { binary: 0, tooLarge: 0, unreadable: 0, symlink: 0, special: 0 },
    allowed: 0,
    workers: 0,
    rules,
    durationMs: 0,
  };
}

function byPlace(a: SecretFinding, b: SecretFinding): number {
  const ca = a.origin.commit?.date ?? '';
  const cb = b.origin.commit?.date ?? '';
  return (
    (ca < cb ? -1 : ca > cb ? 1 : 0) ||
    (a.origin.path < b.origin.path ? -1 : a.origin.path > b.origin.path ? 1 : 0) ||
    a.line - b.line ||
    a.column - b.column
  );
}

/**
 * Creates the scan service with a fingerprint key (the installation's, or one per run).
 * @example
 * const service = createSecretScanService({ fingerprintKey });
 * const report = await service.scanPath('.', { workers: 2 });
 */
export function createSecretScanService(deps: {
  fingerprintKey: Buffer;
  rules?: readonly SecretRule[];
  now?: () => number;
}) {
  const rules = deps.rules ?? BUILTIN_SECRET_RULES;
  const now = deps.now ?? (() => performance.now());
  // Built on first use: a tree scanned on worker threads never needs one on this thread.
  let built: SecretScanner | null = null;
  const scannerNow = (): SecretScanner =>
    (built ??= createSecretScanner({ rules, fingerprint: hmacFingerprint(deps.fingerprintKey) }));

  const finish = (report: ScanReport, started: number): ScanReport => {
    report.findings.sort(byPlace);
    report.allowed.sort((a, b) => byPlace(a.finding, b.finding));
    report.stats.allowed = report.allowed.length;
    report.stats.durationMs = Math.round(now() - started);
    return report;
  };
  const add = (report: ScanReport, r: TextScanResult): void => {
    for (const f of r.findings) report.findings.push(f);
    for (const a of r.allowed) report.allowed.push(a);
  };
  const addFile = (report: ScanReport, path: string, r: PoolResult): void => {
    if (r.kind === 'error') report.errors.push({ path, message: r.message });
    else if (r.kind === 'skipped') report.stats.skipped[SKIP_KEYS[r.reason]]++;
    else {
      report.stats.files++;
      report.stats.bytes += r.bytes;
      add(report, r);
    }
  };

  return {
    /** The scanner this service runs on its own thread (built when first asked for). */
    get scanner(): SecretScanner {
      return scannerNow();
    },
    /** Scans a file or a directory tree, honouring .gitignore and .keywardignore. */
    async scanPath(root: string, opts: PathScanOptions = {}): Promise<ScanReport> {
      const started = now();
      const report: ScanReport = { findings: [], allowed: [], stats: emptyStats(rules.length), errors: [] };
      const module = workerModule();
      const threads = module ? (opts.workers ?? Math.max(1, cpus().length)) : 0;
      const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
      // Small trees are scanned on this thread: starting workers costs more than it saves below a few MiB.
      let pool: ReturnType<typeof createScanPool> | null = null;
      let early: PoolFile[] | null = [];
      let earlyBytes = 0;
      const batcher = createBatcher();
      const inFlight: Array<Promise<void>> = [];
      const dispatch = async (files: PoolFile[]): Promise<void> => {
        const { done } = await pool!.submit(files);
        inFlight.push(done.then((results) => results.forEach((r, i) => addFile(report, files[i]!.path, r))));
      };
      const scanInline = async (entry: PoolFile): Promise<void> => {
        try {
          addFile(report, entry.path, await scanFile(scannerNow(), entry, undefined, maxFileBytes));
        } catch (err) {
          report.errors.push({ path: entry.path, message: err instanceof Error ? err.message : String(err) });
        }
      };
      try {
        // The walk stats files only while their sizes decide where to scan (below the pool threshold, on this
        // thread); after that, and when scanning here, `scanFile` checks each file on the descriptor it reads.
        const walk = walkTree(
          root,
          { maxFileBytes, exclude: opts.exclude ?? [] },
          () => threads !== 0 && early !== null,
        );
        for (const entry of walk) {
          if (opts.displayPrefix) entry.path = posix.join(opts.displayPrefix, entry.path);
          if (entry.kind === 'skipped') {
            report.stats.skipped[SKIP_KEYS[entry.reason]]++;
            continue;
          }
          if (threads === 0) {
            await scanInline(entry);
            continue;
          }
          if (early) {
            early.push(entry);
            earlyBytes += entry.size ?? 0;
            if (earlyBytes < POOL_THRESHOLD_BYTES) continue;
            pool = createScanPool({
              threads,
              fingerprintKey: deps.fingerprintKey,
              module: module!,
              maxFileBytes,
            });
            report.stats.workers = threads;
            for (const f of early) {
              const batch = batcher.add(f);
              if (batch) await dispatch(batch);
            }
            early = null;
            continue;
          }
          const batch = batcher.add(entry);
          if (batch) await dispatch(batch);
        }
        if (early) for (const f of early) await scanInline(f);
        const last = batcher.flush();
        if (last && pool) await dispatch(last);
        await Promise.all(inFlight);
      } finally {
        await pool?.close();
      }
      return finish(report, started);
    },

    /** Scans the lines each commit in `range` (default: all history) added. */
    async scanGit(repoDir: string, range?: string): Promise<ScanReport> {
      return scanChunks(gitHistory(repoDir, range === undefined ? {} : { range }));
    },

    /** Scans the lines staged for the next commit (a pre-commit hook). */
    async scanStaged(repoDir: string): Promise<ScanReport> {
      return scanChunks(gitStaged(repoDir));
    },

    /** Scans one text (stdin), named `path` in findings. */
    scanText(text: string, path = '-'): ScanReport {
      const started = now();
      const report: ScanReport = { findings: [], allowed: [], stats: emptyStats(rules.length), errors: [] };
      const origin: ScanOrigin = { kind: 'stdin', path };
      add(
        report,
        scanStructuredText(scannerNow(), Buffer.from(text, 'utf8'), origin, extractConfigValues(path, text)),
      );
      report.stats.files = 1;
      report.stats.bytes = Buffer.byteLength(text);
      return finish(report, started);
    },

    /** Scans environment variables: each value, with its name as context. */
    scanEnv(env: Record<string, string | undefined>): ScanReport {
      const started = now();
      const report: ScanReport = { findings: [], allowed: [], stats: emptyStats(rules.length), errors: [] };
      for (const v of envValues(env)) {
        const origin: ScanOrigin = { kind: 'env', path: v.keyName };
        // The value alone, plus `NAME=value` so rules that need the name as context see it.
        const text = `${v.keyName}=${v.value}`;
        const shifted = { ...v, column: v.keyName.length + 2 };
        add(report, scanStructuredText(scannerNow(), Buffer.from(text, 'utf8'), origin, [shifted]));
        report.stats.files++;
        report.stats.bytes += Buffer.byteLength(v.value);
      }
      return finish(report, started);
    },
  };

  async function scanChunks(
    chunks: AsyncIterable<{ origin: ScanOrigin; lines: Array<{ line: number; text: string }> }>,
  ): Promise<ScanReport> {
    const started = now();
    const report: ScanReport = { findings: [], allowed: [], stats: emptyStats(rules.length), errors: [] };
    for await (const chunk of chunks) {
      const text = chunk.lines.map((l) => l.text).join('\n');
      const result = scannerNow().scanText(text, chunk.origin, {
        lineNumbers: chunk.lines.map((l) => l.line),
      });
      add(report, result);
      report.stats.files++;
      report.stats.bytes += Buffer.byteLength(text);
    }
    return finish(report, started);
  }
}
