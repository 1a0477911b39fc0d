import { readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../../core/errors.js';
import { isLockfileName, LOCKFILE_NAMES } from '../lockfiles/index.js';

/** What a path given to the npm gate is. */
export type InputKind = 'lockfile' | 'node_modules' | 'package-dir' | 'tarball' | 'packages-dir' | 'project';

/** True for a file name ending in `.tgz` or `.tar.gz`. */
export function isTarballName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith('.tgz') || lower.endsWith('.tar.gz');
}

/**
 * Says what kind of input a path is, by name and layout only (nothing is parsed): a lockfile, a tarball, a
 * `node_modules` directory, a project (package.json and node_modules), a package directory, or a directory of
 * packages and tarballs. Anything else, or a missing path, is a {@link ValidationError} naming the path.
 *
 * @example
 * classifyInput('package-lock.json'); // 'lockfile'
 */
export function classifyInput(input: string): InputKind {
  const st = statOrNull(input);
  if (st === null) throw refuse(input, 'does not exist');
  const base = path.basename(path.resolve(input));
  if (st.isFile()) {
    if (isLockfileName(base)) return 'lockfile';
    if (isTarballName(base)) return 'tarball';
    throw refuse(input, `is not a lockfile (${LOCKFILE_NAMES.join(', ')}) or a .tgz/.tar.gz package`);
  }
  if (!st.isDirectory()) throw refuse(input, 'is neither a file nor a directory');
  if (base === 'node_modules') return 'node_modules';
  const hasPackageJson = statOrNull(path.join(input, 'package.json'))?.isFile() === true;
  if (hasPackageJson) {
    // A project: its installed tree or its lockfile is what gets analysed, not its own code.
    const installed = statOrNull(path.join(input, 'node_modules'))?.isDirectory() === true;
    const locked = LOCKFILE_NAMES.some((n) => statOrNull(path.join(input, n))?.isFile() === true);
    return installed || locked ? 'project' : 'package-dir';
  }
  let children: string[];
  try {
    children = readdirSync(input).filter((n) => !n.startsWith('.'));
  } catch (err) {
    throw refuse(input, `cannot be listed (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const isPackageDir = (dir: string): boolean =>
    statOrNull(path.join(dir, 'package.json'))?.isFile() === true;
  // Directories must all be packages (or @scope folders of packages); other files (a README) are ignored.
  let packages = 0;
  let strangers = 0;
  for (const name of children) {
    const full = path.join(input, name);
    const child = statOrNull(full);
    if (child?.isFile() === true) {
      if (isTarballName(name)) packages++;
    } else if (child?.isDirectory() === true) {
      if (isPackageDir(full)) packages++;
      else if (name.startsWith('@') && listOrEmpty(full).some((n) => isPackageDir(path.join(full, n))))
        packages++;
      else strangers++;
    }
  }
  if (packages > 0 && strangers === 0) return 'packages-dir';
  throw refuse(
    input,
    'is not a lockfile, a tarball, a node_modules directory, a package or project directory, or a directory of packages',
  );
}

function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function refuse(input: string, why: string): ValidationError {
  return new ValidationError(`${input}: ${why}`, { details: [{ path: input, message: why }] });
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
