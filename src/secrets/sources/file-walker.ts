/**
 * Walks a directory tree for the secret scanner: honours .gitignore / .keywardignore at every level with git's
 * semantics, never follows symlinks, yields entries one by one in a deterministic (sorted) order, and decodes
 * file contents to text or tells them binary.
 */
import { constants as fsConstants } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { ValidationError } from '../../core/errors.js';
import { decodeScanBuffer } from './scan-decode.js';

export { BINARY_SNIFF_BYTES, MAX_NON_TEXT_RATIO, decodeScanBuffer, isBinaryBuffer } from './scan-decode.js';

/** One entry of a walk: a regular file to scan, or something left out and why. */
export type WalkEntry =
  | { kind: 'file'; /** Relative to the root, `/`-separated. */ path: string; absPath: string; size: number }
  | { kind: 'skipped'; path: string; reason: 'too-large' | 'unreadable' | 'symlink' | 'special' };

/** Options of `walkFiles`. */
export interface WalkOptions {
  /** Files larger than this many bytes are reported as skipped `too-large`. */
  maxFileBytes: number;
  /** Names of the ignore files read in every directory, lowest precedence first. */
  ignoreFileNames?: string[];
  /**
   * Extra gitignore-style patterns relative to the root, as if in one more root ignore file that is checked on
   * its own: a path they ignore is left out whatever the ignore files say; a `!` among them only re-includes
   * what another of them excluded, never what an ignore file excluded.
   */
  exclude?: string[];
}

/** The ignore files read when the caller names none; a later file's patterns win over an earlier one's. */
export const DEFAULT_IGNORE_FILE_NAMES: readonly string[] = ['.gitignore', '.keywardignore'];

/** Compares strings by UTF-16 code units: the same order on every platform and locale. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Escapes a directory name so it is matched literally inside a gitignore pattern. */
function escapeGlob(segment: string): string {
  return segment.replace(/[\\*?[\]]/g, '\\$&').replace(/^[!#]/, '\\$&');
}

/**
 * Rewrites one line of the ignore file in directory `dir` (relative to the root, ending in `/`) into a pattern
 * relative to the root, so every level's patterns can live in one matcher in precedence order. gitignore rules:
 * a pattern with a slash before its end is anchored to its file's directory; otherwise it matches at any depth
 * below it (https://git-scm.com/docs/gitignore#_pattern_format).
 */
export function rebasePattern(line: string, dir: string): string | null {
  if (line.trim() === '' || line.startsWith('#')) return null;
  if (dir === '') return line;
  const negative = line.startsWith('!');
  const body = negative ? line.slice(1) : line;
  // Unescaped trailing spaces are not part of the pattern.
  const trimmed = body.replace(/(?<!\\)\s+$/, '');
  if (trimmed === '' || trimmed === '/') return null;
  const core = trimmed.endsWith('/') ? trimmed.slice(0, -1) : trimmed;
  const prefix = dir
    .split('/')
    .filter((s) => s !== '')
    .map(escapeGlob)
    .join('/');
  let rebased: string;
  if (core.startsWith('/')) rebased = `${prefix}${trimmed}`;
  else if (core.includes('/')) rebased = `${prefix}/${trimmed}`;
  else rebased = `${prefix}/**/${trimmed}`;
  return negative ? `!${rebased}` : rebased;
}

/** Reads the ignore files of one directory (regular files only; unreadable ones count as absent). */
function readIgnoreLines(absDir: string, entries: Dirent[], names: readonly string[]): string[] {
  const lines: string[] = [];
  for (const name of names) {
    const entry = entries.find((e) => e.name === name);
    if (!entry?.isFile()) continue;
    let text: string;
    try {
      text = readFileSync(join(absDir, name), 'utf8');
    } catch {
      continue;
    }
    if (text.startsWith('\uFEFF')) text = text.slice(1);
    lines.push(...text.split(/\r?\n/));
  }
  return lines;
}

/** The verdict of the ignore rules for one path: true when it is left out. */
function isIgnored(relPath: string, isDir: boolean, rules: Ignore | null, exclude: Ignore | null): boolean {
  const probe = isDir ? `${relPath}/` : relPath;
  try {
    return (exclude !== null && exclude.ignores(probe)) || (rules !== null && rules.ignores(probe));
  } catch {
    // `ignore` rejects a few path shapes it cannot judge; scanning too much beats missing a file.
    return false;
  }
}

/**
 * Walks `root` depth-first in sorted order and yields every regular file that the ignore rules keep, and a
 * `skipped` entry for each kept path that is too large, unreadable, a symlink (never followed) or a special
 * file. `.git` is always left out. Ignored paths yield nothing. A root that is a single file (or a symlink
 * the caller named) is yielded as itself, by its base name, without ignore rules: the caller asked for it.
 * Ignore files are read from the root down; those in directories above the root (a repository root above a
 * scanned subdirectory) are not. Matching is case-sensitive, as git's default on Linux.
 * Only one directory listing per level of depth is held at a time.
 * @throws ValidationError when `maxFileBytes` is not a positive integer or `root` does not exist.
 */
export async function* walkFiles(root: string, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  // Every file is stat'ed (the default of `walkTree`), so every file entry has a size.
  for (const entry of walkTree(root, opts)) yield entry as WalkEntry;
}

/** A regular file (by its directory entry) that the walk did not stat: its reader checks its type and size. */
export interface UnstatedFile {
  kind: 'file';
  path: string;
  absPath: string;
  size: null;
}

/**
 * `walkFiles` as a synchronous generator, for a caller that reads the files itself. While `statFiles()` is
 * false, a regular file is yielded unstated (`size: null`) instead of after an `lstat`: its reader opens it
 * anyway and can tell from `fstat` what the walk would have (too large, not a regular file any more), which
 * spares a system call per file. Directory entries say which names are directories, symlinks and special
 * files, so those are skipped or entered as before.
 * @throws ValidationError as `walkFiles`.
 */
export function* walkTree(
  root: string,
  opts: WalkOptions,
  statFiles: () => boolean = () => true,
): Generator<WalkEntry | UnstatedFile> {
  const { maxFileBytes } = opts;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes <= 0) {
    throw new ValidationError(
      `walkFiles: maxFileBytes must be a positive integer, got ${String(maxFileBytes)}`,
      {
        details: [{ path: 'maxFileBytes', message: 'must be a positive integer' }],
      },
    );
  }
  const names = opts.ignoreFileNames ?? DEFAULT_IGNORE_FILE_NAMES;
  const exclude =
    opts.exclude && opts.exclude.length > 0 ? ignore({ ignorecase: false }).add(opts.exclude) : null;

  let rootStat: Stats;
  try {
    rootStat = statSync(root);
  } catch (err) {
    throw new ValidationError(
      `scan root ${root}: does not exist or cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
        details: [{ path: root, message: 'does not exist or cannot be read' }],
      },
    );
  }
  if (!rootStat.isDirectory()) {
    const name = basename(root);
    if (!rootStat.isFile()) yield { kind: 'skipped', path: name, reason: 'special' };
    else if (rootStat.size > maxFileBytes) yield { kind: 'skipped', path: name, reason: 'too-large' };
    else yield { kind: 'file', path: name, absPath: root, size: rootStat.size };
    return;
  }
  // `join(root, name)` without normalising per entry: the root's normalised form, ready for a name.
  const rootPrefix = join(root, 'x').slice(0, -1);
  yield* walkDir(root, rootPrefix, '', null, { names, exclude, maxFileBytes, statFiles });
}

interface WalkContext {
  names: readonly string[];
  exclude: Ignore | null;
  maxFileBytes: number;
  statFiles: () => boolean;
}

/**
 * Walks one directory; `inherited` holds every ancestor's rules, rebased to the root (null: none).
 * `absPrefix` is `join(absDir, name)` less the name: a directory entry's name is one plain segment (never `.`,
 * `..` or with a separator), so appending it gives what `join` would, without normalising the path again.
 */
function* walkDir(
  absDir: string,
  absPrefix: string,
  relDir: string,
  inherited: Ignore | null,
  ctx: WalkContext,
): Generator<WalkEntry | UnstatedFile> {
  let entries: Dirent[];
  try {
    // Synchronous listing and stats: a scan is a batch job, and a directory's listing is one short syscall,
    // far cheaper than the thread-pool round trips of the promise API.
    entries = readdirSync(absDir, { withFileTypes: true });
  } catch {
    if (relDir !== '') yield { kind: 'skipped', path: relDir, reason: 'unreadable' };
    else
      throw new ValidationError(`scan root ${absDir}: cannot be read`, {
        details: [{ path: absDir, message: 'unreadable' }],
      });
    return;
  }
  entries.sort((a, b) => byCodeUnit(a.name, b.name));
  const own = readIgnoreLines(absDir, entries, ctx.names)
    .map((line) => rebasePattern(line, relDir === '' ? '' : `${relDir}/`))
    .filter((p): p is string => p !== null);
  // No matcher while no ignore file has added a pattern (a matcher without rules ignores nothing). Otherwise a
  // fresh matcher per directory shares the compiled rules but keeps its path cache to this directory.
  let rules: Ignore | null = null;
  if (inherited !== null || own.length > 0) {
    rules = ignore({ ignorecase: false });
    if (inherited !== null) rules.add(inherited);
    rules.add(own);
  }
  // The same for --exclude: one matcher for the whole walk would cache every path of the tree.
  const exclude = ctx.exclude === null ? null : ignore({ ignorecase: false }).add(ctx.exclude);

  for (const entry of entries) {
    const name = entry.name;
    if (name === '.git') continue;
    const rel = relDir === '' ? name : `${relDir}/${name}`;
    const abs = absPrefix + name;
    const isDir = entry.isDirectory();
    if ((rules !== null || exclude !== null) && isIgnored(rel, isDir, rules, exclude)) continue;
    if (isDir) {
      yield* walkDir(abs, abs + sep, rel, rules, ctx);
    } else if (entry.isSymbolicLink()) {
      yield { kind: 'skipped', path: rel, reason: 'symlink' };
    } else if (!entry.isFile()) {
      yield { kind: 'skipped', path: rel, reason: 'special' };
    } else if (!ctx.statFiles()) {
      yield { kind: 'file', path: rel, absPath: abs, size: null };
    } else {
      let size: number;
      try {
        // Synchronous: one stat per file, far cheaper than a round trip through libuv's thread pool.
        const st = lstatSync(abs);
        if (!st.isFile()) {
          yield { kind: 'skipped', path: rel, reason: st.isSymbolicLink() ? 'symlink' : 'special' };
          continue;
        }
        size = st.size;
      } catch {
        yield { kind: 'skipped', path: rel, reason: 'unreadable' };
        continue;
      }
      if (size > ctx.maxFileBytes) yield { kind: 'skipped', path: rel, reason: 'too-large' };
      else yield { kind: 'file', path: rel, absPath: abs, size };
    }
  }
}

// O_NOFOLLOW: the path may have been swapped for a symlink since the walk; O_NONBLOCK: or for a FIFO, whose
// open would otherwise wait for a writer. Both are 0 where the platform lacks them.
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/**
 * Reads a walked file and decodes it with `decodeScanBuffer`. Reads at most `size` bytes (the size the walk saw),
 * so a file that grew since is cut there and memory stays within the walk's limit.
 */
export async function readScanText(
  absPath: string,
  size: number,
): Promise<{ text: string } | { skipped: 'binary' | 'unreadable' }> {
  let buf: Buffer;
  try {
    const handle = await open(absPath, OPEN_FLAGS);
    try {
      const st = await handle.stat();
      if (!st.isFile()) return { skipped: 'unreadable' };
      const want = Math.max(0, Math.min(size, st.size));
      buf = Buffer.alloc(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buf, got, want - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      buf = buf.subarray(0, got);
    } finally {
      await handle.close();
    }
  } catch {
    return { skipped: 'unreadable' };
  }
  const text = decodeScanBuffer(buf);
  return text === null ? { skipped: 'binary' } : { text };
}
