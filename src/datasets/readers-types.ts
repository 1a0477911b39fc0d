/** Shapes shared by the dataset readers: a record (one line, CSV row or Parquet row) and the values in it. */

/** Formats a dataset file is read as, chosen by extension. */
export const DATASET_FORMATS = ['jsonl', 'json', 'csv', 'tsv', 'parquet', 'text'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Where a value sits in its file: a line (text, JSONL), a row and column (CSV, TSV, Parquet), a key path (JSON). */
export interface ValueLocation {
  line?: number;
  /** 1-based data row (the header is not counted) for CSV/TSV; 0-based row index for Parquet. */
  row?: number;
  /** Column name (or `#index` when the header has none). */
  column?: string;
  /** JSON key path: `messages[2].content`. */
  keyPath?: string;
}

/** One scalar value of a record. */
export interface DatasetValue {
  text: string;
  /** The key or column the value sits under (gives assignment-style secret rules their context), or null. */
  key: string | null;
  /** The field the value belongs to, array indices folded (`messages[].content`), or null for text lines. */
  field: string | null;
  /** Whether the value was a JSON string (false: a number or boolean printed as text). */
  isString: boolean;
  /** CSV/TSV: the cell's index in its row. */
  index?: number;
  loc: ValueLocation;
}

/** A record as the redactor rewrites it: its raw bytes and its values. */
export interface DatasetRecord {
  /** The record's bytes as in the file, terminator included (null for Parquet). */
  raw: Buffer | null;
  values: DatasetValue[];
  /** CSV/TSV: the parsed fields, for re-serialising a changed row. */
  fields?: { cells: string[] };
  /** JSONL/JSON: the parsed document, for re-serialising when raw replacement cannot be used. */
  json?: unknown;
  /** A row the parser refused: it is reported and copied unchanged. */
  malformed?: { line: number; message: string };
  /** File bytes consumed so far (for progress). */
  offset: number;
}
