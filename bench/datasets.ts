/**
 * Dataset hashing benchmark: generates a dataset of mixed file sizes (default 2 GB; kept with --dir), hashes it
 * with Keyward's dataset hasher (one worker, then two) and with `sha256sum` on the same files in the same run,
 * and prints throughput of each with the targets: at least 90% of sha256sum's single-core throughput with one
 * worker, and faster than it with two.
 *
 *   npm run bench:datasets                        # 2 GB in a temporary directory, removed afterwards
 *   npm run bench:datasets -- --gb 0.5 --dir /tmp/ds  # keep (and next time reuse) the dataset
 *   npm run bench:datasets -- --json
 *
 * Every run reads the same files; the first pass warms the page cache so that all three measure hashing, not
 * the disk (the dataset must fit in memory for that: 2 GB does on the 24 GB machines here).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashFiles } from '../src/datasets/dataset-hash.js';

const run = promisify(execFile);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const gb = Number(arg('gb') ?? 2);
const keep = arg('dir');
const json = process.argv.includes('--json');
const dir = keep ?? mkdtempSync(join(tmpdir(), 'kw-bench-ds-'));
const STAMP = join(dir, '.bench-dataset');

/** Sizes from 4 KiB to 64 MiB, log-uniform, seeded, until the total is reached. */
function generate(totalBytes: number): void {
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === String(totalBytes)) return;
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(STAMP))
    throw new Error(`${dir} is not empty and holds no benchmark dataset; choose another --dir`);
  mkdirSync(join(dir, 'data'), { recursive: true });
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const block = randomBytes(4 * 1024 * 1024);
  let written = 0;
  for (let i = 0; written < totalBytes; i++) {
    const size = Math.min(totalBytes - written, Math.round(Math.exp(Math.log(4096) + rand() * (Math.log(64 * 2 ** 20) - Math.log(4096)))));
    const sub = join(dir, 'data', String(i % 64).padStart(2, '0'));
    mkdirSync(sub, { recursive: true });
    const fd = openSync(join(sub, `part-${String(i).padStart(5, '0')}.bin`), 'w');
    for (let left = size; left > 0; ) {
      const n = Math.min(left, block.length);
      const k = (i + left) % block.length;
      block.writeUInt8(block.readUInt8(k) ^ 0xff, k); // every file differs
      writeSync(fd, block, 0, n);
      left -= n;
    }
    closeSync(fd);
    written += size;
  }
  const fd = openSync(STAMP, 'w');
  writeSync(fd, String(totalBytes));
  closeSync(fd);
}

function listFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(join(dir, 'data'));
  return out;
}

const total = Math.round(gb * 1e9);
generate(total);
const files = listFiles();
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);

async function sha256sum(): Promise<number> {
  const t0 = performance.now();
  // One process over every file: sha256sum is single-threaded.
  for (let i = 0; i < files.length; i += 500)
    await run('sha256sum', files.slice(i, i + 500), { maxBuffer: 64 * 1024 * 1024 });
  return (performance.now() - t0) / 1000;
}

async function keyward(workers: number): Promise<number> {
  const t0 = performance.now();
  await hashFiles(files, { workers });
  return (performance.now() - t0) / 1000;
}

await sha256sum(); // warm the page cache
const rounds = 3;
const best = async (f: () => Promise<number>): Promise<number> => {
  let b = Infinity;
  for (let i = 0; i < rounds; i++) b = Math.min(b, await f());
  return b;
};
const tSum = await best(sha256sum);
const t1 = await best(() => keyward(1));
const t2 = await best(() => keyward(2));
const mbps = (s: number): number => +(bytes / 1e6 / s).toFixed(0);
const figures = {
  dir,
  files: files.length,
  megabytes: Math.round(bytes / 1e6),
  sha256sumMBps: mbps(tSum),
  keywardOneWorkerMBps: mbps(t1),
  keywardTwoWorkersMBps: mbps(t2),
  oneWorkerVsSha256sum: +(tSum / t1).toFixed(3),
  twoWorkersVsSha256sum: +(tSum / t2).toFixed(3),
  targets: 'one worker >= 0.90 of sha256sum; two workers > 1.00',
};
if (!keep) rmSync(dir, { recursive: true, force: true });
if (json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
else
  process.stdout.write(
    [
      `dataset hashing: ${figures.files} files, ${figures.megabytes} MB (best of ${rounds}, page cache warm)`,
      `  sha256sum           ${figures.sha256sumMBps} MB/s`,
      `  keyward, 1 worker   ${figures.keywardOneWorkerMBps} MB/s  (${figures.oneWorkerVsSha256sum}× sha256sum; target ≥ 0.90: ${figures.oneWorkerVsSha256sum >= 0.9 ? 'met' : 'NOT met'})`,
      `  keyward, 2 workers  ${figures.keywardTwoWorkersMBps} MB/s  (${figures.twoWorkersVsSha256sum}× sha256sum; target > 1: ${figures.twoWorkersVsSha256sum > 1 ? 'met' : 'NOT met'})`,
      '',
    ].join('\n'),
  );
