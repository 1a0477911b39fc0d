import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanDataset } from './scan.js';

const MB = 1024 * 1024;
let dir: string;

/** Writes about `bytes` of JSONL chat records; every 1000th holds an e-mail address. */
async function writeJsonl(path: string, bytes: number): Promise<number> {
  const ws = createWriteStream(path);
  let written = 0;
  let lines = 0;
  const filler = 'The quick brown fox jumps over the lazy dog while the model answers politely. '.repeat(3);
  while (written < bytes) {
    const rec = {
      id: lines,
      messages: [
        {
          role: 'user',
          content:
            lines % 1000 === 0 ? `reach me at user${lines}@example.com` : `question ${lines}: ${filler}`,
        },
        { role: 'assistant', content: filler },
      ],
    };
    const line = JSON.stringify(rec) + '\n';
    written += line.length;
    lines++;
    if (!ws.write(line)) await once(ws, 'drain');
  }
  ws.end();
  await once(ws, 'close');
  return lines;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-dscan-mem-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scanDataset on a large file', () => {
  it('streams a 200 MB JSONL file with bounded memory', { timeout: 300_000 }, async () => {
    const lines = await writeJsonl(join(dir, 'big.jsonl'), 200 * MB);
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const started = Date.now();
    const report = await scanDataset(dir, {
      onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)),
    });
    clearInterval(timer);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `scanned ${(report.totals.bytes / MB).toFixed(0)} MB in ${seconds.toFixed(1)} s (${(report.totals.bytes / MB / seconds).toFixed(1)} MB/s), rss growth ${((peak - before) / MB).toFixed(0)} MB`,
    );
    expect(report.files[0]!.records).toBe(lines);
    expect(report.totals.byType).toEqual({ email: Math.ceil(lines / 1000) });
    expect(peak - before).toBeLessThan(150 * MB);
  });
});
