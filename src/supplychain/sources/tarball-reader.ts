import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { PackageContents, PackageFile } from '../npm-types.js';
import { ArchiveError, RATIO_FLOOR_BYTES, resolveLimits, type ArchiveLimits } from './archive-limits.js';
import { checkEntryPath, linkEscapes, stripTopDir } from './entry-path.js';
import { parseManifest } from './manifest.js';

/** Options of {@link readTarball}. */
export interface ReadTarballOptions {
  /** Where the bytes came from (file path or URL), used in errors, notes and `origin.location`. */
  location: string;
  limits?: Partial<ArchiveLimits>;
}

interface Collected {
  files: Map<string, { bytes: Buffer; executable: boolean }>;
  notes: string[];
}

/**
 * Reads an npm package tarball (gzip of tar) into memory without writing anything to disk. The single top
 * directory (`package/` usually) is stripped; unsafe entry names, limits exceeded, corrupt data and a missing or
 * invalid package.json raise an {@link ArchiveError}; links are never followed, only listed in `notes`.
 *
 * @example
 * const pkg = await readTarball(await readFile('left-pad-1.3.0.tgz'), { location: 'left-pad-1.3.0.tgz' });
 * pkg.files.map((f) => f.path); // ['index.js', 'package.json', …]
 */
export async function readTarball(bytes: Uint8Array, opts: ReadTarballOptions): Promise<PackageContents> {
  const limits = resolveLimits(opts.limits);
  const { location } = opts;
  const collected = await extractAll(bytes, location, limits);
  const pkgJson = collected.files.get('package.json');
  const { name, version, manifest } = parseManifest(location, pkgJson?.bytes);
  const files: PackageFile[] = [...collected.files.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, f]) => ({ path, size: f.bytes.length, executable: f.executable, read: () => f.bytes }));
  return { name, version, manifest, files, origin: { kind: 'tarball', location }, notes: collected.notes };
}

/** Streams gunzip → tar, enforcing the limits as bytes arrive so a bomb is stopped early. */
function extractAll(bytes: Uint8Array, location: string, limits: ArchiveLimits): Promise<Collected> {
  const collected: Collected = { files: new Map(), notes: [] };
  const tops = new Set<string>();
  const gunzip = createGunzip();
  // allowUnknownFormat: old npm packages were packed as pre-POSIX tar; the header checksum is still verified.
  // tar-stream's own typings omit this (documented) option.
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  let unpacked = 0;
  let entries = 0;
  let settled = false;

  return new Promise<Collected>((resolve, reject) => {
    const fail = (err: unknown, entry?: string): void => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      extract.destroy();
      if (err instanceof ArchiveError) reject(err);
      else {
        const reason = err instanceof Error ? err.message : String(err);
        const where = entry === undefined ? '' : ` at entry ${JSON.stringify(entry)}`;
        reject(
          new ArchiveError(location, `${location}: corrupt or truncated archive${where} (${reason})`, {
            cause: err,
          }),
        );
      }
    };
    const refuse = (entry: string, why: string): void =>
      fail(new ArchiveError(location, `${location}: entry ${JSON.stringify(entry)} ${why}`, { entry }));

    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      unpacked += chunk.length;
      if (unpacked > limits.maxTotalBytes) {
        fail(new ArchiveError(location, `${location}: unpacks to more than ${limits.maxTotalBytes} bytes`));
        return;
      }
      if (unpacked > RATIO_FLOOR_BYTES && unpacked / Math.max(bytes.byteLength, 1) > limits.maxRatio) {
        fail(
          new ArchiveError(
            location,
            `${location}: compression ratio above ${limits.maxRatio} (${bytes.byteLength} bytes unpack to more than ${unpacked}); refused as a possible decompression bomb`,
          ),
        );
        return;
      }
      if (!extract.write(chunk)) gunzip.pause();
    });
    extract.on('drain', () => gunzip.resume());
    gunzip.on('end', () => {
      if (!settled) extract.end(undefined);
    });
    gunzip.on('error', (err) => fail(err));
    extract.on('error', (err) => fail(err));
    extract.on('finish', () => {
      if (settled) return;
      if (tops.size > 1) {
        collected.notes.push(
          `archive has several top directories (${[...tops].sort().join(', ')}); all were stripped`,
        );
      }
      settled = true;
      resolve(collected);
    });

    extract.on('entry', (header, stream, next) => {
      const rawName = header.name;
      // An entry stream errors when the archive ends inside it; without a listener that would be unhandled.
      stream.on('error', (err) => fail(err, rawName));
      if (settled) return;
      entries += 1;
      if (entries > limits.maxEntries) {
        refuse(rawName, `is past the limit of ${limits.maxEntries} entries`);
        return;
      }
      const checked = checkEntryPath(rawName);
      if (!checked.ok) {
        refuse(rawName, `is refused: its path ${checked.reason}`);
        return;
      }
      const { top, rest } = stripTopDir(checked.full);
      if (top !== '') tops.add(top);
      const type = header.type ?? 'file';
      const skip = (note: string | null): void => {
        if (note !== null) collected.notes.push(note);
        stream.on('end', () => next());
        stream.resume();
      };
      if (type === 'directory') return skip(null);
      if (type === 'symlink' || type === 'link') {
        const target = header.linkname ?? '';
        const kind = type === 'symlink' ? 'symlink' : 'hard link';
        // A hard link's target is an archive path (with the top directory); a symlink's is relative to the link.
        const escapes = type === 'symlink' ? linkEscapes(rest, target) : !checkEntryPath(target).ok;
        const label = rest === '' ? checked.full : rest;
        return skip(
          `${kind} ${label} -> ${target} was not followed${escapes ? ' (its target escapes the package)' : ''}`,
        );
      }
      if (type !== 'file' && type !== 'contiguous-file') {
        return skip(`${type} entry ${checked.full} was skipped (not a regular file)`);
      }
      if (rest === '') {
        return skip(`file ${checked.full} sits outside the package's top directory and was skipped`);
      }
      const declared = header.size ?? 0;
      if (declared > limits.maxFileBytes) {
        refuse(rawName, `is ${declared} bytes, above the limit of ${limits.maxFileBytes} bytes per file`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (data) => {
        const chunk = data as Buffer;
        size += chunk.length;
        if (size > limits.maxFileBytes) {
          refuse(rawName, `is above the limit of ${limits.maxFileBytes} bytes per file`);
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (settled) return;
        if (collected.files.has(rest))
          collected.notes.push(`duplicate entry ${rest}: the last copy was kept`);
        collected.files.set(rest, {
          bytes: Buffer.concat(chunks),
          executable: ((header.mode ?? 0) & 0o111) !== 0,
        });
        next();
      });
    });

    gunzip.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}
