/**
 * CSV and TSV: csv-parse in streaming mode with the first row as header. Records and refused rows are collected
 * in file order through csv-parse's synchronous hooks, so a malformed row is reported (and copied on redaction)
 * where it stands and parsing goes on.
 */
import { createReadStream } from 'node:fs';
import { parse, type Info } from 'csv-parse';
import type { DatasetRecord, DatasetValue } from './readers-types.js';

type Queued =
  | { kind: 'record'; cells: string[]; raw: string; lines: number; end: number }
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

/** A latin1 string (one character per byte) as the UTF-8 text its bytes spell. */
function utf8Of(latin1: string): string {
  return NON_ASCII.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}
const NON_ASCII = /[\x80-\xff]/;

/** The bytes of a file from a start offset on, kept as read until they have been handed out. */
class HeldBytes {
  private chunks: Buffer[] = [];
  /** File offset of the first held byte. */
  private base = 0;
  private held = 0;

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.held += chunk.length;
  }

  /**
   * The bytes [from, to) of the file; they must be held. A copy unless `view`: a view inside one chunk keeps
   * the whole chunk alive, so only a short-lived comparison takes one.
   */
  range(from: number, to: number, view = false): Buffer {
    const parts: Buffer[] = [];
    let at = this.base;
    for (const c of this.chunks) {
      const lo = Math.max(from, at);
      const hi = Math.min(to, at + c.length);
      if (lo < hi) parts.push(c.subarray(lo - at, hi - at));
      at += c.length;
      if (at >= to) break;
    }
    if (parts.length !== 1) return Buffer.concat(parts);
    return view ? parts[0]! : Buffer.from(parts[0]!);
  }

  /** Lets go of whole chunks before `offset`. */
  dropBefore(offset: number): void {
    while (this.chunks.length > 0 && this.base + this.chunks[0]!.length <= offset) {
      const c = this.chunks.shift()!;
      this.base += c.length;
      this.held -= c.length;
    }
  }

  get end(): number {
    return this.base + this.held;
  }
}

/**
 * Reads a delimited file (`,` for CSV, tab for TSV) as records: header first, then one per row. Each record's
 * `raw` is exactly its bytes in the file (csv-parse reads the file as latin1, one character per byte, so a row
 * is located by byte offsets; cells are then decoded as UTF-8), and every byte of the file is in exactly one
 * record: a refused row gets the bytes from where it starts to where the next row starts, however csv-parse
 * reported it, so a redacted copy reproduces it byte for byte.
 */
export async function* readDelimitedRecords(
  path: string,
  delimiter: ',' | '\t',
): AsyncGenerator<DatasetRecord> {
  const queue: Queued[] = [];
  const parser = parse({
    delimiter,
    // No `bom`: csv-parse would decode as UTF-8 on finding one. A byte order mark is taken off the first cell.
    encoding: 'latin1',
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
        end: info.bytes,
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
  const bytes = new HeldBytes();
  /** File offset up to which records have been handed out. */
  let written = 0;
  /** Refused rows since the last record (a continuation of the same one, reported again, is not kept). */
  let skips: Array<{ raw: string; line: number; message: string }> = [];
  parser.on('error', (e) => (pendingError = e));
  parser.resume();

  /** The refused rows in the bytes [written, to): one record each, splitting the bytes where each starts. */
  const refused = function* (to: number): Generator<DatasetRecord> {
    if (to <= written) return;
    const gap = bytes.range(written, to);
    if (skips.length === 0) {
      // Bytes csv-parse read past without a record or an error (a byte order mark): kept, not reported.
      yield { raw: gap, values: [], offset };
    } else {
      // Where each refused row starts: its text as csv-parse saw it, looked for after the one before.
      const starts = [0];
      for (let i = 1; i < skips.length; i++) {
        const prev = starts[i - 1]! + Buffer.byteLength(skips[i - 1]!.raw, 'latin1');
        const at = gap.indexOf(Buffer.from(skips[i]!.raw, 'latin1'), Math.min(prev, gap.length));
        starts.push(at === -1 ? Math.min(prev, gap.length) : at);
      }
      for (let i = 0; i < skips.length; i++) {
        const part = gap.subarray(starts[i]!, i + 1 < skips.length ? starts[i + 1]! : gap.length);
        // A refused row still takes its place in the row numbering.
        if (header !== null) row++;
        yield {
          raw: Buffer.from(part),
          values: [],
          malformed: { line: skips[i]!.line, message: skips[i]!.message },
          offset,
        };
      }
    }
    skips = [];
    written = to;
  };

  /**
   * Where a record that ends at `end` starts: its raw text (latin1, a character per byte) read back from the file.
   * csv-parse leaves the last byte of a CRLF line end out of `raw`, so one byte earlier is tried too; when
   * neither matches, the record starts where the last one ended.
   */
  const recordStart = (rawText: string, end: number): number => {
    const text = Buffer.from(rawText, 'latin1');
    for (const start of [end - text.length, end - text.length - 1]) {
      if (start >= written && bytes.range(start, start + text.length, true).equals(text)) return start;
    }
    return written;
  };

  const drain = function* (): Generator<DatasetRecord> {
    for (const q of queue.splice(0)) {
      if (q.kind === 'skip') {
        // After an error inside a quoted field csv-parse goes on reading the same record and reports it
        // again with all of its text so far: only the first report is a row.
        const last = skips[skips.length - 1];
        if (last && q.raw.startsWith(last.raw)) last.raw = q.raw;
        else skips.push({ raw: q.raw, line: q.line, message: q.message });
        continue;
      }
      yield* refused(recordStart(q.raw, q.end));
      const start = written;
      const raw = bytes.range(start, q.end);
      written = q.end;
      bytes.dropBefore(written);
      const cells = q.cells.map(utf8Of);
      if (header === null && start === 0 && cells[0]?.startsWith('\uFEFF')) cells[0] = cells[0].slice(1);
      if (header === null) {
        header = cells;
        yield { raw, values: [], fields: { cells }, offset };
        continue;
      }
      row++;
      const values: DatasetValue[] = [];
      cells.forEach((text, i) => {
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
      yield { raw, values, fields: { cells }, offset };
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytes.add(chunk);
    await new Promise<void>((resolve, reject) => parser.write(chunk, (e) => (e ? reject(e) : resolve())));
    if (pendingError) throw pendingError;
    offset += chunk.length;
    yield* drain();
  }
  await new Promise<void>((resolve) => parser.end(resolve));
  if (pendingError) throw pendingError;
  yield* drain();
  // What follows the last record: a refused row (a quote never closed), or bytes no row holds.
  yield* refused(bytes.end);
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

/** Where one field of a raw row lies: bytes [start, end), and whether it opens with a quote. */
export interface FieldSpan {
  start: number;
  end: number;
  quoted: boolean;
}

/**
 * The byte spans of a raw row's fields (without its line end), read as quotedFields reads them: a field that
 * opens with `"` runs to its closing quote (`""` inside it is a quote), and every field ends at the next
 * delimiter. Delimiters and quotes are ASCII, so the spans are right whatever the other bytes are.
 */
export function fieldSpans(raw: Buffer, delimiter: string): FieldSpan[] {
  const d = delimiter.charCodeAt(0);
  let n = raw.length;
  if (n > 0 && raw[n - 1] === 10) n -= n > 1 && raw[n - 2] === 13 ? 2 : 1;
  const spans: FieldSpan[] = [];
  let i = n >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  for (;;) {
    const start = i;
    const quoted = raw[i] === 34 && i < n;
    if (quoted) {
      i++;
      for (;;) {
        const q = raw.indexOf(34, i);
        if (q === -1 || q >= n) {
          spans.push({ start, end: n, quoted });
          return spans;
        }
        if (q + 1 < n && raw[q + 1] === 34) i = q + 2;
        else {
          i = q + 1;
          break;
        }
      }
    }
    let next = raw.indexOf(d, i);
    if (next === -1 || next >= n) next = n;
    spans.push({ start, end: next, quoted });
    if (next === n) return spans;
    i = next + 1;
  }
}

/**
 * A raw row with some cells replaced: each replaced field's bytes become the UTF-8 of the cell as
 * formatDelimitedRow writes it (quoted when it was or must be); every other byte of the row, bytes that are not
 * UTF-8 included, stays as it was. Null when the row's fields do not line up with `cellCount` cells.
 * @example
 * replaceFields(Buffer.from('a,"b",c\n'), 3, new Map([[1, 'x']]), ',').toString() // 'a,"x",c\n'
 */
export function replaceFields(
  raw: Buffer,
  cellCount: number,
  replaced: ReadonlyMap<number, string>,
  delimiter: string,
): Buffer | null {
  const spans = fieldSpans(raw, delimiter);
  if (spans.length !== cellCount) return null;
  const parts: Buffer[] = [];
  let at = 0;
  spans.forEach((span, i) => {
    const cell = replaced.get(i);
    if (cell === undefined) return;
    parts.push(raw.subarray(at, span.start));
    parts.push(Buffer.from(formatDelimitedRow([cell], [span.quoted], delimiter, ''), 'utf8'));
    at = span.end;
  });
  parts.push(raw.subarray(at));
  return Buffer.concat(parts);
}

/**
 * Which fields of a raw row were quoted (csv-parse's per-field casting hook would tell, at a third of its speed,
 * so the few rows that are rewritten are looked at again instead).
 */
export function quotedFields(raw: string, delimiter: string): boolean[] {
  return fieldSpans(Buffer.from(raw, 'utf8'), delimiter).map((f) => f.quoted);
}
