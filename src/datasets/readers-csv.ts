/**
 * CSV and TSV: csv-parse in streaming mode with the first row as header. Records and refused rows are collected
 * in file order through csv-parse's synchronous hooks, so a malformed row is reported (and copied on redaction)
 * where it stands and parsing goes on.
 */
import { createReadStream } from 'node:fs';
import { parse, type Info } from 'csv-parse';
import type { DatasetRecord, DatasetValue } from './readers-types.js';

type Queued =
  | { kind: 'record'; cells: string[]; raw: string; lines: number }
  | { kind: 'skip'; raw: string; line: number; message: string };

/**
 * What is wrong with a refused row, by csv-parse's error code: its own messages can quote field contents, which a
 * report must not carry.
 */
function malformedMessage(code: string | undefined): string {
  switch (code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return 'wrong number of fields';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'text after a closing quote';
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_OPENING_QUOTE':
      return 'quote inside an unquoted field';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'quote not closed before the end of the file';
    case 'CSV_MAX_RECORD_SIZE':
      return 'row too large';
    default:
      return code ? `malformed row (${code})` : 'malformed row';
  }
}

/** Reads a delimited file (`,` for CSV, tab for TSV) as records: header first, then one per row. */
export async function* readDelimitedRecords(
  path: string,
  delimiter: ',' | '\t',
): AsyncGenerator<DatasetRecord> {
  const queue: Queued[] = [];
  const parser = parse({
    delimiter,
    bom: true,
    raw: true,
    relax_quotes: delimiter === '\t',
    skip_records_with_error: true,
    // With `raw` on, csv-parse hands the hook `{ record, raw }` (and the parse info beside it).
    on_record: ((ext: { record: string[]; raw?: string }, info: Info) => {
      queue.push({
        kind: 'record',
        cells: ext.record,
        raw: ext.raw ?? '',
        lines: info.lines,
      });
      return null;
    }) as unknown as (record: string[]) => null,
    on_skip: (err: (Error & { lines?: number; code?: string }) | undefined, raw: string | undefined) => {
      queue.push({
        kind: 'skip',
        raw: raw ?? '',
        line: err?.lines ?? 0,
        message: malformedMessage(err?.code),
      });
    },
  });
  let header: string[] | null = null;
  let row = 0;
  let offset = 0;
  let pendingError: unknown = null;
  parser.on('error', (e) => (pendingError = e));
  parser.resume();
  const drain = function* (): Generator<DatasetRecord> {
    for (const q of queue.splice(0)) {
      if (q.kind === 'skip') {
        // A refused row still takes its place in the row numbering.
        if (header !== null) row++;
        yield {
          raw: Buffer.from(q.raw, 'utf8'),
          values: [],
          malformed: { line: q.line, message: q.message },
          offset,
        };
        continue;
      }
      const raw = Buffer.from(q.raw, 'utf8');
      if (header === null) {
        header = q.cells;
        yield { raw, values: [], fields: { cells: q.cells }, offset };
        continue;
      }
      row++;
      const values: DatasetValue[] = [];
      q.cells.forEach((text, i) => {
        if (text.length === 0) return;
        const name = header![i] || `#${i + 1}`;
        values.push({
          text,
          key: name,
          field: name,
          isString: true,
          index: i,
          loc: { row, column: name, line: q.lines },
        });
      });
      yield { raw, values, fields: { cells: q.cells }, offset };
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    await new Promise<void>((resolve, reject) => parser.write(chunk, (e) => (e ? reject(e) : resolve())));
    if (pendingError) throw pendingError;
    offset += chunk.length;
    yield* drain();
  }
  await new Promise<void>((resolve) => parser.end(resolve));
  if (pendingError) throw pendingError;
  yield* drain();
}

/** Serialises a row the way the file writes rows: same delimiter, a field quoted when it was or must be. */
export function formatDelimitedRow(
  cells: string[],
  quoted: boolean[],
  delimiter: string,
  eol: string,
): string {
  return (
    cells
      .map((c, i) => {
        const must = c.includes(delimiter) || c.includes('"') || c.includes('\n') || c.includes('\r');
        return quoted[i] || must ? `"${c.replace(/"/g, '""')}"` : c;
      })
      .join(delimiter) + eol
  );
}

/**
 * Which fields of a raw row were quoted (csv-parse's per-field casting hook would tell, at a third of its speed,
 * so the few rows that are rewritten are looked at again instead).
 */
export function quotedFields(raw: string, delimiter: string): boolean[] {
  const quoted: boolean[] = [];
  let i = 0;
  for (;;) {
    if (raw[i] === '"') {
      quoted.push(true);
      i++;
      for (;;) {
        const q = raw.indexOf('"', i);
        if (q === -1) return quoted;
        if (raw[q + 1] === '"') i = q + 2;
        else {
          i = q + 1;
          break;
        }
      }
    } else quoted.push(false);
    const next = raw.indexOf(delimiter, i);
    if (next === -1) return quoted;
    i = next + delimiter.length;
  }
}
