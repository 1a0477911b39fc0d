import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquetRecords } from './readers-parquet.js';
import { scanDataset } from './scan.js';
import { redactDataset } from './redact.js';

// This test writes a minimal file itself (not with hyparquet-writer, which the redactor uses): required UTF-8
// string columns, PLAIN encoding, uncompressed, one data page per column chunk, one or more row groups.

/** Thrift compact protocol, just the parts a Parquet footer and page header need. */
class Compact {
  bytes: number[] = [];
  private last: number[] = [0];
  varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }
  zigzag(n: number): void {
    const b = BigInt(n);
    this.varint(b >= 0n ? b << 1n : (-b << 1n) - 1n);
  }
  field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1]!;
    this.bytes.push((delta << 4) | type);
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number): void {
    this.field(id, 5);
    this.zigzag(v);
  }
  i64(id: number, v: number): void {
    this.field(id, 6);
    this.zigzag(v);
  }
  binary(id: number, s: string): void {
    this.field(id, 8);
    this.rawBinary(s);
  }
  rawBinary(s: string): void {
    const b = Buffer.from(s);
    this.varint(BigInt(b.length));
    this.bytes.push(...b);
  }
  struct(id: number | null, body: () => void): void {
    if (id !== null) this.field(id, 12);
    this.last.push(0);
    body();
    this.bytes.push(0);
    this.last.pop();
  }
  list(id: number, elemType: number, items: Array<() => void>): void {
    this.field(id, 9);
    this.bytes.push((items.length << 4) | elemType);
    for (const item of items) item();
  }
}

/** A Parquet file of string columns, split into row groups of `groupSize` rows. */
function parquetFile(columns: string[], rows: string[][], groupSize: number): Buffer {
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const groups: Array<{
    chunks: Array<{ name: string; offset: number; size: number; n: number }>;
    rows: number;
    bytes: number;
  }> = [];
  for (let g = 0; g < rows.length; g += groupSize) {
    const slice = rows.slice(g, g + groupSize);
    const group = {
      chunks: [] as Array<{ name: string; offset: number; size: number; n: number }>,
      rows: slice.length,
      bytes: 0,
    };
    columns.forEach((name, c) => {
      const data = Buffer.concat(
        slice.map((r) => {
          const v = Buffer.from(r[c]!);
          const len = Buffer.alloc(4);
          len.writeUInt32LE(v.length);
          return Buffer.concat([len, v]);
        }),
      );
      const h = new Compact();
      h.struct(null, () => {
        h.i32(1, 0);
        h.i32(2, data.length);
        h.i32(3, data.length);
        h.struct(5, () => {
          h.i32(1, slice.length);
          h.i32(2, 0);
          h.i32(3, 3);
          h.i32(4, 3);
        });
      });
      const chunk = Buffer.concat([Buffer.from(h.bytes), data]);
      group.chunks.push({ name, offset, size: chunk.length, n: slice.length });
      group.bytes += chunk.length;
      parts.push(chunk);
      offset += chunk.length;
    });
    groups.push(group);
  }
  const m = new Compact();
  m.struct(null, () => {
    m.i32(1, 1);
    m.list(2, 12, [
      () =>
        m.struct(null, () => {
          m.binary(4, 'schema');
          m.i32(5, columns.length);
        }),
      ...columns.map(
        (name) => () =>
          m.struct(null, () => {
            m.i32(1, 6);
            m.i32(3, 0);
            m.binary(4, name);
            m.i32(6, 0);
          }),
      ),
    ]);
    m.i64(3, rows.length);
    m.list(
      4,
      12,
      groups.map(
        (g) => () =>
          m.struct(null, () => {
            m.list(
              1,
              12,
              g.chunks.map(
                (ch) => () =>
                  m.struct(null, () => {
                    m.i64(2, ch.offset);
                    m.struct(3, () => {
                      m.i32(1, 6);
                      m.list(2, 5, [() => m.zigzag(0)]);
                      m.list(3, 8, [() => m.rawBinary(ch.name)]);
                      m.i32(4, 0);
                      m.i64(5, ch.n);
                      m.i64(6, ch.size);
                      m.i64(7, ch.size);
                      m.i64(9, ch.offset);
                    });
                  }),
              ),
            );
            m.i64(2, g.bytes);
            m.i64(3, g.rows);
          }),
      ),
    );
  });
  const footer = Buffer.from(m.bytes);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(footer.length);
  parts.push(footer, len, Buffer.from('PAR1'));
  return Buffer.concat(parts);
}

let dir: string;
const ROWS = [
  ['Ann', 'ann@example.com', 'hello'],
  ['Ben', 'none', 'card 4242 4242 4242 4242'],
  ['Cy', 'cy@example.org', 'bye'],
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-parquet-'));
  await writeFile(join(dir, 'people.parquet'), parquetFile(['name', 'email', 'password'], ROWS, 2));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Parquet reader', () => {
  it('reads rows group by group with row index and column', async () => {
    const out: Array<[string, unknown]> = [];
    for await (const r of readParquetRecords(join(dir, 'people.parquet')))
      for (const v of r.values) out.push([v.text, v.loc]);
    expect(out).toEqual([
      ['Ann', { row: 0, column: 'name' }],
      ['ann@example.com', { row: 0, column: 'email' }],
      ['hello', { row: 0, column: 'password' }],
      ['Ben', { row: 1, column: 'name' }],
      ['none', { row: 1, column: 'email' }],
      ['card 4242 4242 4242 4242', { row: 1, column: 'password' }],
      ['Cy', { row: 2, column: 'name' }],
      ['cy@example.org', { row: 2, column: 'email' }],
      ['bye', { row: 2, column: 'password' }],
    ]);
  });

  it('is scanned by scanDataset and redacted by redactDataset', async () => {
    const report = await scanDataset(dir);
    const file = report.files[0]!;
    expect([file.format, file.records]).toEqual(['parquet', 3]);
    expect(file.findings.map((t) => [t.type, t.count, t.samples.map((s) => s.location)])).toEqual([
      [
        'email',
        2,
        [
          { file: 'people.parquet', row: 0, column: 'email' },
          { file: 'people.parquet', row: 2, column: 'email' },
        ],
      ],
      ['payment-card', 1, [{ file: 'people.parquet', row: 1, column: 'password' }]],
    ]);
    expect(file.credentialFields).toEqual([{ field: 'password', nonEmptyValues: 3 }]);
    const result = await redactDataset(dir, join(dir, '..', `${dir.split('/').pop()}-out`), report);
    expect(result.files).toEqual([{ path: 'people.parquet', action: 'redacted', replacements: 5 }]);
    const out: string[][] = [];
    for await (const r of readParquetRecords(join(result.outDir, 'people.parquet')))
      out.push(r.values.map((v) => v.text));
    expect(out).toEqual([
      ['Ann', '[REDACTED:email]', '[REDACTED:credential-field]'],
      ['Ben', 'none', '[REDACTED:credential-field]'],
      ['Cy', '[REDACTED:email]', '[REDACTED:credential-field]'],
    ]);
    await rm(result.outDir, { recursive: true, force: true });
  });
});
