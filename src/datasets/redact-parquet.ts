/**
 * Redacting a Parquet file: read one row group at a time (hyparquet), redact every string in it (top-level and
 * inside lists, structs and maps) exactly as the other formats are redacted, and write the group with
 * hyparquet-writer under the original schema, row-group boundaries and key-value metadata. Values are read in
 * their stored form (timestamps and dates as integers, text that is not UTF-8 as bytes), so every value that is
 * not redacted is written back unchanged. A number cannot hold a placeholder: a finding in one is kept and counted
 * in the note. A schema with a type that cannot be written back unchanged (INT96, wide DECIMAL, VARIANT,
 * geospatial, …) is found before any row is read, and the file is copied with a note.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { CompressionCodec, FileMetaData, ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import { compressors as decompressors } from 'hyparquet-compressors';
import {
  ParquetWriter,
  fileWriter,
  type ColumnSource,
  type SchemaElement as WriterSchemaElement,
} from 'hyparquet-writer';
import { isCredentialFieldName } from './pii-detectors.js';
import { placeholder, redactBytes, redactText, type RedactedFile } from './redact-values.js';
import { scanValue } from './scan-values.js';
import type { SecretScanner } from '../secrets/index.js';

/** Text that is not valid UTF-8, kept as its bytes so that it is written back byte for byte. */
class NotUtf8 {
  constructor(readonly bytes: Uint8Array) {}
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parsers that keep values in their stored form, which hyparquet-writer writes back as they were. */
const STORED_FORM: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v) => v,
  timestampFromMicroseconds: (v) => v,
  timestampFromNanoseconds: (v) => v,
  dateFromDays: (v) => v,
  uuidFromBytes: (v) => v,
  stringFromBytes: (bytes) => {
    if (!bytes) return bytes;
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return new NotUtf8(bytes);
    }
  },
};

/** Codecs Keyward writes; a column stored with another codec is written with SNAPPY. */
const WRITE_COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliCompressSync(input)),
};
const WRITABLE_CODECS = new Set<CompressionCodec>(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI']);

/** Largest DECIMAL precision whose values survive hyparquet's conversion to a JavaScript number. */
const MAX_DECIMAL_PRECISION = 15;

const LEAF_TYPES = new Set([
  'BOOLEAN',
  'INT32',
  'INT64',
  'FLOAT',
  'DOUBLE',
  'BYTE_ARRAY',
  'FIXED_LEN_BYTE_ARRAY',
]);
const CONVERTED_TYPES = new Set([
  'UTF8',
  'ENUM',
  'JSON',
  'DECIMAL',
  'DATE',
  'TIME_MILLIS',
  'TIME_MICROS',
  'TIMESTAMP_MILLIS',
  'TIMESTAMP_MICROS',
  'INT_8',
  'INT_16',
  'INT_32',
  'INT_64',
  'UINT_8',
  'UINT_16',
  'UINT_32',
  'UINT_64',
]);
const LOGICAL_TYPES = new Set([
  'STRING',
  'ENUM',
  'JSON',
  'DECIMAL',
  'DATE',
  'TIME',
  'TIMESTAMP',
  'INTEGER',
  'UUID',
  'FLOAT16',
]);

function typeName(e: SchemaElement): string {
  const logical = e.logical_type?.type;
  if (e.converted_type === 'DECIMAL' || logical === 'DECIMAL')
    return `DECIMAL(${e.precision ?? '?'},${e.scale ?? 0})`;
  return logical ?? e.converted_type ?? e.type ?? 'group';
}

/** hyparquet's test for a LIST group it reads as an array (one repeated child of at most one field). */
function isListLike(node: SchemaTree): boolean {
  const child = node.children[0];
  return (
    node.children.length === 1 && child!.children.length <= 1 && child!.element.repetition_type === 'REPEATED'
  );
}

/** hyparquet's test for a MAP group it reads as an object (one repeated child of key and value). */
function isMapLike(node: SchemaTree): boolean {
  const entry = node.children[0];
  if (node.children.length !== 1 || entry!.children.length !== 2) return false;
  if (entry!.element.repetition_type !== 'REPEATED') return false;
  return entry!.children.every((c) => c.element.repetition_type !== 'REPEATED');
}

function isStringLeaf(e: SchemaElement): boolean {
  if (e.type !== 'BYTE_ARRAY') return false;
  if (e.converted_type === undefined && e.logical_type === undefined) return true;
  return (
    e.converted_type === 'UTF8' ||
    e.converted_type === 'ENUM' ||
    ['STRING', 'ENUM'].includes(e.logical_type?.type ?? '')
  );
}

/**
 * The first column (dotted path and type) whose values hyparquet-writer cannot write back unchanged, or null.
 * Nested columns must be plain structs, LISTs and MAPs with string keys, in the layouts hyparquet reads as
 * arrays and objects (it recognises them by their converted type).
 */
export function unwritableColumn(tree: SchemaTree): { column: string; type: string } | null {
  type Found = { column: string; type: string } | null;
  /** `entries`: the repeated child of a LIST or MAP (its entries), which may repeat and is read as a struct. */
  const visit = (node: SchemaTree, path: string[], entries: boolean): Found => {
    const e = node.element;
    const column = [...path, e.name].join('.');
    const bad = (type: string): Found => ({ column, type });
    if (e.repetition_type === 'REPEATED' && !entries) return bad(`repeated ${typeName(e)} outside a LIST`);
    const logical = e.logical_type?.type;
    if (node.children.length > 0) {
      let childEntries = false;
      if (entries) {
        // A struct, whatever its annotation (older writers mark MAP entries MAP_KEY_VALUE).
      } else if (e.converted_type === 'LIST') {
        if (!isListLike(node)) return bad('LIST (legacy layout)');
        childEntries = true;
      } else if (e.converted_type === 'MAP') {
        if (!isMapLike(node)) return bad('MAP (legacy layout)');
        const key = node.children[0]!.children.find((c) => c.element.name === 'key');
        if (!key || key.children.length > 0 || !isStringLeaf(key.element))
          return bad('MAP with non-string keys');
        childEntries = true;
      } else if (e.converted_type !== undefined || logical !== undefined) {
        return bad(typeName(e));
      }
      for (const child of node.children) {
        const found = visit(child, [...path, e.name], childEntries);
        if (found) return found;
      }
      return null;
    }
    // hyparquet-writer writes no repeated leaf (a two-level LIST's elements).
    if (e.repetition_type === 'REPEATED') return bad(`repeated ${typeName(e)}`);
    if (!e.type || !LEAF_TYPES.has(e.type)) return bad(e.type ?? 'unknown');
    if (e.converted_type !== undefined && !CONVERTED_TYPES.has(e.converted_type)) return bad(typeName(e));
    if (logical !== undefined && !LOGICAL_TYPES.has(logical)) return bad(typeName(e));
    if (
      (e.converted_type === 'DECIMAL' || logical === 'DECIMAL') &&
      !(e.precision !== undefined && e.precision <= MAX_DECIMAL_PRECISION)
    )
      return bad(typeName(e));
    return null;
  };
  for (const child of tree.children) {
    const found = visit(child, [], false);
    if (found) return found;
  }
  return null;
}

/** The codec each top-level column is stored with (its first chunk's), or SNAPPY when there are no row groups. */
function codecsOf(metadata: FileMetaData): Map<string, CompressionCodec> {
  const out = new Map<string, CompressionCodec>();
  for (const chunk of metadata.row_groups[0]?.columns ?? []) {
    const md = chunk.meta_data;
    const top = md?.path_in_schema[0];
    if (md && top !== undefined && !out.has(top)) out.set(top, md.codec);
  }
  return out;
}

/** What redacting a row group's values found: replacements made, and findings left in numbers. */
interface RedactTally {
  count: number;
  /** Findings in numeric values, which cannot hold a placeholder: types per top-level column. */
  kept: Map<string, Set<string>>;
  keptCount: number;
}

const TEMPORAL = new Set([
  'DATE',
  'TIME',
  'TIME_MILLIS',
  'TIME_MICROS',
  'TIMESTAMP',
  'TIMESTAMP_MILLIS',
  'TIMESTAMP_MICROS',
]);

/** A string value redacted (text that is not UTF-8 in its bytes). */
function redactString(
  scanner: SecretScanner,
  v: string | NotUtf8,
  key: string | null,
  tally: RedactTally,
): string | Uint8Array {
  if (typeof v === 'string') {
    const r = redactText(scanner, v, key, key !== null);
    tally.count += r.count;
    return r.text;
  }
  if (key !== null && v.bytes.length > 0 && isCredentialFieldName(key)) {
    tally.count++;
    return placeholder('credential-field');
  }
  const raw = Buffer.from(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength);
  const r = redactBytes(scanner, raw, raw.toString('utf8'), key);
  tally.count += r.count;
  return r.count === 0 ? v.bytes : new Uint8Array(r.out);
}

/**
 * A parsed JSON value redacted like a JSON file: every string, and a credential-named field's number or boolean
 * (a JSON column has no schema to keep), becomes its placeholder.
 */
function redactJsonValue(
  scanner: SecretScanner,
  v: unknown,
  key: string | null,
  tally: RedactTally,
): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'string' || v instanceof NotUtf8) return redactString(scanner, v, key, tally);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
    if (key === null || !isCredentialFieldName(key)) return v;
    tally.count++;
    return placeholder('credential-field');
  }
  if (Array.isArray(v)) return v.map((item) => redactJsonValue(scanner, item, key, tally));
  if (typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v as Record<string, unknown>))
    out[k] = redactJsonValue(scanner, child, k, tally);
  return out;
}

/**
 * One value redacted, walked with its schema node. Keys match the scanner's (`readers-parquet.ts`), so both find
 * the same: a scalar column's value sits under its column; inside a list or struct, a value sits under its
 * nearest field name (none at the top of a list). Strings are redacted; a finding in a number is tallied as kept.
 */
function redactNode(
  scanner: SecretScanner,
  v: unknown,
  node: SchemaTree,
  key: string | null,
  column: string,
  tally: RedactTally,
): unknown {
  if (v === null || v === undefined) return v;
  const e = node.element;
  if (node.children.length === 0) {
    if (e.converted_type === 'JSON') return redactJsonValue(scanner, v, key, tally);
    if (typeof v === 'string' || v instanceof NotUtf8) return redactString(scanner, v, key, tally);
    const temporal = TEMPORAL.has(e.converted_type ?? '') || TEMPORAL.has(e.logical_type?.type ?? '');
    if ((typeof v === 'number' || typeof v === 'bigint') && !temporal) {
      const hits = scanValue(scanner, String(v), key);
      if (hits.length > 0) {
        const types = tally.kept.get(column) ?? new Set<string>();
        for (const h of hits) types.add(h.type);
        tally.kept.set(column, types);
        tally.keptCount += hits.length;
      }
    }
    return v;
  }
  if (e.converted_type === 'LIST' && Array.isArray(v)) {
    const entry = node.children[0]!;
    const item = entry.children[0] ?? entry;
    return v.map((x) => redactNode(scanner, x, item, key, column, tally));
  }
  if (typeof v !== 'object') return v;
  const valueNode =
    e.converted_type === 'MAP'
      ? node.children[0]!.children.find((c) => c.element.name === 'value')
      : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
    const childNode = valueNode ?? node.children.find((c) => c.element.name === k);
    out[k] = childNode ? redactNode(scanner, child, childNode, k, column, tally) : child;
  }
  return out;
}

function readGroup(
  file: Awaited<ReturnType<typeof asyncBufferFromFile>>,
  metadata: FileMetaData,
  rowStart: number,
  rowEnd: number,
): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    parquetRead({
      file,
      metadata,
      compressors: decompressors,
      parsers: STORED_FORM,
      rowStart,
      rowEnd,
      rowFormat: 'object',
      onComplete: (data) => resolve(data as Array<Record<string, unknown>>),
    }).catch(reject);
  });
}

/**
 * Writes a redacted copy of the Parquet file `src` to `dest` (through a temporary file beside it, renamed when
 * complete; removed on failure). Nothing found: `dest` is a byte-for-byte copy. `progress` receives file bytes
 * done since its last call.
 */
export async function redactParquetFile(
  src: string,
  dest: string,
  scanner: SecretScanner,
  progress: (delta: number) => void,
): Promise<Omit<RedactedFile, 'path'>> {
  const file = await asyncBufferFromFile(src);
  const metadata = await parquetMetadataAsync(file);
  const tree = parquetSchema(metadata);
  const unwritable = unwritableColumn(tree);
  if (unwritable) {
    await copyFile(src, dest);
    return {
      action: 'not-redacted',
      replacements: 0,
      note: `not redacted: column ${unwritable.column} has type ${unwritable.type}, which cannot be written back unchanged`,
    };
  }
  const stored = codecsOf(metadata);
  const replaced = new Set<CompressionCodec>();
  const columns = tree.children.map((c) => {
    const name = c.element.name;
    let codec = stored.get(name) ?? 'SNAPPY';
    if (!WRITABLE_CODECS.has(codec)) {
      replaced.add(codec);
      codec = 'SNAPPY';
    }
    return { name, codec, node: c };
  });

  const tmp = join(dirname(dest), `.${basename(dest)}.${randomUUID()}.tmp`);
  const tally: RedactTally = { count: 0, kept: new Map(), keptCount: 0 };
  try {
    const writer = new ParquetWriter({
      writer: fileWriter(tmp),
      // hyparquet-writer types its schema with the hyparquet it bundles, which lacks newer logical types (FILE);
      // unwritableColumn has refused those.
      schema: metadata.schema as WriterSchemaElement[],
      compressors: WRITE_COMPRESSORS,
      ...(metadata.key_value_metadata ? { kvMetadata: metadata.key_value_metadata } : {}),
      createdBy: 'keyward redaction (hyparquet-writer)',
    });
    let rowStart = 0;
    let reported = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      // A row group without rows holds no values; the writer cannot write one, and dropping it loses nothing.
      if (rowEnd > rowStart) {
        const rows = await readGroup(file, metadata, rowStart, rowEnd);
        const columnData: ColumnSource[] = columns.map(({ name, codec, node }) => ({
          name,
          codec,
          data: rows.map((row) => {
            const v = row[name];
            // The scanner reads a nested value as a JSON document: no key at its top.
            const nested =
              node.children.length > 0 || (node.element.converted_type === 'JSON' && typeof v === 'object');
            return redactNode(scanner, v, node, nested ? null : name, name, tally);
          }),
        }));
        await writer.write({ columnData, rowGroupSize: rows.length });
      }
      rowStart = rowEnd;
      const groupBytes = group.columns.reduce(
        (s, c) => s + Number(c.meta_data?.total_compressed_size ?? 0),
        0,
      );
      const delta = Math.min(groupBytes, file.byteLength - reported);
      progress(delta);
      reported += delta;
    }
    await writer.finish();
    if (tally.count === 0) {
      await rm(tmp, { force: true });
      await copyFile(src, dest);
    } else await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const notes: string[] = [];
  if (tally.keptCount > 0) {
    const where = [...tally.kept].map(([column, types]) => `${column} (${[...types].join(', ')})`).join(', ');
    notes.push(
      `${tally.keptCount} finding(s) in numeric columns kept (a number cannot hold a placeholder): ${where}`,
    );
  }
  if (tally.count === 0)
    return tally.keptCount > 0
      ? { action: 'not-redacted', replacements: 0, note: notes.join('; ') }
      : { action: 'copied', replacements: 0 };
  if (replaced.size > 0)
    notes.push(
      `${[...replaced].join(', ')} compression cannot be written: the redacted copy uses SNAPPY for those columns`,
    );
  return {
    action: 'redacted',
    replacements: tally.count,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}
