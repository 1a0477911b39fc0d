/**
 * `redactDataset`: writes a redacted copy of a dataset with the same files and formats. Each secret or personal
 * value found is replaced by a typed placeholder (`[REDACTED:email]`, `[REDACTED:secret:github-pat]`); every value
 * of a credential-named field (`password`, `api_key`) becomes `[REDACTED:credential-field]`. Records with nothing
 * found are written byte for byte, and so are files with nothing found. Parquet files are rewritten one row group
 * at a time under their own schema, row groups and metadata (`redact-parquet.ts`); one with a column type that
 * cannot be written back unchanged is copied as `not-redacted` with a note naming the column.
 */
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { formatOf, readRecords } from './readers.js';
import { formatDelimitedRow, quotedFields, replaceFields } from './readers-csv.js';
import { replaceJsonValues } from './readers-json.js';
import { redactBytes, redactText, replaceBytes, type RedactedFile } from './redact-values.js';
import { redactParquetFile } from './redact-parquet.js';
import { walkDataset } from './scan-walk.js';
import { defaultDatasetScanner, errorMessage, skipReason } from './scan.js';
import type { DatasetScanReport } from './scan-types.js';
import type { DatasetFormat, DatasetRecord, DatasetValue } from './readers-types.js';
import type { SecretScanner } from '../secrets/index.js';

/** Options of `redactDataset`. */
export interface RedactOptions {
  /** A scan report of `dir`: files it found nothing in are copied without being read again. */
  report?: DatasetScanReport;
  scanner?: SecretScanner;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export { placeholder, type RedactedFile } from './redact-values.js';

/** The result of `redactDataset` (JSON-serialisable, no values). */
export interface RedactResult {
  outDir: string;
  files: RedactedFile[];
  skipped: Array<{ path: string; reason: string }>;
  errors: Array<{ path: string; message: string }>;
}

function isReport(x: DatasetScanReport | RedactOptions): x is DatasetScanReport {
  return 'files' in x && 'totals' in x;
}

/** New text per value of a record (only changed values), and the number of replacements. */
function redactValues(
  scanner: SecretScanner,
  values: DatasetValue[],
): { changed: Map<DatasetValue, string>; count: number } {
  const changed = new Map<DatasetValue, string>();
  let count = 0;
  for (const v of values) {
    const r = redactText(scanner, v.text, v.key, v.field !== null);
    if (r.count === 0) continue;
    changed.set(v, r.text);
    count += r.count;
  }
  return { changed, count };
}

function eolOf(raw: Buffer): string {
  if (raw.length > 0 && raw[raw.length - 1] === 10)
    return raw.length > 1 && raw[raw.length - 2] === 13 ? '\r\n' : '\n';
  return '';
}

/**
 * A JSON record rewritten: the changed strings replaced inside the raw text (keeping its spacing and key order)
 * when that yields exactly the redacted document, else the redacted document serialised.
 */
function redactJson(record: DatasetRecord, changed: Map<DatasetValue, string>, pretty: boolean): Buffer {
  const byPath = new Map<string, string>();
  for (const [v, text] of changed) byPath.set(v.loc.keyPath ?? '$', text);
  const want = replaceJsonValues(record.json, byPath);
  const wantText = JSON.stringify(want);
  let out = record.raw!;
  for (const [v, text] of changed) {
    if (!v.isString) continue;
    out = replaceBytes(out, Buffer.from(JSON.stringify(v.text)), Buffer.from(JSON.stringify(text)));
  }
  try {
    if (JSON.stringify(JSON.parse(out.toString('utf8'))) === wantText) return out;
  } catch {
    // fall through to serialising the redacted document
  }
  return Buffer.from((pretty ? JSON.stringify(want, null, 2) : wantText) + eolOf(record.raw!), 'utf8');
}

/** The bytes a record is written as in the redacted copy. */
function redactRecord(
  record: DatasetRecord,
  format: DatasetFormat,
  scanner: SecretScanner,
): { out: Buffer; count: number } {
  const raw = record.raw ?? Buffer.alloc(0);
  if (record.malformed || record.values.length === 0) return { out: raw, count: 0 };
  if (record.json === undefined && !record.fields)
    return redactBytes(scanner, raw, record.values[0]!.text, null);
  const { changed, count } = redactValues(scanner, record.values);
  if (count === 0) return { out: raw, count: 0 };
  if (record.fields) {
    const cells = [...record.fields.cells];
    const replaced = new Map<number, string>();
    for (const [v, text] of changed) {
      cells[v.index!] = text;
      replaced.set(v.index!, text);
    }
    const delimiter = format === 'tsv' ? '\t' : ',';
    // The redacted cells are spliced into the row's bytes, so the rest of it stays byte for byte (a cell in
    // another encoding too); a row whose fields do not line up with its cells is written again whole.
    const spliced = replaceFields(raw, cells.length, replaced, delimiter);
    if (spliced !== null) return { out: spliced, count };
    return {
      out: Buffer.from(
        formatDelimitedRow(cells, quotedFields(raw.toString('utf8'), delimiter), delimiter, eolOf(raw)),
        'utf8',
      ),
      count,
    };
  }
  return { out: redactJson(record, changed, format === 'json'), count };
}

async function writeRedacted(
  abs: string,
  dest: string,
  format: DatasetFormat,
  scanner: SecretScanner,
  progress: (d: number) => void,
): Promise<number> {
  // Written beside the destination and renamed when complete: a failure leaves no half-written file.
  const tmp = join(dirname(dest), `.${basename(dest)}.${randomUUID()}.tmp`);
  const ws = createWriteStream(tmp);
  const closed = once(ws, 'close');
  let replacements = 0;
  let reported = 0;
  let complete = false;
  try {
    for await (const record of readRecords(abs, format)) {
      const { out, count } = redactRecord(record, format, scanner);
      replacements += count;
      if (out.length > 0 && !ws.write(out)) await once(ws, 'drain');
      if (record.offset - reported >= 1 << 20) {
        progress(record.offset - reported);
        reported = record.offset;
      }
    }
    complete = true;
  } finally {
    ws.end();
    await closed;
    if (complete) await rename(tmp, dest);
    else await rm(tmp, { force: true });
  }
  return replacements;
}

/**
 * Writes a redacted copy of `dir` to `outDir` (which must not lie inside `dir`). Pass the scan report of `dir` to
 * copy the files it found nothing in without reading them again.
 * @example
 * const report = await scanDataset('data/');
 * await redactDataset('data/', 'data-redacted/', report);
 */
export async function redactDataset(
  dir: string,
  outDir: string,
  reportOrOptions: DatasetScanReport | RedactOptions = {},
): Promise<RedactResult> {
  const opts: RedactOptions = isReport(reportOrOptions) ? { report: reportOrOptions } : reportOrOptions;
  const root = resolve(dir);
  const out = resolve(outDir);
  if (out === root || out.startsWith(root + sep))
    throw new ValidationError('the redacted copy cannot be written inside the dataset it copies', {
      details: [{ path: 'outDir', message: `${outDir} lies inside ${dir}; choose a directory outside it` }],
    });
  const scanner = opts.scanner ?? defaultDatasetScanner();
  const walk = await walkDataset(root);
  const totalBytes = walk.files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  const progress = (d: number): void => {
    if (d <= 0) return;
    done += d;
    opts.onProgress?.(done, totalBytes);
  };
  const clean = new Set<string>();
  if (opts.report)
    for (const f of opts.report.files)
      if (f.findings.length === 0 && f.credentialFields.length === 0) clean.add(f.path);
  const result: RedactResult = { outDir, files: [], skipped: [...walk.skipped], errors: [...walk.errors] };
  for (const file of walk.files) {
    let fileDone = 0;
    const dest = join(out, ...file.rel.split('/'));
    const format = formatOf(file.rel, file.size);
    try {
      await mkdir(dirname(dest), { recursive: true });
      const reason = await skipReason(file, format);
      if (clean.has(file.rel) || reason) {
        await copyFile(file.abs, dest);
        result.files.push({
          path: file.rel,
          action: 'copied',
          replacements: 0,
          ...(reason ? { note: `${reason}: copied unchanged` } : {}),
        });
      } else if (format === 'parquet') {
        const done = await redactParquetFile(file.abs, dest, scanner, (d) => {
          fileDone += d;
          progress(d);
        });
        result.files.push({ path: file.rel, ...done });
      } else {
        const replacements = await writeRedacted(file.abs, dest, format, scanner, (d) => {
          fileDone += d;
          progress(d);
        });
        result.files.push(
          replacements === 0
            ? { path: file.rel, action: 'copied', replacements: 0 }
            : { path: file.rel, action: 'redacted', replacements },
        );
      }
    } catch (e) {
      result.errors.push({ path: file.rel, message: errorMessage(e) });
    }
    progress(file.size - fileDone);
  }
  return result;
}
