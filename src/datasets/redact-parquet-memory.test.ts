import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadataAsync, asyncBufferFromFile } from 'hyparquet';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDatasetScanner } from './scan.js';
import { redactParquetFile } from './redact-parquet.js';

const MB = 1024 * 1024;
const GROUPS = 40;
const ROWS_PER_GROUP = 10_000;
let dir: string;

/** Writes an uncompressed Parquet file of `GROUPS` row groups, one group in memory at a time. */
async function writeBigParquet(path: string): Promise<void> {
  const filler = 'The quick brown fox jumps over the lazy dog while the model answers politely. '.repeat(5);
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    codec: 'UNCOMPRESSED',
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ],
  });
  for (let g = 0; g < GROUPS; g++) {
    const ids: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < ROWS_PER_GROUP; i++) {
      const id = g * ROWS_PER_GROUP + i;
      ids.push(id);
      texts.push(id % 1000 === 0 ? `reach me at user${id}@example.com` : `row ${id}: ${filler}`);
    }
    await writer.write({
      columnData: [
        { name: 'id', data: ids },
        { name: 'text', data: texts },
      ],
      rowGroupSize: ROWS_PER_GROUP,
    });
  }
  await writer.finish();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-redact-pq-mem-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('redactParquetFile on a large file', () => {
  it('holds one row group at a time', { timeout: 300_000 }, async () => {
    const src = join(dir, 'big.parquet');
    await writeBigParquet(src);
    const size = (await stat(src)).size;
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const started = Date.now();
    const dest = join(dir, 'big.out.parquet');
    const result = await redactParquetFile(src, dest, defaultDatasetScanner(), () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    });
    clearInterval(timer);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `redacted ${(size / MB).toFixed(0)} MB of Parquet in ${seconds.toFixed(1)} s, rss growth ${((peak - before) / MB).toFixed(0)} MB`,
    );
    expect(result).toEqual({ action: 'redacted', replacements: (GROUPS * ROWS_PER_GROUP) / 1000 });
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(dest));
    expect(meta.row_groups).toHaveLength(GROUPS);
    // The whole file's strings would take more than twice its size in memory; one row group takes a fraction.
    expect(size).toBeGreaterThan(150 * MB);
    expect(peak - before).toBeLessThan(100 * MB);
  });
});
