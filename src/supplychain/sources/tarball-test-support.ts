import { gzipSync, createGzip } from 'node:zlib';
import * as tar from 'tar-stream';

/** One entry for {@link makeTarball}. */
export interface TarballEntry {
  /** Full path inside the archive, top directory included (`package/index.js`). */
  path: string;
  content?: string | Uint8Array;
  /** File mode; defaults to 0o644 for files, 0o755 for directories. */
  mode?: number;
  type?: 'file' | 'symlink' | 'link' | 'directory' | 'fifo' | 'character-device';
  /** Target of a symlink or hard link. */
  linkname?: string;
}

/** Builds a gzip'd tar in memory from entries, in order; for tests of the package readers and analysers. */
export async function makeTarball(entries: TarballEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    await new Promise<void>((resolve, reject) => {
      const header: Parameters<tar.Pack['entry']>[0] = {
        name: e.path,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        mtime: new Date(0),
        ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
      };
      if (body === undefined) pack.entry(header, (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, body, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** The tarball of a minimal valid package `name@version` with the given extra files (paths without `package/`). */
export function makePackageTarball(
  name: string,
  version: string,
  files: Record<string, string> = {},
  manifest: Record<string, unknown> = {},
): Promise<Buffer> {
  return makeTarball([
    { path: 'package/package.json', content: JSON.stringify({ name, version, ...manifest }) },
    ...Object.entries(files).map(([path, content]) => ({ path: `package/${path}`, content })),
  ]);
}

/**
 * A decompression bomb: a package tarball holding `zeroBytes` zeros, split into files of at most `fileBytes`,
 * compressed while streaming so the zeros are never all in memory.
 */
export async function makeZeroBomb(zeroBytes: number, fileBytes = 16 * 1024 * 1024): Promise<Buffer> {
  const pack = tar.pack();
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  (async () => {
    for await (const chunk of pack) {
      if (!gzip.write(chunk as Buffer)) await new Promise((r) => gzip.once('drain', r));
    }
    gzip.end();
  })().catch((err: unknown) => gzip.destroy(err as Error));
  await new Promise<void>((resolve, reject) => {
    pack.entry(
      { name: 'package/package.json', mtime: new Date(0) },
      '{"name":"bomb","version":"1.0.0"}',
      (err) => (err ? reject(err) : resolve()),
    );
  });
  const block = Buffer.alloc(1024 * 1024);
  let left = zeroBytes;
  for (let n = 0; left > 0; n++) {
    const size = Math.min(left, fileBytes);
    left -= size;
    await writeZeros(pack, `package/zeros-${n}.bin`, size, block);
  }
  pack.finalize();
  await finished;
  return Buffer.concat(out);
}

async function writeZeros(pack: tar.Pack, name: string, size: number, block: Buffer): Promise<void> {
  let entryDone: (err?: Error | null) => void = () => undefined;
  const entryFinished = new Promise<void>((resolve, reject) => {
    entryDone = (err) => (err ? reject(err) : resolve());
  });
  const entry = pack.entry({ name, size, mtime: new Date(0) }, (err) => entryDone(err));
  let left = size;
  while (left > 0) {
    const piece = left >= block.length ? block : block.subarray(0, left);
    left -= piece.length;
    if (!entry.write(piece)) await new Promise<void>((r) => entry.once('drain', () => r()));
  }
  entry.end(undefined);
  await entryFinished;
}
