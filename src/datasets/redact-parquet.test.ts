import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects, parquetSchema, toJson } from 'hyparquet';
import type { CompressionCodec, SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ByteWriter, ParquetWriter, type ColumnSource } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseGen } from '../secrets/index.js';
import { defaultDatasetScanner } from './scan.js';
import { scanDataset } from './scan.js';
import { redactDataset } from './redact.js';
import { redactParquetFile, unwritableColumn } from './redact-parquet.js';

const g = createCaseGen(7);
// Built at run time from parts: no token-shaped literal in the source.
const token = g.githubToken(g.join('gh', 'p_'));
const notUtf8 = Uint8Array.from([0x61, 0xff, 0xfe, 0x62]);

const SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 14 },
  { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
  { name: 'big', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'score', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'ok', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  { name: 'at', type: 'INT64', repetition_type: 'OPTIONAL', converted_type: 'TIMESTAMP_MICROS' },
  { name: 'day', type: 'INT32', repetition_type: 'OPTIONAL', converted_type: 'DATE' },
  {
    name: 'price',
    type: 'INT32',
    repetition_type: 'OPTIONAL',
    converted_type: 'DECIMAL',
    precision: 9,
    scale: 2,
  },
  { name: 'blob', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'password', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'profile', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'contact', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'age', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'labels', repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
  { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
  { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'doc', type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' },
];

/** Five rows in the stored form the writer takes (timestamps in micros, dates in days). */
const ROWS: Array<Record<string, unknown>> = [
  {
    id: 1,
    big: 9007199254740993n,
    score: 0.1,
    ok: true,
    at: 1_700_000_000_123_456n,
    day: 19000,
    price: 12.34,
    blob: notUtf8,
    note: 'mail ann@example.com now',
    password: 'hunter2',
    tags: ['x', 'bo@corp.io'],
    profile: { contact: 'cy@example.org', age: 30 },
    labels: { owner: 'dee@example.net', team: 'ml' },
    doc: { user: { email: 'eve@example.com' }, n: 1 },
  },
  {
    id: 2,
    big: null,
    score: null,
    ok: null,
    at: null,
    day: null,
    price: null,
    blob: null,
    note: null,
    password: null,
    tags: null,
    profile: null,
    labels: null,
    doc: null,
  },
  {
    id: 3,
    big: -5n,
    score: -1.5e300,
    ok: false,
    at: -1n,
    day: -1,
    price: -0.01,
    blob: Uint8Array.from([0x63]),
    note: `use ${token} please`,
    password: '',
    tags: [],
    profile: { contact: null, age: null },
    labels: {},
    doc: { password: 1234, list: ['plain'] },
  },
  {
    id: 4,
    big: 0n,
    score: Number.MAX_VALUE,
    ok: true,
    at: 0n,
    day: 0,
    price: 0,
    blob: Uint8Array.from([0xc3, 0x28]),
    note: 'nothing here',
    password: 'pw',
    tags: [null, 'y'],
    profile: { contact: 'plain', age: 1 },
    labels: { a: null },
    doc: 'text',
  },
  {
    id: 5,
    big: 1n,
    score: 2,
    ok: false,
    at: 5n,
    day: 5,
    price: 1,
    blob: Uint8Array.from([0x62, 0x6f, 0x40, 0x63, 0x6f, 0x72, 0x70, 0x2e, 0x69, 0x6f, 0xff]),
    note: 'last',
    password: null,
    tags: ['z'],
    profile: null,
    labels: null,
    doc: [1, 'fi@corp.io'],
  },
];

/** A Parquet file of `rows` under `schema`, in row groups of `groupSize` rows. */
function parquetBytes(
  schema: SchemaElement[],
  rows: Array<Record<string, unknown>>,
  groupSize: number,
  opts: { codec?: CompressionCodec; compressors?: Record<string, (b: Uint8Array) => Uint8Array> } = {},
): Buffer {
  const writer = new ByteWriter();
  const pw = new ParquetWriter({
    writer,
    schema: schema as never,
    codec: opts.codec ?? 'SNAPPY',
    ...(opts.compressors ? { compressors: opts.compressors } : {}),
    kvMetadata: [{ key: 'origin', value: 'test-suite' }],
  });
  const names = parquetSchema({ schema } as never).children.map((c) => c.element.name);
  const columnData: ColumnSource[] = names.map((name) => ({ name, data: rows.map((r) => r[name]) }));
  void pw.write({ columnData, rowGroupSize: groupSize });
  void pw.finish();
  return Buffer.from(writer.getBuffer());
}

/** An LZ4 block of literals only (valid LZ4, no matches): enough to store an LZ4_RAW test file. */
function lz4Literals(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  const n = input.length;
  out.push(Math.min(n, 15) << 4);
  if (n >= 15) {
    let rest = n - 15;
    for (; rest >= 255; rest -= 255) out.push(255);
    out.push(rest);
  }
  out.push(...input);
  return Uint8Array.from(out);
}

/** Rows as hyparquet reads them (dates and timestamps as Date, JSON parsed, unannotated bytes as bytes). */
function readRows(bytes: Buffer): Promise<Array<Record<string, unknown>>> {
  return parquetReadObjects({ file: arrayBufferOf(bytes), compressors, utf8: false });
}

/** A copy of `b` in an ArrayBuffer of its own (what hyparquet reads). */
function arrayBufferOf(b: Buffer): ArrayBuffer {
  return new Uint8Array(b).buffer;
}

function metaOf(bytes: Buffer): ReturnType<typeof parquetMetadata> {
  return parquetMetadata(arrayBufferOf(bytes));
}

/** The mixed file with garbage over the second row group's first page header: its first group reads, not the second. */
function brokenParquet(): Buffer {
  const original = parquetBytes(SCHEMA, ROWS, 2);
  const meta = metaOf(original);
  const footer = original.length - 8 - meta.metadata_length;
  const broken = Buffer.from(original);
  broken.fill(0xff, Number(meta.row_groups[1]!.columns[0]!.meta_data!.data_page_offset), footer);
  return broken;
}

let base: string;
const scanner = defaultDatasetScanner();
const noProgress = (): void => {};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'kw-redact-parquet-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('redactParquetFile', () => {
  it('redacts strings everywhere and writes every other value, the schema, row groups and metadata unchanged', async () => {
    const src = join(base, 'mixed.parquet');
    const original = parquetBytes(SCHEMA, ROWS, 2);
    await writeFile(src, original);
    const dest = join(base, 'mixed.out.parquet');
    const deltas: number[] = [];
    const done = await redactParquetFile(src, dest, scanner, (d) => deltas.push(d));
    // One read (and one progress step) per row group.
    expect(deltas).toHaveLength(3);
    expect(deltas.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(original.length);
    const out = await readFile(dest);

    const before = metaOf(original);
    const after = metaOf(out);
    expect(after.row_groups.map((r) => r.num_rows)).toEqual([2n, 2n, 1n]);
    expect(toJson(after.schema)).toEqual(toJson(before.schema));
    expect(after.key_value_metadata).toEqual([{ key: 'origin', value: 'test-suite' }]);
    expect(after.row_groups.flatMap((r) => r.columns.map((c) => c.meta_data?.codec))).toEqual(
      before.row_groups.flatMap((r) => r.columns.map((c) => c.meta_data?.codec)),
    );

    // Every value but the redacted strings reads exactly as before (utf8: false keeps unannotated bytes as bytes).
    const was = await readRows(original);
    const now = await readRows(out);
    const redacted: Record<number, Record<string, unknown>> = {
      0: {
        note: 'mail [REDACTED:email] now',
        password: '[REDACTED:credential-field]',
        tags: ['x', '[REDACTED:email]'],
        profile: { contact: '[REDACTED:email]', age: 30 },
        labels: { owner: '[REDACTED:email]', team: 'ml' },
        doc: { user: { email: '[REDACTED:email]' }, n: 1 },
      },
      2: {
        note: 'use [REDACTED:secret:github-pat-classic] please',
        doc: { password: '[REDACTED:credential-field]', list: ['plain'] },
      },
      3: { password: '[REDACTED:credential-field]' },
      4: {
        blob: Uint8Array.from([...Buffer.from('[REDACTED:email]'), 0xff]),
        doc: [1, '[REDACTED:email]'],
      },
    };
    expect(now).toEqual(was.map((row, i) => ({ ...row, ...redacted[i] })));
    expect(done).toEqual({ action: 'redacted', replacements: 11 });
    // The stored micros and days survive (a Date would have dropped the micros).
    const stored = await parquetReadObjects({
      file: arrayBufferOf(out),
      compressors,
      columns: ['at', 'day', 'big', 'blob'],
      parsers: { timestampFromMicroseconds: (v) => v, dateFromDays: (v) => v },
      utf8: false,
    });
    expect(stored.map((r) => [r.at, r.day, r.big])).toEqual(ROWS.map((r) => [r.at, r.day, r.big]));
    expect(stored[0]!.blob).toEqual(notUtf8);
  });

  it('writes back UUID, FLOAT16, FLOAT, unsigned, small-int, TIME, ENUM, fixed-length and DECIMAL(15) values', async () => {
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 12 },
      { name: 'email', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'uuid', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } },
      { name: 'half', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, logical_type: { type: 'FLOAT16' } },
      { name: 'f', type: 'FLOAT', repetition_type: 'REQUIRED' },
      { name: 'u64', type: 'INT64', converted_type: 'UINT_64', repetition_type: 'REQUIRED' },
      { name: 'u32', type: 'INT32', converted_type: 'UINT_32', repetition_type: 'REQUIRED' },
      { name: 'i8', type: 'INT32', converted_type: 'INT_8', repetition_type: 'REQUIRED' },
      { name: 'time', type: 'INT64', converted_type: 'TIME_MICROS', repetition_type: 'REQUIRED' },
      { name: 'kind', type: 'BYTE_ARRAY', converted_type: 'ENUM', repetition_type: 'REQUIRED' },
      { name: 'fixed', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 3, repetition_type: 'REQUIRED' },
      {
        name: 'amount',
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: 7,
        converted_type: 'DECIMAL',
        precision: 15,
        scale: 3,
        repetition_type: 'REQUIRED',
      },
      {
        name: 'nanos',
        type: 'INT64',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' },
        repetition_type: 'REQUIRED',
      },
    ];
    const rows = [
      {
        email: 'a@example.com',
        uuid: '00112233-4455-6677-8899-aabbccddeeff',
        half: 1.5,
        f: 0.1,
        u64: 2n ** 64n - 1n,
        u32: 4294967295,
        i8: -128,
        time: 86_399_999_999n,
        kind: 'A',
        fixed: Uint8Array.from([0, 255, 7]),
        amount: 999_999_999_999.999,
        nanos: 1_700_000_000_123_456_789n,
      },
      {
        email: 'none',
        uuid: null,
        half: null,
        f: -3.25,
        u64: 0n,
        u32: 0,
        i8: 127,
        time: 0n,
        kind: 'B',
        fixed: Uint8Array.from([1, 2, 3]),
        amount: -0.001,
        nanos: -1n,
      },
    ];
    const src = join(base, 'types.parquet');
    const original = parquetBytes(schema, rows, 1);
    await writeFile(src, original);
    const dest = join(base, 'types.out.parquet');
    expect(await redactParquetFile(src, dest, scanner, noProgress)).toEqual({
      action: 'redacted',
      replacements: 1,
    });
    // Compared as read (bigints and bytes kept: toJson would round a bigint to a number).
    const stored = (b: Buffer): Promise<Array<Record<string, unknown>>> =>
      parquetReadObjects({
        file: arrayBufferOf(b),
        parsers: { timestampFromNanoseconds: (v) => v, uuidFromBytes: (v) => v },
        utf8: false,
      });
    const was = await stored(original);
    expect(was[0]).toMatchObject({ u64: 2n ** 64n - 1n, u32: 4294967295, nanos: 1_700_000_000_123_456_789n });
    expect(await stored(await readFile(dest))).toEqual([{ ...was[0], email: '[REDACTED:email]' }, was[1]]);
  });

  it('copies a file with nothing found byte for byte, and leaves no temporary file', async () => {
    const dir = join(base, 'clean');
    await mkdir(dir);
    const rows = [{ id: 1, note: 'hello', n: 2n }];
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 3 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'n', type: 'INT64', repetition_type: 'OPTIONAL' },
    ];
    const original = parquetBytes(schema, rows, 10);
    await writeFile(join(base, 'clean.parquet'), original);
    const dest = join(dir, 'clean.parquet');
    expect(await redactParquetFile(join(base, 'clean.parquet'), dest, scanner, noProgress)).toEqual({
      action: 'copied',
      replacements: 0,
    });
    expect((await readFile(dest)).equals(original)).toBe(true);
    expect(await readdir(dir)).toEqual(['clean.parquet']);
  });

  it('keeps UNCOMPRESSED, GZIP and BROTLI, and writes SNAPPY for a codec it cannot write (saying so)', async () => {
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 1 },
      { name: 'email', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ];
    const rows = [{ email: 'a@example.com' }, { email: 'b@example.com' }];
    const cases: Array<[CompressionCodec, CompressionCodec, string | undefined]> = [
      ['UNCOMPRESSED', 'UNCOMPRESSED', undefined],
      ['GZIP', 'GZIP', undefined],
      ['BROTLI', 'BROTLI', undefined],
      [
        'LZ4_RAW',
        'SNAPPY',
        'LZ4_RAW compression cannot be written: the redacted copy uses SNAPPY for those columns',
      ],
    ];
    for (const [codec, written, note] of cases) {
      const src = join(base, `codec-${codec}.parquet`);
      await writeFile(
        src,
        parquetBytes(schema, rows, 1, {
          codec,
          compressors: {
            GZIP: (b) => new Uint8Array(gzipSync(b)),
            BROTLI: (b) => new Uint8Array(brotliCompressSync(b)),
            LZ4_RAW: lz4Literals,
          },
        }),
      );
      const dest = join(base, `codec-${codec}.out.parquet`);
      expect(await redactParquetFile(src, dest, scanner, noProgress)).toEqual({
        action: 'redacted',
        replacements: 2,
        ...(note ? { note } : {}),
      });
      const out = await readFile(dest);
      expect(metaOf(out).row_groups.map((r) => r.columns[0]!.meta_data?.codec)).toEqual([written, written]);
      expect(await readRows(out)).toEqual([{ email: '[REDACTED:email]' }, { email: '[REDACTED:email]' }]);
    }
  });

  it('keeps a finding in a number (no placeholder fits) and says so; with nothing else found, copies as not-redacted', async () => {
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 3 },
      { name: 'email', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'card', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'at', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'REQUIRED' },
    ];
    const row = { card: 4242424242424242n, at: 4242424242424242n };
    const withEmail = join(base, 'card-email.parquet');
    await writeFile(withEmail, parquetBytes(schema, [{ ...row, email: 'a@example.com' }], 1));
    const note =
      '1 finding(s) in numeric columns kept (a number cannot hold a placeholder): card (payment-card)';
    expect(
      await redactParquetFile(withEmail, join(base, 'card-email.out.parquet'), scanner, noProgress),
    ).toEqual({
      action: 'redacted',
      replacements: 1,
      note,
    });
    const only = join(base, 'card-only.parquet');
    const original = parquetBytes(schema, [{ ...row, email: 'none' }], 1);
    await writeFile(only, original);
    const dir = join(base, 'card-out');
    await mkdir(dir);
    const dest = join(dir, 'card-only.parquet');
    expect(await redactParquetFile(only, dest, scanner, noProgress)).toEqual({
      action: 'not-redacted',
      replacements: 0,
      note,
    });
    expect((await readFile(dest)).equals(original)).toBe(true);
    // The scanner finds what the note names (and nothing in the timestamp, which it reads as a date).
    const again = await scanDataset(dir);
    expect(again.files[0]!.findings.map((f) => [f.type, f.count, f.samples[0]!.location.column])).toEqual([
      ['payment-card', 1, 'card'],
    ]);
  });

  it('copies a file with a column it cannot write back as not-redacted, naming the column and type', async () => {
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 2 },
      { name: 'email', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      {
        name: 'amount',
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: 9,
        converted_type: 'DECIMAL',
        precision: 20,
        scale: 2,
        repetition_type: 'REQUIRED',
      },
    ];
    const original = parquetBytes(schema, [{ email: 'a@example.com', amount: 12345678901234567890n }], 1);
    const src = join(base, 'wide-decimal.parquet');
    await writeFile(src, original);
    const dest = join(base, 'wide-decimal.out.parquet');
    expect(await redactParquetFile(src, dest, scanner, noProgress)).toEqual({
      action: 'not-redacted',
      replacements: 0,
      note: 'not redacted: column amount has type DECIMAL(20,2), which cannot be written back unchanged',
    });
    expect((await readFile(dest)).equals(original)).toBe(true);
  });

  it('removes its temporary file and writes nothing when a row group cannot be read', async () => {
    const dir = join(base, 'broken');
    await mkdir(dir);
    await writeFile(join(base, 'broken.parquet'), brokenParquet());
    let groups = 0;
    await expect(
      redactParquetFile(join(base, 'broken.parquet'), join(dir, 'broken.parquet'), scanner, () => groups++),
    ).rejects.toThrow('thrift unhandled type: 15');
    expect(groups).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('unwritableColumn', () => {
  const tree = (schema: SchemaElement[]): ReturnType<typeof parquetSchema> =>
    parquetSchema({ schema } as never);
  it('accepts the writable types and names the first column that is not', () => {
    expect(unwritableColumn(tree(SCHEMA))).toBeNull();
    const cases: Array<[SchemaElement, string]> = [
      [{ name: 'ts', type: 'INT96', repetition_type: 'OPTIONAL' }, 'INT96'],
      [{ name: 'b', type: 'BYTE_ARRAY', converted_type: 'BSON', repetition_type: 'OPTIONAL' }, 'BSON'],
      [{ name: 'd', type: 'INT64', converted_type: 'DECIMAL', repetition_type: 'OPTIONAL' }, 'DECIMAL(?,0)'],
      [
        { name: 'g', type: 'BYTE_ARRAY', logical_type: { type: 'GEOMETRY' }, repetition_type: 'OPTIONAL' },
        'GEOMETRY',
      ],
      [{ name: 'r', type: 'INT32', repetition_type: 'REPEATED' }, 'repeated INT32 outside a LIST'],
    ];
    for (const [element, type] of cases)
      expect(unwritableColumn(tree([{ name: 'root', num_children: 2 }, SCHEMA[1]!, element]))).toEqual({
        column: element.name,
        type,
      });
    expect(
      unwritableColumn(
        tree([
          { name: 'root', num_children: 1 },
          { name: 'm', converted_type: 'MAP', repetition_type: 'OPTIONAL', num_children: 1 },
          { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
          { name: 'key', type: 'INT32', repetition_type: 'REQUIRED' },
          { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        ]),
      ),
    ).toEqual({ column: 'm', type: 'MAP with non-string keys' });
    expect(
      unwritableColumn(
        tree([
          { name: 'root', num_children: 1 },
          { name: 's', repetition_type: 'OPTIONAL', num_children: 1 },
          { name: 'when', type: 'INT96', repetition_type: 'OPTIONAL' },
        ]),
      ),
    ).toEqual({ column: 's.when', type: 'INT96' });
    // A two-level LIST (repeated leaf) cannot be written; MAP entries marked MAP_KEY_VALUE (older writers) can.
    expect(
      unwritableColumn(
        tree([
          { name: 'root', num_children: 1 },
          { name: 'l', converted_type: 'LIST', repetition_type: 'OPTIONAL', num_children: 1 },
          { name: 'array', type: 'INT32', repetition_type: 'REPEATED' },
        ]),
      ),
    ).toEqual({ column: 'l.array', type: 'repeated INT32' });
    expect(
      unwritableColumn(
        tree([
          { name: 'root', num_children: 1 },
          { name: 'm', converted_type: 'MAP', repetition_type: 'OPTIONAL', num_children: 1 },
          {
            name: 'key_value',
            converted_type: 'MAP_KEY_VALUE',
            repetition_type: 'REPEATED',
            num_children: 2,
          },
          { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
          { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        ]),
      ),
    ).toBeNull();
  });
});

describe('redactDataset with Parquet', () => {
  it('redacts the file, reports progress to the total, and the copy scans clean', async () => {
    const dir = join(base, 'ds');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub', 'mixed.parquet'), parquetBytes(SCHEMA, ROWS, 2));
    await writeFile(join(dir, 'broken.parquet'), brokenParquet());
    const report = await scanDataset(dir);
    expect(report.totals.findings).toBeGreaterThan(0);
    const calls: Array<[number, number]> = [];
    const out = join(base, 'ds-out');
    const result = await redactDataset(dir, out, { report, onProgress: (d, t) => calls.push([d, t]) });
    expect(result).toEqual({
      outDir: out,
      files: [{ path: 'sub/mixed.parquet', action: 'redacted', replacements: 11 }],
      skipped: [],
      errors: [{ path: 'broken.parquet', message: 'thrift unhandled type: 15' }],
    });
    expect(await readdir(out, { recursive: true })).toEqual(['sub', 'sub/mixed.parquet']);
    const total =
      (await readFile(join(dir, 'sub', 'mixed.parquet'))).length +
      (await readFile(join(dir, 'broken.parquet'))).length;
    expect(calls.at(-1)).toEqual([total, total]);
    expect(calls.every(([d, t], i) => t === total && d <= total && (i === 0 || d >= calls[i - 1]![0]))).toBe(
      true,
    );
    expect(report.errors).toEqual([{ path: 'broken.parquet', message: 'thrift unhandled type: 15' }]);
    const again = await scanDataset(out);
    expect(again.errors).toEqual([]);
    expect(again.totals.findings).toBe(0);
    // Credential fields keep their (placeholder) values, so they are still listed.
    expect(again.files[0]!.credentialFields).toEqual([
      { field: 'password', nonEmptyValues: 2 },
      { field: 'doc.password', nonEmptyValues: 1 },
    ]);
  });
});
