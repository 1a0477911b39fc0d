/**
 * pnpm lockfile v9 no longer writes `dev` and `optional` on `packages`: `optional` sits on `snapshots`, and
 * whether a package is only needed for development follows from walking the graph from the importers.
 */
import type { LockPackage } from '../npm-types.js';
import { isRecord } from './lockfile-errors.js';

const PROD_FIELDS = ['dependencies', 'optionalDependencies'] as const;
const SNAPSHOT_FIELDS = ['dependencies', 'optionalDependencies'] as const;

/**
 * Sets `optional` (every snapshot of the package is optional) and `dev` (reachable from some importer's
 * `devDependencies`, from no importer's `dependencies`/`optionalDependencies`) on v9 packages.
 * @param out - Packages in the order of `keys`.
 * @param keys - The `packages` keys (`name@version`), one per element of `out`.
 * @param data - The whole lockfile (reads `importers` and `snapshots`).
 */
export function markV9Flags(
  out: LockPackage[],
  keys: readonly string[],
  data: Record<string, unknown>,
): void {
  const snapshots = isRecord(data['snapshots']) ? data['snapshots'] : {};
  const optional = new Map<string, boolean>();
  for (const [key, snapshot] of Object.entries(snapshots)) {
    const base = stripPeerSuffix(key);
    const isOptional = isRecord(snapshot) && snapshot['optional'] === true;
    optional.set(base, (optional.get(base) ?? true) && isOptional);
  }
  const prodRoots: string[] = [];
  const devRoots: string[] = [];
  const importers = isRecord(data['importers']) ? data['importers'] : {};
  for (const importer of Object.values(importers)) {
    if (!isRecord(importer)) continue;
    for (const field of PROD_FIELDS) prodRoots.push(...importerRefs(importer[field]));
    devRoots.push(...importerRefs(importer['devDependencies']));
  }
  const prod = reachable(prodRoots, snapshots);
  const dev = reachable(devRoots, snapshots);
  keys.forEach((key, i) => {
    const pkg = out[i];
    if (pkg === undefined) return;
    if (optional.get(key) === true) pkg.optional = true;
    if (dev.has(key) && !prod.has(key)) pkg.dev = true;
  });
}

/** `name@1.0.0(react@18.0.0)(…)` → `name@1.0.0`. */
export function stripPeerSuffix(key: string): string {
  const paren = key.indexOf('(');
  return paren === -1 ? key : key.slice(0, paren);
}

/** Snapshot keys an importer's dependency block points at (`{ name: { specifier, version } }`). */
function importerRefs(block: unknown): string[] {
  if (!isRecord(block)) return [];
  const refs: string[] = [];
  for (const [name, dep] of Object.entries(block)) {
    const version = isRecord(dep) ? dep['version'] : dep;
    if (typeof version === 'string') refs.push(snapshotKey(name, version));
  }
  return refs;
}

/** `react`, `18.0.0(x@1)` → `react@18.0.0(x@1)`; an alias version `lodash@4.17.21` is already a key. */
function snapshotKey(name: string, version: string): string {
  const at = version.indexOf('@', version.startsWith('@') ? 1 : 0);
  const isAlias = at > 0 && !version.slice(0, at).includes('(') && !/^[a-z+]+:/.test(version);
  return isAlias ? version : `${name}@${version}`;
}

/** Base package keys (peer suffix stripped) reachable from `roots` through the snapshots' dependencies. */
function reachable(roots: readonly string[], snapshots: Record<string, unknown>): Set<string> {
  const seen = new Set<string>();
  const bases = new Set<string>();
  const queue = [...roots];
  for (let key = queue.pop(); key !== undefined; key = queue.pop()) {
    if (seen.has(key)) continue;
    seen.add(key);
    bases.add(stripPeerSuffix(key));
    const snapshot = snapshots[key];
    if (!isRecord(snapshot)) continue;
    for (const field of SNAPSHOT_FIELDS) {
      const deps = snapshot[field];
      if (!isRecord(deps)) continue;
      for (const [name, version] of Object.entries(deps)) {
        if (typeof version === 'string') queue.push(snapshotKey(name, version));
      }
    }
  }
  return bases;
}
