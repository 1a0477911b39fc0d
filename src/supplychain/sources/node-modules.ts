import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../../core/errors.js';

/** A package.json larger than this is not a real manifest; it is skipped with a warning. */
const MAX_PACKAGE_JSON_BYTES = 16 * 1024 * 1024;

/** One installed package found by {@link findPackageDirs}. */
export interface InstalledPackage {
  /** The directory as first reached from the root (it may be a symlink, as pnpm and `npm link` make). */
  dir: string;
  name: string;
  version: string;
}

/** What {@link findPackageDirs} found: packages, and directories that looked like packages but were not. */
export interface InstalledTree {
  packages: InstalledPackage[];
  /** One sentence per directory skipped (no package.json, invalid JSON, broken symlink). */
  warnings: string[];
}

/**
 * Lists every package installed in a `node_modules` tree (or in the `node_modules` of a project directory):
 * scoped packages, nested `node_modules` inside packages, and pnpm's `.pnpm/<id>/node_modules/<name>` store.
 * Packages reached twice (symlinks, pnpm) are listed once, by real path. Nothing is executed.
 *
 * @example
 * const { packages, warnings } = findPackageDirs('.');
 * packages.map((p) => `${p.name}@${p.version}`);
 */
export function findPackageDirs(root: string): InstalledTree {
  const nodeModules =
    path.basename(path.resolve(root)) === 'node_modules' ? root : path.join(root, 'node_modules');
  if (!isDir(nodeModules)) {
    throw new ValidationError(`${root}: no node_modules directory here`, {
      details: [{ path: root, message: 'expected a node_modules directory or a project containing one' }],
    });
  }
  const packages: InstalledPackage[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();

  const visitPackage = (dir: string): void => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      warnings.push(`${dir}: broken symlink, skipped`);
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    if (!isDir(real)) return;
    const found = readPackageJson(dir);
    if (typeof found === 'string') warnings.push(found);
    else packages.push({ dir, ...found });
    const nested = path.join(dir, 'node_modules');
    if (isDir(nested)) walkNodeModules(nested);
  };

  const walkNodeModules = (nm: string): void => {
    const names = listDir(nm);
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const child = path.join(nm, name);
      if (name.startsWith('@')) {
        if (!isDir(child)) continue;
        for (const scoped of listDir(child)) {
          if (!scoped.startsWith('.')) visitPackage(path.join(child, scoped));
        }
      } else {
        visitPackage(child);
      }
    }
    // pnpm keeps the real packages in .pnpm/<id>/node_modules/; the top-level entries are symlinks into it.
    const store = path.join(nm, '.pnpm');
    if (names.includes('.pnpm') && isDir(store)) {
      for (const id of listDir(store)) {
        const inner = path.join(store, id, 'node_modules');
        if (!id.startsWith('.') && id !== 'node_modules' && isDir(inner)) walkNodeModules(inner);
      }
    }
  };

  walkNodeModules(nodeModules);
  return { packages, warnings };
}

function readPackageJson(dir: string): { name: string; version: string } | string {
  const file = path.join(dir, 'package.json');
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return `${dir}: no package.json, skipped`;
    if (st.size > MAX_PACKAGE_JSON_BYTES)
      return `${file}: larger than ${MAX_PACKAGE_JSON_BYTES} bytes, skipped`;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `${dir}: no package.json, skipped`
      : `${file}: cannot be read (${code ?? 'error'}), skipped`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return `${file}: not valid JSON, skipped`;
  }
  const obj = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  const { name, version } = obj;
  if (typeof name !== 'string' || name === '' || typeof version !== 'string' || version === '') {
    return `${file}: no "name" and "version" strings, skipped`;
  }
  return { name, version };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
