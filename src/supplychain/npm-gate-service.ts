/**
 * Runs the gate over what a user points it at: lockfiles, installed trees, package directories, directories of
 * packages, tarballs, and packages fetched from the registry. One bad input (a hostile archive, an unreadable
 * package) is reported in `errors` and never stops the others.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { LOCKFILE_NAMES, parseLockfile } from './lockfiles/index.js';
import { analyseLockEntry, analysePackage, type AnalyseContext, type PackageVerdict } from './npm-analyse.js';
import { makeReport, type NpmScanReport, type ScannedInput } from './npm-report.js';
import type { LockPackage, PackageContents } from './npm-types.js';
import {
  classifyInput,
  findPackageDirs,
  readPackageDir,
  readTarball,
  type RegistryClient,
} from './sources/index.js';

/** What a scan needs. */
export interface NpmScanOptions {
  ctx: AnalyseContext;
  /** For lockfiles: fetch every registry package's tarball and analyse its code (needs `registry`). */
  fetch?: boolean;
  registry?: RegistryClient;
  /** How paths are shown (relative to this directory when inside it). */
  cwd?: string;
  /** Parallel registry fetches (default 8). */
  concurrency?: number;
}

function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `work` over `items` with at most `limit` at once, keeping the input order in the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  });
  await Promise.all(runners);
  return out;
}

/** The lock entries to analyse: one per name@version (npm lockfiles list a version once per install path). */
function uniqueEntries(entries: readonly LockPackage[]): LockPackage[] {
  const seen = new Map<string, LockPackage>();
  for (const e of entries) {
    if (e.source === 'workspace' || e.source === 'link') continue;
    const key = `${e.name}@${e.version}`;
    if (!seen.has(key)) seen.set(key, e);
  }
  return [...seen.values()];
}

/** Analyses a package fetched from the registry, comparing its tarball with the published manifest. */
export async function analyseFromRegistry(
  name: string,
  version: string,
  registry: RegistryClient,
  ctx: AnalyseContext,
  lockEntry?: LockPackage,
): Promise<PackageVerdict> {
  const fetched = await registry.fetchTarball(name, version);
  if (lockEntry?.integrity && fetched.integrity && !sameIntegrity(lockEntry.integrity, fetched.integrity))
    throw new ValidationError(
      `${name}@${version}: the registry's integrity ${fetched.integrity.slice(0, 20)}… differs from the lockfile's ${lockEntry.integrity.slice(0, 20)}…`,
    );
  return analysePackage(fetched.contents, ctx, {
    published: fetched.published,
    ...(lockEntry ? { lockEntry } : {}),
  });
}

/** Two SRI strings disagree only when they hold different digests for the same algorithm. */
export function sameIntegrity(a: string, b: string): boolean {
  const parse = (s: string): Map<string, string> =>
    new Map(
      s
        .split(/\s+/)
        .filter(Boolean)
        .map((x) => [x.slice(0, x.indexOf('-')), x]),
    );
  const right = parse(b);
  for (const [alg, digest] of parse(a)) {
    const other = right.get(alg);
    if (other !== undefined && other !== digest) return false;
  }
  return true;
}

/**
 * Scans paths. Each path is classified (lockfile, node_modules tree, project, package directory, directory of
 * packages, tarball) and analysed accordingly.
 * @example
 * const report = await scanNpmInputs(['package-lock.json', 'node_modules'], { ctx });
 */
export async function scanNpmInputs(paths: readonly string[], opts: NpmScanOptions): Promise<NpmScanReport> {
  const started = performance.now();
  const cwd = opts.cwd ?? process.cwd();
  const packages: PackageVerdict[] = [];
  const inputs: ScannedInput[] = [];
  const errors: NpmScanReport['errors'] = [];

  const analyseDir = (dir: string, lockByPath?: Map<string, LockPackage>, installPath?: string): void => {
    try {
      const contents = readPackageDir(dir);
      const lockEntry = installPath ? lockByPath?.get(installPath) : undefined;
      packages.push(
        analysePackage(
          withShownLocation(contents, shown(dir, cwd)),
          opts.ctx,
          lockEntry ? { lockEntry } : {},
        ),
      );
    } catch (err) {
      errors.push({ input: shown(dir, cwd), message: message(err) });
    }
  };
  const analyseTarball = async (file: string): Promise<void> => {
    try {
      const contents = await readTarball(readFileSync(file), { location: shown(file, cwd) });
      packages.push(analysePackage(contents, opts.ctx));
    } catch (err) {
      errors.push({ input: shown(file, cwd), message: message(err) });
    }
  };

  const scanLockfile = async (path: string): Promise<void> => {
    const lock = parseLockfile(basename(path), readFileSync(path, 'utf8'));
    const entries = uniqueEntries(lock.packages);
    if (!opts.fetch) {
      for (const e of entries) packages.push(analyseLockEntry(e, shown(path, cwd), opts.ctx));
      return;
    }
    if (!opts.registry) throw new ValidationError('--fetch needs a registry client');
    const registry = opts.registry;
    const verdicts = await mapLimit(entries, opts.concurrency ?? 8, async (e) => {
      if (e.source !== 'registry') return analyseLockEntry(e, shown(path, cwd), opts.ctx);
      try {
        return await analyseFromRegistry(e.name, e.version, registry, opts.ctx, e);
      } catch (err) {
        errors.push({ input: `${e.name}@${e.version}`, message: message(err) });
        return analyseLockEntry(e, shown(path, cwd), opts.ctx);
      }
    });
    packages.push(...verdicts);
  };

  for (const raw of paths) {
    const path = resolve(cwd, raw);
    const kind = classifyInput(path);
    const before = packages.length;
    switch (kind) {
      case 'lockfile':
        await scanLockfile(path);
        break;
      case 'node_modules':
      case 'project': {
        if (kind === 'project' && !existsSync(join(path, 'node_modules'))) {
          // Not installed: the lockfile says what would be.
          const lock = LOCKFILE_NAMES.map((n) => join(path, n)).find((f) => existsSync(f));
          if (lock) await scanLockfile(lock);
          break;
        }
        const root = kind === 'project' ? join(path, 'node_modules') : path;
        const lockByPath = kind === 'project' ? projectLock(path) : undefined;
        const found = findPackageDirs(root);
        for (const w of found.warnings) errors.push({ input: shown(root, cwd), message: w });
        const projectRoot = kind === 'project' ? path : resolve(path, '..');
        for (const p of found.packages) {
          const installPath = relative(projectRoot, p.dir).split('\\').join('/');
          analyseDir(p.dir, lockByPath, installPath);
        }
        break;
      }
      case 'package-dir':
        analyseDir(path);
        break;
      case 'tarball':
        await analyseTarball(path);
        break;
      case 'packages-dir': {
        for (const name of readdirSync(path).sort()) {
          const child = join(path, name);
          const st = statSync(child, { throwIfNoEntry: false });
          if (!st) continue;
          if (st.isDirectory()) {
            const scoped = name.startsWith('@');
            if (scoped) {
              for (const inner of readdirSync(child).sort()) analyseDir(join(child, inner));
            } else analyseDir(child);
          } else if (/\.(tgz|tar\.gz)$/.test(name)) await analyseTarball(child);
        }
        break;
      }
    }
    inputs.push({ path: shown(path, cwd), kind, packages: packages.length - before });
  }
  return makeReport(packages, inputs, errors, started);
}

/** The project's npm lockfile entries by install path, for comparing installed manifests with the lockfile. */
function projectLock(dir: string): Map<string, LockPackage> | undefined {
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    const file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lock = parseLockfile(name, text);
    return new Map(lock.packages.filter((p) => p.path).map((p) => [p.path!, p]));
  }
  return undefined;
}

function withShownLocation(c: PackageContents, location: string): PackageContents {
  return { ...c, origin: { ...c.origin, location } };
}

/** Parses `name@version` (scoped names keep their leading `@`); the version may be a range or a tag. */
export function parsePackageSpec(spec: string): { name: string; range: string } {
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const range = at > 0 ? spec.slice(at + 1) : 'latest';
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name) || name.length > 214 || range === '')
    throw new ValidationError(
      `"${spec}" is not a package spec: write name@version (for example lodash@4.17.21)`,
      {
        details: [{ path: spec, message: 'not name@version' }],
      },
    );
  return { name, range };
}

/** `keyward npm check`: fetches each package from the registry and analyses it without installing. */
export async function checkRegistryPackages(
  specs: readonly string[],
  registry: RegistryClient,
  ctx: AnalyseContext,
  concurrency = 8,
): Promise<NpmScanReport> {
  const started = performance.now();
  const parsed = specs.map(parsePackageSpec);
  const errors: NpmScanReport['errors'] = [];
  const verdicts = await mapLimit(parsed, concurrency, async ({ name, range }) => {
    try {
      const version = await registry.resolve(name, range);
      return await analyseFromRegistry(name, version, registry, ctx);
    } catch (err) {
      errors.push({ input: `${name}@${range}`, message: message(err) });
      return null;
    }
  });
  const packages = verdicts.filter((v): v is PackageVerdict => v !== null);
  return makeReport(
    packages,
    parsed.map((p, i) => ({
      path: `${p.name}@${p.range}`,
      kind: 'registry',
      packages: verdicts[i] ? 1 : 0,
    })),
    errors,
    started,
  );
}
