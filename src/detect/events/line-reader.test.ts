import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readLineBatches, readLines } from './line-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'keyward-line-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function allLines(path: string, maxLineBytes?: number): Promise<Array<[number, string | null]>> {
  const out: Array<[number, string | null]> = [];
  for await (const l of readLines(path, maxLineBytes)) out.push([l.line, l.text]);
  return out;
}

/** Lines of `n` characters (`a`…, then the line number), so each is told apart. */
const padded = (i: number, n: number): string => `${i}:`.padEnd(n, String.fromCharCode(97 + (i % 26)));

describe('readLines', () => {
  it('reads lines that cross block boundaries, CRLF ends and non-ASCII blocks exactly', async () => {
    // Several 1 MiB blocks: ASCII lines of many lengths (some crossing a block end), CRLF ends, and lines with
    // non-ASCII text (the block they are in is decoded as UTF-8) including a character split across blocks.
    const lines: string[] = [];
    let bytes = 0;
    for (let i = 0; bytes < 3.5 * 1024 * 1024; i++) {
      const n = [10, 700, 70_000, 1, 333_333][i % 5]!;
      let text = padded(i, n);
      if (i % 97 === 5) text += ' – ünïcödé ✓ 🔑';
      lines.push(text);
      bytes += Buffer.byteLength(text) + (i % 3 === 0 ? 2 : 1);
    }
    const content = lines.map((l, i) => l + (i % 3 === 0 ? '\r\n' : '\n')).join('');
    const path = join(dir, 'mixed.txt');
    writeFileSync(path, content);
    const expected = lines.map((l, i): [number, string] => [i + 1, l]);
    expect(await allLines(path)).toEqual(expected);
    const gz = join(dir, 'mixed.txt.gz');
    writeFileSync(gz, gzipSync(content));
    expect(await allLines(gz)).toEqual(expected);
  });

  it('a line over the limit is null in an ASCII block too; the last line needs no line break', async () => {
    const path = join(dir, 'limit.txt');
    writeFileSync(path, `short\n${'x'.repeat(100)}\r\nnext\nlast`);
    expect(await allLines(path, 50)).toEqual([
      [1, 'short'],
      [2, null],
      [3, 'next'],
      [4, 'last'],
    ]);
  });

  it('a byte order mark is dropped from the first line only', async () => {
    const path = join(dir, 'bom.txt');
    writeFileSync(path, '\uFEFF{"a":1}\n\uFEFFb\n');
    expect(await allLines(path)).toEqual([
      [1, '{"a":1}'],
      [2, '\uFEFFb'],
    ]);
  });

  it('gives a batch per block read, every line once and in order', async () => {
    const path = join(dir, 'batches.txt');
    const lines = Array.from({ length: 40_000 }, (_, i) => padded(i, 60));
    writeFileSync(path, `${lines.join('\n')}\n`);
    const batches: number[][] = [];
    for await (const b of readLineBatches(path)) batches.push(b.map((l) => l.line));
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(lines.map((_, i) => i + 1));
  });
});
