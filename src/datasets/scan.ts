/**
 * `scanDataset`: walks a dataset directory and scans every file for credentials (Keyward's secret scanner) and
 * personal data (the PII detectors), streaming each file through its format's reader. The report counts findings
 * per file and type with a few redacted samples and their locations; it holds no raw value.
 */
import { looksBinary, formatOf, readRecords } from './readers.js';
import { scanValue } from './scan-values.js';
import { walkDataset, type DatasetFile } from './scan-walk.js';
import { datasetWorkerModule, startDatasetWorker, type DatasetWorker } from './scan-pool.js';
import { isCredentialFieldName } from './pii-detectors.js';
import {
  BUILTIN_SECRET_RULES,
  createSecretScanner,
  ephemeralFingerprintKey,
  hmacFingerprint,
  type SecretScanner,
} from '../secrets/index.js';
import type { DatasetFileReport, DatasetScanReport, DatasetTypeCount } from './scan-types.js';
import type { DatasetFormat } from './readers-types.js';

/** Options of `scanDataset`. */
export interface DatasetScanOptions {
  /**
   * Files scanned at the same time (default 1). Above 1, each file is scanned on a worker thread when the compiled
   * worker module is present (a built package); from TypeScript sources the files are interleaved on this thread.
   */
  workers?: number;
  /** Called as bytes are read: bytes done so far and the dataset's total, for a progress bar. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Redacted samples kept per file and type (default 3). */
  maxSamplesPerType?: number;
  /** Key of secret fingerprints (default: a key for this run only, so fingerprints compare within the run). */
  fingerprintKey?: Buffer;
}

const MAX_MALFORMED_LISTED = 100;
const PROGRESS_STEP = 1 << 20;

/** The default scanner: built-in rules, fingerprints keyed for this run only. */
export function defaultDatasetScanner(fingerprintKey: Buffer = ephemeralFingerprintKey()): SecretScanner {
  return createSecretScanner({ rules: BUILTIN_SECRET_RULES, fingerprint: hmacFingerprint(fingerprintKey) });
}

/** Why a file is skipped instead of scanned, or null when it is scanned. */
export async function skipReason(file: DatasetFile, format: DatasetFormat): Promise<string | null> {
  if (format === 'parquet' || file.size === 0) return null;
  return (await looksBinary(file.abs)) ? 'binary file (NUL bytes in its first 8 KiB)' : null;
}

/** Scans one file; `progress` receives the bytes read since its last call. */
export async function scanDatasetFile(
  file: DatasetFile,
  format: DatasetFormat,
  scanner: SecretScanner,
  maxSamples: number,
  progress: (delta: number) => void,
): Promise<DatasetFileReport> {
  const report: DatasetFileReport = {
    path: file.rel,
    format,
    bytes: file.size,
    records: 0,
    findings: [],
    credentialFields: [],
    malformedRows: { count: 0, first: [] },
    notes: [],
  };
  const byType = new Map<string, DatasetTypeCount>();
  const fields = new Map<string, number>();
  let reported = 0;
  for await (const record of readRecords(file.abs, format, (n) => report.notes.push(n))) {
    if (record.malformed) {
      report.malformedRows.count++;
      if (report.malformedRows.first.length < MAX_MALFORMED_LISTED)
        report.malformedRows.first.push(record.malformed);
    } else if (record.values.length > 0 || record.raw === null) report.records++;
    for (const v of record.values) {
      if (v.key !== null && v.field !== null && v.text.length > 0 && isCredentialFieldName(v.key))
        fields.set(v.field, (fields.get(v.field) ?? 0) + 1);
      for (const hit of scanValue(scanner, v.text, v.key)) {
        let entry = byType.get(hit.type);
        if (!entry) {
          entry = { kind: hit.kind, type: hit.type, count: 0, samples: [] };
          byType.set(hit.type, entry);
        }
        entry.count++;
        if (entry.samples.length < maxSamples)
          entry.samples.push({
            sample: hit.sample,
            location: { file: file.rel, ...v.loc },
            ...(hit.fingerprint ? { fingerprint: hit.fingerprint } : {}),
          });
      }
    }
    if (record.offset - reported >= PROGRESS_STEP) {
      progress(record.offset - reported);
      reported = record.offset;
    }
  }
  progress(file.size - reported);
  report.findings = [...byType.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
  report.credentialFields = [...fields].map(([field, nonEmptyValues]) => ({ field, nonEmptyValues }));
  if (format === 'text' && formatOf(file.rel, 0) === 'json')
    report.notes.push('larger than 64 MiB: scanned as text lines');
  return report;
}

/**
 * Scans every regular file under `dir` for secrets and personal data.
 * @example
 * const report = await scanDataset('data/', { onProgress: (done, total) => bar.update(done / total) });
 */
export async function scanDataset(dir: string, opts: DatasetScanOptions = {}): Promise<DatasetScanReport> {
  const fingerprintKey = opts.fingerprintKey ?? ephemeralFingerprintKey();
  const scanner = defaultDatasetScanner(fingerprintKey);
  const threads = Math.max(1, opts.workers ?? 1);
  const module = threads > 1 ? datasetWorkerModule() : null;
  const maxSamples = opts.maxSamplesPerType ?? 3;
  const walk = await walkDataset(dir);
  const totalBytes = walk.files.reduce((s, f) => s + f.size, 0);
  let doneBytes = 0;
  const progress = (delta: number): void => {
    if (delta <= 0) return;
    doneBytes += delta;
    opts.onProgress?.(doneBytes, totalBytes);
  };
  const results: Array<DatasetFileReport | null> = new Array<DatasetFileReport | null>(
    walk.files.length,
  ).fill(null);
  const skipped = [...walk.skipped];
  const errors = [...walk.errors];
  let next = 0;
  const runner = async (pool: DatasetWorker | null): Promise<void> => {
    for (let i = next++; i < walk.files.length; i = next++) {
      const file = walk.files[i]!;
      const format = formatOf(file.rel, file.size);
      try {
        const reason = await skipReason(file, format);
        if (reason) {
          skipped.push({ path: file.rel, reason });
          progress(file.size);
          continue;
        }
        results[i] = pool
          ? await pool.scan({ file, format, maxSamples }, progress)
          : await scanDatasetFile(file, format, scanner, maxSamples, progress);
      } catch (e) {
        errors.push({ path: file.rel, message: errorMessage(e) });
      }
    }
  };
  const pools = module
    ? Array.from({ length: threads }, () => startDatasetWorker(module, fingerprintKey))
    : [];
  try {
    await Promise.all(Array.from({ length: threads }, (_, i) => runner(pools[i] ?? null)));
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  if (doneBytes < totalBytes) progress(totalBytes - doneBytes);
  const files = results.filter((r): r is DatasetFileReport => r !== null);
  const byType: Record<string, number> = {};
  for (const f of files) for (const t of f.findings) byType[t.type] = (byType[t.type] ?? 0) + t.count;
  return {
    root: dir,
    files,
    totals: {
      files: files.length,
      bytes: totalBytes,
      findings: Object.values(byType).reduce((s, n) => s + n, 0),
      byType: Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b))),
      credentialFields: files.reduce((s, f) => s + f.credentialFields.length, 0),
      malformedRows: files.reduce((s, f) => s + f.malformedRows.count, 0),
    },
    skipped: skipped.sort((a, b) => a.path.localeCompare(b.path)),
    errors: errors.sort((a, b) => a.path.localeCompare(b.path)),
  };
}

/** A one-line description of a read error (an errno code and message, or the error's message). */
export function errorMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && 'message' in err)
    return err.code ? `${err.code}: ${err.message}` : err.message;
  return String(e);
}
