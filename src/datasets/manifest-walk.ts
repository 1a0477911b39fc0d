/**
 * Lists the regular files of a dataset directory without following symbolic links. Every name must be UTF-8; paths
 * are recorded `/`-separated and in Unicode NFC. Symbolic links, sockets, FIFOs and devices are refused by name:
 * a manifest describes bytes that are in the directory, nothing else.
 */
import { lstatSync, type Dirent } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, dirname } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { compareCodePoints, manifestPathProblem } from './manifest-path.js';

/** One regular file found by the walk. */
export interface WalkedFile {
  /** Manifest path: relative, `/`-separated, NFC. */
  path: string;
  /** Path on disk, as the file system spells it (possibly not NFC). */
  absPath: string;
  /** Size from lstat at walk time (the hash records the bytes actually read). */
  size: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const STAT_BATCH = 1024;

/**
 * Walks `root` and returns its regular files in code-point order of their manifest path.
 * @throws ValidationError naming a symbolic link, special file, non-UTF-8 name, unsafe name or unreadable directory.
 */
export async function walkDataset(root: string): Promise<WalkedFile[]> {
  const rootAbs = resolve(root);
  const rootStat = await lstat(rootAbs).catch((err: unknown) => {
    throw new ValidationError(`Cannot read the dataset directory ${root}: ${(err as Error).message}`, {
      details: [{ path: root, message: 'cannot be read' }],
      cause: err,
    });
  });
  if (!rootStat.isDirectory()) {
    throw new ValidationError(
      `${root} is not a directory${rootStat.isSymbolicLink() ? ' (it is a symbolic link; give the real path)' : ''}`,
      {
        details: [{ path: root, message: 'not a directory' }],
      },
    );
  }
  const files: Array<Omit<WalkedFile, 'size'>> = [];
  const stack: Array<{ abs: string; rel: string }> = [{ abs: rootAbs, rel: '' }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Dirent<Buffer>[];
    try {
      entries = await readdir(dir.abs, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      const where = dir.rel || '.';
      throw new ValidationError(`Cannot list directory ${where} of the dataset: ${(err as Error).message}`, {
        details: [{ path: where, message: 'cannot be listed' }],
        cause: err,
      });
    }
    for (const entry of entries) {
      const name = decodeName(entry.name, dir.rel);
      const abs = join(dir.abs, name);
      const rel = dir.rel === '' ? name.normalize('NFC') : `${dir.rel}/${name.normalize('NFC')}`;
      if (entry.isSymbolicLink()) throw await symlinkError(rootAbs, abs, rel);
      if (entry.isDirectory()) {
        stack.push({ abs, rel });
        continue;
      }
      if (!entry.isFile()) {
        throw new ValidationError(
          `${rel} is not a regular file or directory (a socket, FIFO or device); remove it from the dataset`,
          {
            details: [{ path: rel, message: 'special file refused' }],
          },
        );
      }
      const problem = manifestPathProblem(rel);
      if (problem) {
        throw new ValidationError(
          `File name ${JSON.stringify(rel)} cannot be recorded in a manifest: it ${problem}; rename it`,
          {
            details: [{ path: rel, message: problem }],
          },
        );
      }
      files.push({ path: rel, absPath: abs });
    }
  }
  files.sort((a, b) => compareCodePoints(a.path, b.path));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.path === files[i - 1]!.path) {
      const rel = files[i]!.path;
      throw new ValidationError(
        `Two files are both named ${JSON.stringify(rel)} once normalised to Unicode NFC; rename one of them`,
        {
          details: [{ path: rel, message: 'duplicate after NFC normalisation' }],
        },
      );
    }
  }
  return statAll(files);
}

/** Decodes a directory entry name, refusing bytes that are not UTF-8 (named in hex so the file can be found). */
function decodeName(raw: Buffer, parent: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    const where = parent === '' ? 'the dataset root' : parent;
    throw new ValidationError(
      `A file name in ${where} is not valid UTF-8 (bytes ${raw.toString('hex')}); manifests record UTF-8 names only, rename it`,
      {
        details: [
          {
            path: `${parent === '' ? '' : `${parent}/`}<hex:${raw.toString('hex')}>`,
            message: 'file name is not UTF-8',
          },
        ],
      },
    );
  }
}

async function symlinkError(rootAbs: string, abs: string, rel: string): Promise<ValidationError> {
  const target = await readlink(abs).catch(() => '?');
  const resolved = resolve(dirname(abs), target);
  const back = relative(rootAbs, resolved);
  const outside = back === '..' || back.startsWith(`..${'/'}`) || isAbsolute(back);
  return new ValidationError(
    `${rel} is a symbolic link to ${target}${outside ? ', which points outside the dataset' : ''}; symbolic links are refused (replace it with a copy of the file)`,
    {
      details: [
        { path: rel, message: outside ? 'symbolic link pointing outside the dataset' : 'symbolic link' },
      ],
    },
  );
}

/**
 * Sizes of the files. lstat runs synchronously in slices of STAT_BATCH, yielding to the event loop between slices:
 * a round trip through the libuv pool per file made this the slowest part of walking many small files.
 */
async function statAll(files: Array<Omit<WalkedFile, 'size'>>): Promise<WalkedFile[]> {
  const out: WalkedFile[] = [];
  for (let i = 0; i < files.length; i += STAT_BATCH) {
    if (i > 0) await new Promise<void>((r) => setImmediate(r));
    for (const f of files.slice(i, i + STAT_BATCH)) {
      try {
        out.push({ ...f, size: lstatSync(f.absPath).size });
      } catch (err) {
        throw new ValidationError(`Cannot read ${f.path}: ${(err as Error).message}`, {
          details: [{ path: f.path, message: 'cannot be read' }],
          cause: err,
        });
      }
    }
  }
  return out;
}
