import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
} from 'node:fs';
import path from 'node:path';
import type { PackageContents, PackageFile } from '../npm-types.js';
import { ArchiveError, resolveLimits, type ArchiveLimits } from './archive-limits.js';
import { linkEscapes } from './entry-path.js';
import { parseManifest } from './manifest.js';

/** Options of {@link readPackageDir}. */
export interface ReadPackageDirOptions {
  limits?: Partial<ArchiveLimits>;
}

/** Directory names never walked inside a package: installed dependencies and git data. */
const SKIPPED_DIRS = new Set(['node_modules', '.git']);

/**
 * Reads a package directory: lists its files (POSIX, package-relative, sorted) without reading them, skipping
 * nested `node_modules/` and `.git/`; symlinks are never followed, only listed in `notes`. Each file's `read()`
 * opens it on demand, refusing a file that became a symlink or grew past the per-file limit since the walk.
 *
 * @example
 * const pkg = readPackageDir('node_modules/left-pad');
 * pkg.files.find((f) => f.path === 'index.js')?.read();
 */
export function readPackageDir(dir: string, opts: ReadPackageDirOptions = {}): PackageContents {
  const limits = resolveLimits(opts.limits);
  let root: string;
  try {
    // The directory itself may be reached through a symlink (pnpm, npm link); only links inside it are refused.
    root = realpathSync(dir);
    if (!lstatSync(root).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new ArchiveError(dir, `${dir}: not a readable package directory`, { cause: err });
  }
  const files: PackageFile[] = [];
  const notes: string[] = [];
  let entries = 0;
  let total = 0;

  const walk = (abs: string, rel: string): void => {
    const names = readdirSync(abs).sort();
    for (const name of names) {
      const childAbs = path.join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(childAbs);
      if (st.isDirectory() && SKIPPED_DIRS.has(name)) continue;
      entries += 1;
      if (entries > limits.maxEntries) {
        throw new ArchiveError(
          dir,
          `${dir}: entry ${JSON.stringify(childRel)} is past the limit of ${limits.maxEntries} entries`,
          {
            entry: childRel,
          },
        );
      }
      if (st.isSymbolicLink()) {
        const target = readlinkSync(childAbs);
        const escapes = linkEscapes(childRel, target);
        notes.push(
          `symlink ${childRel} -> ${target} was not followed${escapes ? ' (its target escapes the package)' : ''}`,
        );
      } else if (st.isDirectory()) {
        walk(childAbs, childRel);
      } else if (st.isFile()) {
        if (st.size > limits.maxFileBytes) {
          throw new ArchiveError(
            dir,
            `${dir}: file ${JSON.stringify(childRel)} is ${st.size} bytes, above the limit of ${limits.maxFileBytes} bytes per file`,
            { entry: childRel },
          );
        }
        total += st.size;
        if (total > limits.maxTotalBytes) {
          throw new ArchiveError(dir, `${dir}: files add up to more than ${limits.maxTotalBytes} bytes`, {
            entry: childRel,
          });
        }
        files.push({
          path: childRel,
          size: st.size,
          executable: (st.mode & 0o111) !== 0,
          read: () => readNoFollow(dir, childAbs, childRel, limits.maxFileBytes),
        });
      } else {
        notes.push(`${childRel} was skipped (not a regular file, directory or symlink)`);
      }
    }
  };
  try {
    walk(root, '');
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ArchiveError(dir, `${dir}: cannot walk the package directory (${code})`, { cause: err });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const pkgJson = files.find((f) => f.path === 'package.json');
  const { name, version, manifest } = parseManifest(dir, pkgJson?.read());
  return { name, version, manifest, files, origin: { kind: 'directory', location: dir }, notes };
}

/** Reads a file without following a symlink put in its place, and within the per-file limit. */
function readNoFollow(dir: string, abs: string, rel: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    throw new ArchiveError(
      dir,
      `${dir}: cannot read ${JSON.stringify(rel)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        entry: rel,
        cause: err,
      },
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) {
      throw new ArchiveError(
        dir,
        `${dir}: ${JSON.stringify(rel)} changed since it was listed and was not read`,
        {
          entry: rel,
        },
      );
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
