/** Picks a dataset file's reader by extension and tells binary files from text. */
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { readDelimitedRecords } from './readers-csv.js';
import { MAX_WHOLE_JSON_BYTES, readJsonDocument } from './readers-json.js';
import { readJsonlRecords, readTextRecords } from './readers-lines.js';
import { readParquetRecords } from './readers-parquet.js';
import type { DatasetFormat, DatasetRecord } from './readers-types.js';

/** The format a file is read as: by extension; `.json` larger than 64 MiB is read as text lines. */
export function formatOf(path: string, size: number): DatasetFormat {
  switch (extname(path).toLowerCase()) {
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.json':
      return size <= MAX_WHOLE_JSON_BYTES ? 'json' : 'text';
    case '.csv':
      return 'csv';
    case '.tsv':
    case '.tab':
      return 'tsv';
    case '.parquet':
      return 'parquet';
    default:
      return 'text';
  }
}

/** True when the first 8 KiB of a file hold a NUL byte (or the file is not UTF-16 text): a binary file. */
export async function looksBinary(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).includes(0);
  } finally {
    await fh.close();
  }
}

/**
 * The records of a file in `format`. A `.json` file that does not parse is read as text lines, and `onNote`
 * says so.
 */
export async function* readRecords(
  path: string,
  format: DatasetFormat,
  onNote: (note: string) => void = () => {},
): AsyncGenerator<DatasetRecord> {
  switch (format) {
    case 'jsonl':
      yield* readJsonlRecords(path);
      return;
    case 'json': {
      const doc = await readJsonDocument(path);
      if (doc) {
        yield doc;
        return;
      }
      onNote('not valid JSON: scanned as text lines');
      yield* readTextRecords(path);
      return;
    }
    case 'csv':
      yield* readDelimitedRecords(path, ',');
      return;
    case 'tsv':
      yield* readDelimitedRecords(path, '\t');
      return;
    case 'parquet':
      yield* readParquetRecords(path);
      return;
    case 'text':
      yield* readTextRecords(path);
  }
}
