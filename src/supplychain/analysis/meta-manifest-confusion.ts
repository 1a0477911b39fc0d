/**
 * Manifest confusion: the registry's (or lockfile's) view of a package says one thing and the package.json
 * inside the tarball, which is what npm actually installs and runs, says another. A tarball can hide install
 * scripts and dependencies that the registry page and `npm view` never show.
 */
import type { LockPackage, Signal } from '../npm-types.js';
import { metaSignal, stringMap } from './meta-signal.js';

const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall'] as const;
const DEP_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies'] as const;
const MAX_LISTED = 8;

/**
 * Compares the tarball's package.json with another view of the same package (`otherSource`: "the registry
 * metadata", "package-lock.json", …).
 * @example compareManifests(tarballManifest, registryVersionDoc, 'the registry metadata')
 */
export function compareManifests(
  tarball: Record<string, unknown>,
  other: Record<string, unknown>,
  otherSource: string,
): Signal[] {
  const signals: Signal[] = [];
  const push = (severity: 'medium' | 'high', message: string, snippet: string | null): void => {
    signals.push(
      metaSignal({
        ruleId: 'npm.metadata.manifest-confusion',
        kind: 'metadata',
        category: 'manifest-confusion',
        severity,
        message,
        snippet,
      }),
    );
  };

  for (const field of ['name', 'version'] as const) {
    const a = tarball[field];
    const b = other[field];
    if (typeof b === 'string' && a !== b) {
      push(
        'medium',
        `The tarball's package.json says ${field} ${JSON.stringify(a ?? null)} but ${otherSource} says ${JSON.stringify(b)}.`,
        `"${field}": ${JSON.stringify(a ?? null)}`,
      );
    }
  }

  const tarballScripts = stringMap(tarball, 'scripts');
  const otherScripts = stringMap(other, 'scripts');
  for (const hook of INSTALL_HOOKS) {
    const script = tarballScripts.get(hook);
    if (script === undefined) continue;
    const shown = otherScripts.get(hook);
    if (shown === undefined) {
      push(
        'high',
        `The tarball has a "${hook}" script that ${otherSource} does not show: an install script hidden from review.`,
        `${hook}: ${script}`,
      );
    } else if (shown !== script) {
      push(
        'high',
        `The tarball's "${hook}" script differs from the one ${otherSource} shows.`,
        `${hook}: ${script}`,
      );
    }
  }

  const tarballDeps = allDeps(tarball);
  const otherDeps = allDeps(other);
  const added = [...tarballDeps.keys()].filter((d) => !otherDeps.has(d));
  const removed = [...otherDeps.keys()].filter((d) => !tarballDeps.has(d));
  const changed = [...tarballDeps.keys()].filter(
    (d) => otherDeps.has(d) && otherDeps.get(d) !== tarballDeps.get(d),
  );
  if (added.length > 0) {
    push(
      'high',
      `The tarball depends on ${list(added)}, which ${otherSource} does not list: dependencies hidden from review.`,
      added.map((d) => `${d}@${tarballDeps.get(d) ?? ''}`).join(', '),
    );
  }
  if (removed.length > 0) {
    push(
      'medium',
      `${capitalise(otherSource)} lists ${list(removed)} as dependencies, which the tarball's package.json does not.`,
      removed.join(', '),
    );
  }
  if (changed.length > 0) {
    push(
      'medium',
      `The tarball asks for other versions of ${list(changed)} than ${otherSource} shows.`,
      changed.map((d) => `${d}@${tarballDeps.get(d) ?? ''}`).join(', '),
    );
  }
  return signals;
}

/**
 * Compares the tarball's package.json with its lockfile entry: install scripts the lockfile does not know
 * about (`hasInstallScript` false) are high, another version is medium.
 */
export function compareWithLock(tarball: Record<string, unknown>, lock: LockPackage): Signal[] {
  const signals: Signal[] = [];
  const scripts = stringMap(tarball, 'scripts');
  const present = INSTALL_HOOKS.filter((h) => scripts.has(h));
  if (!lock.hasInstallScript && present.length > 0) {
    signals.push(
      metaSignal({
        ruleId: 'npm.metadata.manifest-confusion',
        kind: 'metadata',
        category: 'manifest-confusion',
        severity: 'high',
        message: `The lockfile records no install script for ${lock.name}@${lock.version}, but the tarball has ${present.map((h) => `"${h}"`).join(', ')}: the package changed after locking or its metadata hides the script.`,
        snippet: present.map((h) => `${h}: ${scripts.get(h) ?? ''}`).join('; '),
      }),
    );
  }
  const version = tarball['version'];
  if (typeof version === 'string' && version !== lock.version) {
    signals.push(
      metaSignal({
        ruleId: 'npm.metadata.manifest-confusion',
        kind: 'metadata',
        category: 'manifest-confusion',
        severity: 'medium',
        message: `The lockfile pins ${lock.name}@${lock.version} but the tarball's package.json says version ${version}.`,
        snippet: `"version": "${version}"`,
      }),
    );
  }
  return signals;
}

function allDeps(manifest: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const field of DEP_FIELDS)
    for (const [k, v] of stringMap(manifest, field)) if (!out.has(k)) out.set(k, v);
  return out;
}

function list(names: string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
