import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOf, looksBinary, readRecords } from './readers.js';
import { fieldSpans, quotedFields, replaceFields } from './readers-csv.js';
import type { DatasetFormat, DatasetRecord } from './readers-types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-readers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(name: string, content: string | Buffer, format: DatasetFormat): Promise<DatasetRecord[]> {
  const path = join(dir, name);
  await writeFile(path, content);
  const out: DatasetRecord[] = [];
  for await (const r of readRecords(path, format)) out.push(r);
  return out;
}

describe('formatOf', () => {
  it('chooses by extension; big .json is read as text', () => {
    expect(
      ['a.jsonl', 'a.ndjson', 'a.json', 'a.csv', 'a.TSV', 'a.parquet', 'a.md', 'a'].map((p) =>
        formatOf(p, 10),
      ),
    ).toEqual(['jsonl', 'jsonl', 'json', 'csv', 'tsv', 'parquet', 'text', 'text']);
    expect(formatOf('big.json', 64 * 1024 * 1024 + 1)).toBe('text');
  });
});

describe('JSONL reader', () => {
  it('gives scalar values with key paths and lines; a non-JSON line is text', async () => {
    const recs = await read('a.jsonl', '{"a":{"b":["x",2]},"c d":true}\n\nnot json\n{"z":null}', 'jsonl');
    expect(recs.map((r) => r.raw!.toString())).toEqual([
      '{"a":{"b":["x",2]},"c d":true}\n',
      '\n',
      'not json\n',
      '{"z":null}',
    ]);
    expect(recs[0]!.values.map((v) => [v.text, v.key, v.field, v.isString, v.loc])).toEqual([
      ['x', 'b', 'a.b[]', true, { line: 1, keyPath: 'a.b[0]' }],
      ['2', 'b', 'a.b[]', false, { line: 1, keyPath: 'a.b[1]' }],
      ['true', 'c d', '["c d"]', false, { line: 1, keyPath: '["c d"]' }],
    ]);
    expect(recs[1]!.values).toEqual([]);
    expect(recs[2]!.values.map((v) => [v.text, v.loc])).toEqual([['not json', { line: 3 }]]);
    expect(recs[3]!.values).toEqual([]);
  });
  it('splits lines across read chunks (1 MiB) without losing bytes', async () => {
    const line = `{"t":"${'x'.repeat(300_000)}"}\n`;
    const recs = await read('big.jsonl', line.repeat(7), 'jsonl');
    expect(recs.length).toBe(7);
    expect(recs.every((r) => r.values[0]!.text.length === 300_000)).toBe(true);
    expect(recs[6]!.values[0]!.loc).toEqual({ line: 7, keyPath: 't' });
  });
});

describe('text reader', () => {
  it('gives one value per line, without CR/LF, keeping raw bytes (non-UTF-8 included)', async () => {
    const bytes = Buffer.concat([Buffer.from('one\r\n'), Buffer.from([0xe9, 0xff]), Buffer.from(' two\n')]);
    const recs = await read('a.txt', bytes, 'text');
    expect(recs.map((r) => r.values.map((v) => [v.text, v.loc]))).toEqual([
      [['one', { line: 1 }]],
      [['\uFFFD\uFFFD two', { line: 2 }]],
    ]);
    expect(Buffer.concat(recs.map((r) => r.raw!)).equals(bytes)).toBe(true);
  });
});

describe('text reader, PEM blocks', () => {
  it('keeps a BEGIN…END block together as one record at its first line', async () => {
    const recs = await read('k.pem', 'a\n-----BEGIN X-----\nAAAA\n-----END X-----\nb', 'text');
    expect(recs.map((r) => r.values.map((v) => [v.text, v.loc]))).toEqual([
      [['a', { line: 1 }]],
      [['-----BEGIN X-----\nAAAA\n-----END X-----', { line: 2 }]],
      [['b', { line: 5 }]],
    ]);
  });
});

describe('JSON reader', () => {
  it('parses a whole document; invalid JSON falls back to text lines', async () => {
    const recs = await read('a.json', '{\n  "k": ["v"]\n}\n', 'json');
    expect(recs.map((r) => r.values.map((v) => [v.text, v.loc]))).toEqual([[['v', { keyPath: 'k[0]' }]]]);
    const notes: string[] = [];
    const path = join(dir, 'bad.json');
    await writeFile(path, 'a\nb\n');
    const out: DatasetRecord[] = [];
    for await (const r of readRecords(path, 'json', (n) => notes.push(n))) out.push(r);
    expect(out.map((r) => r.values[0]!.text)).toEqual(['a', 'b']);
    expect(notes).toEqual(['not valid JSON: scanned as text lines']);
  });
});

describe('CSV/TSV readers', () => {
  it('reads a header and rows with row, column and quoting', async () => {
    const recs = await read('a.csv', 'name,"e mail",\n"Bob, Jr",bob@x.io,3\n', 'csv');
    expect(recs[0]!.fields).toEqual({ cells: ['name', 'e mail', ''] });
    expect(quotedFields('name,"e mail",\n', ',')).toEqual([false, true, false]);
    expect(recs[1]!.values.map((v) => [v.text, v.key, v.index, v.loc])).toEqual([
      ['Bob, Jr', 'name', 0, { row: 1, column: 'name', line: 2 }],
      ['bob@x.io', 'e mail', 1, { row: 1, column: 'e mail', line: 2 }],
      ['3', '#3', 2, { row: 1, column: '#3', line: 2 }],
    ]);
    expect(recs[1]!.raw!.toString()).toBe('"Bob, Jr",bob@x.io,3\n');
    expect(quotedFields(recs[1]!.raw!.toString(), ',')).toEqual([true, false, false]);
    expect(quotedFields('"a""b"\t""\tc\t"x\ty"', '\t')).toEqual([true, true, false, true]);
  });
  it('reports a malformed row with its line and keeps reading', async () => {
    const recs = await read('m.csv', 'a,b\n1,2\n3,4,5\nx"y,1\n6,7\n', 'csv');
    expect(
      recs.map((r) => (r.malformed ? `bad@${r.malformed.line}` : r.values.map((v) => v.text).join('|'))),
    ).toEqual(['', '1|2', 'bad@3', 'bad@4', '6|7']);
    expect(recs[2]!.raw!.toString()).toBe('3,4,5\n');
    expect([recs[2]!.malformed!.message, recs[3]!.malformed!.message]).toEqual([
      'wrong number of fields',
      'quote inside an unquoted field',
    ]);
    expect(recs[4]!.values[0]!.loc).toEqual({ row: 4, column: 'a', line: 5 });
    expect(Buffer.concat(recs.map((r) => r.raw!)).toString()).toBe('a,b\n1,2\n3,4,5\nx"y,1\n6,7\n');
  });
  it('a quote error that swallows the rows after it is one malformed record, its text once', async () => {
    const text = 'a,b\n1,2\n"x"y,3\n4,5\n6,"7\n';
    const recs = await read('q.csv', text, 'csv');
    expect(recs.filter((r) => r.malformed).map((r) => r.malformed!.line)).toEqual([3]);
    expect(recs.filter((r) => r.values.length > 0).map((r) => r.values.map((v) => v.text).join('|'))).toEqual(
      ['1|2'],
    );
    // Every byte of the file is in exactly one record (the redacted copy writes the records' bytes).
    expect(Buffer.concat(recs.map((r) => r.raw!)).toString()).toBe(text);
  });
  it("a record's raw is its bytes in the file: a BOM, bytes that are not UTF-8 and CRLF kept", async () => {
    const content = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('név,b\r\n1,caf'),
      Buffer.from([0xe9]),
      Buffer.from('\r\n"q,1",x\r\n'),
    ]);
    const recs = await read('enc.csv', content, 'csv');
    expect(recs[0]!.fields).toEqual({ cells: ['név', 'b'] });
    expect(recs.map((r) => r.raw!.toString('latin1'))).toEqual([
      '\xef\xbb\xbfn\xc3\xa9v,b\r\n',
      '1,caf\xe9\r\n',
      '"q,1",x\r\n',
    ]);
    expect(recs[1]!.values.map((v) => v.text)).toEqual(['1', 'caf\ufffd']);
    expect(recs[2]!.values.map((v) => [v.text, v.key])).toEqual([
      ['q,1', 'név'],
      ['x', 'b'],
    ]);
  });
  it('replaceFields splices cells into the raw bytes; fieldSpans finds each field', () => {
    const raw = Buffer.concat([Buffer.from('a,"b,""c"",'), Buffer.from([0xff]), Buffer.from('",,d\r\n')]);
    expect(fieldSpans(raw, ',').map((f) => [f.start, f.end, f.quoted])).toEqual([
      [0, 1, false],
      [2, 13, true],
      [14, 14, false],
      [15, 16, false],
    ]);
    const out = replaceFields(raw, 4, new Map([[3, 'x,y']]), ',')!;
    expect(out.equals(Buffer.concat([raw.subarray(0, 15), Buffer.from('"x,y"\r\n')]))).toBe(true);
    expect(replaceFields(raw, 3, new Map([[0, 'z']]), ',')).toBeNull();
    expect(replaceFields(Buffer.from('a,"b"'), 2, new Map([[1, 'q']]), ',')!.toString()).toBe('a,"q"');
  });
  it('reads TSV with tabs, stray quotes allowed', async () => {
    const recs = await read('a.tsv', 'id\ttext\n1\tsays "hi" to a@b.io\n', 'tsv');
    expect(recs[1]!.values.map((v) => [v.text, v.loc.column])).toEqual([
      ['1', 'id'],
      ['says "hi" to a@b.io', 'text'],
    ]);
  });
});

describe('looksBinary', () => {
  it('tells files with NUL bytes from text', async () => {
    await writeFile(join(dir, 'b.bin'), Buffer.from([1, 0, 2]));
    await writeFile(join(dir, 'c.txt'), Buffer.from([0xe9, 0x41]));
    expect(await looksBinary(join(dir, 'b.bin'))).toBe(true);
    expect(await looksBinary(join(dir, 'c.txt'))).toBe(false);
  });
});
