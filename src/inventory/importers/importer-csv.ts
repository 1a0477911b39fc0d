/**
 * CSV for the importers (csv-parse underneath): a header row, then rows handed one by one to a callback with the
 * line they start on, so a bad row stops a large file early. Errors name `file:line` and never quote field values.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { importError } from './importer-support.js';

/** One data row: the line it starts on and its fields by lower-cased header name. */
export interface CsvRow {
  line: number;
  fields: Map<string, string>;
}

/** Largest record accepted; a file with a longer one is not the export it claims to be. */
const MAX_RECORD_BYTES = 1 << 20;

function csvErrorMessage(err: CsvError): string {
  switch (err.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return 'the row has a different number of fields than the header row';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quote character in the middle of a field (quote the whole field and double inner quotes)';
    case 'CSV_MAX_RECORD_SIZE':
      return `a record is longer than ${MAX_RECORD_BYTES >> 20} MiB; this does not look like the expected CSV export`;
    default:
      return 'the file is not valid CSV';
  }
}

/**
 * Parses CSV text: passes the header row (trimmed) to `onHeader`, then calls `onRow` for each data row in order
 * with its fields keyed by lower-cased header name.
 * `onRow` may throw to stop early (its error propagates unchanged).
 */
export function readCsv(
  fileName: string,
  text: string,
  onHeader: (header: string[]) => void,
  onRow: (row: CsvRow) => void,
): void {
  const buf = Buffer.from(text, 'utf8');
  // Byte offsets of line feeds, to turn csv-parse's byte counts into the line a record starts on.
  const newlines: number[] = [];
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) newlines.push(i);
  const lineAt = (offset: number): number => {
    let o = offset;
    while (buf[o] === 0x0a || buf[o] === 0x0d) o++;
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < o) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  let header: string[] | null = null;
  let prevBytes = 0;
  try {
    parse(buf, {
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_BYTES,
      on_record: (values: string[], context): null => {
        const line = lineAt(prevBytes);
        prevBytes = context.bytes;
        if (header === null) {
          const names = values.map((h) => h.trim());
          header = names.map((h) => h.toLowerCase());
          onHeader(names);
          return null;
        }
        const fields = new Map<string, string>();
        header.forEach((h, i) => fields.set(h, values[i] ?? ''));
        onRow({ line, fields });
        return null;
      },
    });
  } catch (err) {
    if (err instanceof CsvError) {
      const where = `${fileName}:${typeof err.lines === 'number' ? err.lines : lineAt(prevBytes)}`;
      // The csv-parse error is not kept as the cause: its message can quote field values.
      throw importError(where, csvErrorMessage(err));
    }
    throw err;
  }
  if (header === null) throw importError(fileName, 'the CSV has no header row');
}
