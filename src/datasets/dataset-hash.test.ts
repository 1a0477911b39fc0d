import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { hashFile, hashFiles } from './dataset-hash.js';
import { hashWorkerModule } from './dataset-hash-pool.js';
import { generateSigningKey } from './dataset-keys.js';
import { verifyDataset } from './dataset-verify.js';
import { buildManifest, toStatement } from './manifest.js';
import { envelopeText, signManifest } from './manifest-sign.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let dir: string;
let workerModule: URL;

/** The worker compiled the way the build does (it only imports node built-ins), so the pool runs under vitest. */
function transpileWorker(outDir: string): URL {
  const src = readFileSync(new URL('./dataset-hash-worker.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = join(outDir, 'dataset-hash-worker.mjs');
  writeFileSync(file, js);
  return pathToFileURL(file);
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-hash-'));
  workerModule = transpileWorker(dir);
  mkdirSync(join(dir, 'data'));
  for (let i = 0; i < 600; i++) writeFileSync(join(dir, 'data', `f${i}.txt`), `file ${i}\n`);
  writeFileSync(join(dir, 'data', 'big.bin'), Buffer.alloc(5 * 1024 * 1024 + 17, 7));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile', () => {
  it('returns the size and SHA-256 of the bytes, across several 1 MiB reads', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 17, 7);
    expect(await hashFile(join(dir, 'data', 'big.bin'))).toEqual({ size: big.length, sha256: sha(big) });
    expect(await hashFile(join(dir, 'data', 'f3.txt'))).toEqual({ size: 7, sha256: sha('file 3\n') });
  });

  it('refuses a symbolic link (O_NOFOLLOW) and names the file', async () => {
    const link = join(dir, 'link');
    symlinkSync(join(dir, 'data', 'f1.txt'), link);
    await expect(hashFile(link)).rejects.toThrow(`Cannot read ${link}: it is a symbolic link`);
  });

  it('names a missing file', async () => {
    const err = await hashFile(join(dir, 'nope')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details).toEqual([
      {
        path: join(dir, 'nope'),
        message: 'it no longer exists (removed while the dataset was read?) (ENOENT)',
      },
    ]);
  });

  it.skipIf(isRoot)(
    'names an unreadable file (skipped as root: chmod 000 does not stop root reading)',
    async () => {
      const f = join(dir, 'locked');
      writeFileSync(f, 'x');
      chmodSync(f, 0o000);
      await expect(hashFile(f)).rejects.toThrow(`Cannot read ${f}: permission denied (EACCES)`);
    },
  );
});

describe('hashFiles', () => {
  const paths = () => [
    ...Array.from({ length: 600 }, (_, i) => join(dir, 'data', `f${i}.txt`)),
    join(dir, 'data', 'big.bin'),
  ];

  it('has no compiled worker beside the TypeScript sources, so it hashes on the calling thread there', () => {
    expect(hashWorkerModule()).toBeNull();
  });

  it('gives the same digests, in order, on the calling thread and on 1, 2 or 3 workers', async () => {
    const single = await hashFiles(paths());
    expect(single[5]).toEqual({ size: 7, sha256: sha('file 5\n') });
    expect(single).toHaveLength(601);
    expect(await hashFiles(paths(), { workers: 1, workerModule })).toEqual(single);
    expect(await hashFiles(paths(), { workers: 2, workerModule })).toEqual(single);
    expect(await hashFiles(paths(), { workers: 3, workerModule })).toEqual(single);
  });

  it('reports every byte through onBytes, on workers too', async () => {
    let expected = 0;
    for (let i = 0; i < 600; i++) expected += `file ${i}\n`.length;
    expected += 5 * 1024 * 1024 + 17;
    for (const workers of [0, 2]) {
      let seen = 0;
      await hashFiles(paths(), { workers, workerModule, onBytes: (n) => (seen += n) });
      expect(seen).toBe(expected);
    }
  });

  it('fails the whole call naming the first unreadable file, on workers too', async () => {
    const list = [...paths(), join(dir, 'data', 'gone.txt')];
    for (const workers of [0, 2]) {
      await expect(hashFiles(list, { workers, workerModule })).rejects.toThrow(
        `Cannot read ${join(dir, 'data', 'gone.txt')}: it no longer exists`,
      );
    }
  });

  it('reads files hinted small synchronously, with the same digests and errors (a stale hint is harmless)', async () => {
    const list = paths();
    const hinted = await hashFiles(list, { sizes: list.map(() => 1) });
    expect(hinted).toEqual(await hashFiles(list));
    const link = join(dir, 'data-link');
    symlinkSync(join(dir, 'data', 'f1.txt'), link);
    try {
      await expect(hashFiles([link], { sizes: [7] })).rejects.toThrow(
        `Cannot read ${link}: it is a symbolic link`,
      );
      await expect(hashFiles([join(dir, 'data', 'gone.txt')], { sizes: [7] })).rejects.toThrow(
        'it no longer exists',
      );
    } finally {
      rmSync(link);
    }
  });

  it('builds the same manifest with workers as without', async () => {
    const a = await buildManifest(join(dir, 'data'), { supplier: 'ACME' });
    let last: [number, number] = [0, 0];
    const b = await buildManifest(join(dir, 'data'), {
      supplier: 'ACME',
      workers: 2,
      workerModule,
      onProgress: (d, t) => (last = [d, t]),
    });
    expect(b).toEqual(a);
    expect(last).toEqual([a.totalBytes, a.totalBytes]);
  });

  it('verifies a changed dataset the same way with workers as without', async () => {
    const key = generateSigningKey();
    const env = envelopeText(
      signManifest(toStatement(await buildManifest(join(dir, 'data'), { supplier: 'ACME' })), key.privateKey),
    );
    writeFileSync(join(dir, 'data', 'f7.txt'), 'file 8\n');
    writeFileSync(join(dir, 'data', 'new.txt'), 'new\n');
    try {
      const one = await verifyDataset(join(dir, 'data'), env, { trust: [key.publicKey] });
      const two = await verifyDataset(join(dir, 'data'), env, {
        trust: [key.publicKey],
        workers: 2,
        workerModule,
      });
      expect(one).toMatchObject({
        ok: false,
        signer: key.keyid,
        modified: ['f7.txt'],
        added: ['new.txt'],
        missing: [],
        renamed: [],
      });
      expect(two).toEqual(one);
    } finally {
      writeFileSync(join(dir, 'data', 'f7.txt'), 'file 7\n');
      rmSync(join(dir, 'data', 'new.txt'));
    }
  });
});
