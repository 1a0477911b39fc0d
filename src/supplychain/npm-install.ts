/**
 * `keyward npm install`: before anything is installed, works out what the install would add or change and
 * analyses exactly those packages.
 *
 * 1. package.json, the lockfile and .npmrc are copied into a temporary directory, and
 *    `npm install --package-lock-only --ignore-scripts <args>` resolves the new tree there: nothing is
 *    downloaded into the project and no script runs.
 * 2. The new lockfile is compared with the current one: every name@version that is new is fetched from the
 *    registry (its integrity checked against the new lockfile) and analysed.
 * 3. The caller runs the real install only when no package reaches the failure level and every new package
 *    could be analysed (fail closed: a package that could not be fetched or is not from a registry blocks the
 *    install unless the user allows unverified packages).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ValidationError } from '../core/errors.js';
import { parseLockfile } from './lockfiles/index.js';
import type { AnalyseContext, PackageVerdict } from './npm-analyse.js';
import { analyseFromRegistry, mapLimit } from './npm-gate-service.js';
import { makeReport, type NpmScanReport } from './npm-report.js';
import type { LockPackage } from './npm-types.js';
import type { RegistryClient } from './sources/index.js';

const run = promisify(execFile);

/** Files copied into the resolution directory when the project has them. */
const PROJECT_FILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc'];

/** What the install would change. */
export interface InstallPlan {
  /** Packages (name@version) the install adds or moves to a new version. */
  changed: LockPackage[];
  /** Packages the install removes. */
  removed: string[];
}

/** What analysing an install plan found; the caller decides (after suppressions) whether to install. */
export interface InstallAnalysis {
  plan: InstallPlan;
  report: NpmScanReport;
  /** New packages that could not be analysed (fetch failed, git/url/file sources): they block unless allowed. */
  unverified: { package: string; reason: string }[];
}

function lockOf(dir: string): LockPackage[] {
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    const file = join(dir, name);
    if (existsSync(file)) return parseLockfile(name, readFileSync(file, 'utf8')).packages;
  }
  return [];
}

/**
 * Resolves the install in a temporary copy and returns what it would change.
 * @example
 * const plan = await planInstall(['left-pad@1.3.0'], { cwd: process.cwd(), env: process.env });
 */
export async function planInstall(
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; npm?: string; timeoutMs?: number },
): Promise<InstallPlan> {
  const manifestPath = join(opts.cwd, 'package.json');
  if (!existsSync(manifestPath))
    throw new ValidationError(
      `${opts.cwd} has no package.json; run keyward npm install in a project directory`,
      {
        details: [{ path: manifestPath, message: 'missing' }],
      },
    );
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError(`${manifestPath}: not JSON (${(err as Error).message})`);
  }
  if (manifest.workspaces !== undefined)
    throw new ValidationError(
      `${manifestPath} declares workspaces; keyward npm install resolves single-package projects only. ` +
        'Scan the resolved lockfile with keyward npm scan --fetch instead.',
      { details: [{ path: `${manifestPath}:workspaces`, message: 'workspaces are not supported' }] },
    );
  const before = lockOf(opts.cwd);
  const tmp = mkdtempSync(join(tmpdir(), 'keyward-npm-plan-'));
  try {
    for (const name of PROJECT_FILES)
      if (existsSync(join(opts.cwd, name))) copyFileSync(join(opts.cwd, name), join(tmp, name));
    try {
      await run(
        opts.npm ?? 'npm',
        [
          'install',
          '--package-lock-only',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
          ...args,
        ],
        {
          cwd: tmp,
          env: { ...opts.env, npm_config_ignore_scripts: 'true' },
          timeout: opts.timeoutMs ?? 300_000,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
    } catch (err) {
      const e = err as { stderr?: string; code?: number | string; killed?: boolean };
      const detail = (e.stderr ?? '').trim().split('\n').slice(-6).join('\n');
      throw new ValidationError(
        e.killed
          ? 'npm did not finish resolving the install in time'
          : `npm could not resolve the install (exit ${String(e.code ?? '?')})${detail ? `:\n${detail}` : ''}`,
      );
    }
    const after = lockOf(tmp);
    const had = new Set(before.map((p) => `${p.name}@${p.version}`));
    const has = new Set(after.map((p) => `${p.name}@${p.version}`));
    const changed = new Map<string, LockPackage>();
    for (const p of after) {
      if (p.source === 'workspace' || p.source === 'link' || p.path === '') continue;
      const key = `${p.name}@${p.version}`;
      if (!had.has(key) && !changed.has(key)) changed.set(key, p);
    }
    const removed = [...had].filter((k) => !has.has(k)).sort();
    return { changed: [...changed.values()].sort((a, b) => a.name.localeCompare(b.name)), removed };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Fetches and analyses every package the plan adds (integrity checked against the new lockfile). */
export async function analyseInstallPlan(
  plan: InstallPlan,
  opts: { registry: RegistryClient; ctx: AnalyseContext; concurrency?: number },
): Promise<InstallAnalysis> {
  const started = performance.now();
  const unverified: InstallAnalysis['unverified'] = [];
  const errors: NpmScanReport['errors'] = [];
  const verdicts = await mapLimit(plan.changed, opts.concurrency ?? 8, async (p) => {
    const id = `${p.name}@${p.version}`;
    if (p.source !== 'registry') {
      unverified.push({
        package: id,
        reason: `comes from a ${p.source} source (${p.resolved ?? 'unknown'}), not the registry`,
      });
      return null;
    }
    try {
      return await analyseFromRegistry(p.name, p.version, opts.registry, opts.ctx, p);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      unverified.push({ package: id, reason });
      errors.push({ input: id, message: reason });
      return null;
    }
  });
  const packages = verdicts.filter((v): v is PackageVerdict => v !== null);
  const report = makeReport(
    packages,
    [{ path: 'npm install', kind: 'install-plan', packages: packages.length }],
    errors,
    started,
  );
  return { plan, report, unverified };
}
