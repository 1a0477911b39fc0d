/**
 * pnpm-lock.yaml, lockfileVersion 5.x (`/name/1.2.3_peer@1.0.0`), 6.x (`/name@1.2.3(peer@1.0.0)`) and
 * 9.x (`name@1.2.3` in `packages`; `snapshots`, the peer-resolved copies, only give `optional` and `dev`).
 */
import type { DependencySourceKind, LockPackage, Lockfile } from '../npm-types.js';
import { classifySpec } from './classify-spec.js';
import { isRecord, lockfileError, stringOrNull } from './lockfile-errors.js';
import { markV9Flags } from './pnpm-v9-flags.js';
import { readYamlLockfile } from './yaml-document.js';

/** The pnpm lockfile major versions this reader understands. */
export const PNPM_LOCKFILE_MAJORS = [5, 6, 9] as const;

/**
 * Parses a pnpm-lock.yaml. One package per `packages` key.
 * @throws ValidationError on invalid YAML, an unknown lockfileVersion or a malformed entry.
 */
export function parsePnpmLockfile(file: string, text: string): Lockfile {
  const yaml = readYamlLockfile(file, text, 'pnpm-lock.yaml');
  const rawVersion = yaml.data['lockfileVersion'];
  const major = pnpmMajor(rawVersion);
  if (major === null) {
    const seen =
      rawVersion === undefined
        ? 'lockfileVersion is missing'
        : `lockfileVersion ${JSON.stringify(rawVersion)} is not supported`;
    throw lockfileError(
      file,
      yaml.topLine('lockfileVersion') ?? 1,
      `${seen}; supported pnpm lockfile versions: 5.x, 6.x, 9.x`,
    );
  }
  const packages = yaml.data['packages'];
  const out: LockPackage[] = [];
  if (packages !== undefined && packages !== null) {
    if (!isRecord(packages))
      throw lockfileError(file, yaml.topLine('packages'), '"packages" must be a mapping');
    for (const [key, entry] of Object.entries(packages)) {
      const line = yaml.lineOf('packages', key);
      if (!isRecord(entry)) throw lockfileError(file, line, `package "${key}" must be a mapping`);
      out.push(readEntry(file, line, key, entry, major));
    }
  }
  if (major >= 9) markV9Flags(out, Object.keys(isRecord(packages) ? packages : {}), yaml.data);
  return { format: 'pnpm', root: { name: null, version: null }, packages: out };
}

function pnpmMajor(value: unknown): number | null {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : null;
  if (text === null || !/^\d+(\.\d+)?$/.test(text)) return null;
  const major = Math.floor(Number(text));
  return (PNPM_LOCKFILE_MAJORS as readonly number[]).includes(major) ? major : null;
}

function readEntry(
  file: string,
  line: number | null,
  key: string,
  entry: Record<string, unknown>,
  major: number,
): LockPackage {
  const fromKey = major < 6 ? splitSlashKey(key) : splitAtKey(key);
  const name = entry['name'] ?? fromKey.name;
  const version = entry['version'] ?? fromKey.version;
  if (typeof name !== 'string' || name === '')
    throw lockfileError(file, line, `package "${key}" has no name`);
  if (typeof version !== 'string' || version === '') {
    const what =
      typeof version === 'string'
        ? 'has no version'
        : `has a version that is not a string (${typeof version})`;
    throw lockfileError(file, line, `package "${key}" ${what}`);
  }
  const { resolved, integrity, source } = readResolution(
    file,
    line,
    key,
    entry['resolution'],
    fromKey.version,
  );
  return {
    name,
    version,
    resolved,
    integrity,
    source,
    path: null,
    dev: entry['dev'] === true,
    optional: entry['optional'] === true,
    hasInstallScript: entry['requiresBuild'] === true,
    line,
  };
}

function readResolution(
  file: string,
  line: number | null,
  key: string,
  resolution: unknown,
  keyVersion: string,
): { resolved: string | null; integrity: string | null; source: DependencySourceKind } {
  if (resolution === undefined) return { resolved: null, integrity: null, source: classifySpec(keyVersion) };
  if (!isRecord(resolution))
    throw lockfileError(file, line, `package "${key}" has a "resolution" that is not a mapping`);
  const integrity = stringOrNull(resolution['integrity']);
  const type = resolution['type'];
  if (type === 'git') {
    const repo = stringOrNull(resolution['repo']);
    const commit = stringOrNull(resolution['commit']);
    const resolved = repo === null ? null : commit === null ? repo : `${repo}#${commit}`;
    return { resolved, integrity, source: 'git' };
  }
  if (type === 'directory') {
    return { resolved: stringOrNull(resolution['directory']), integrity, source: 'file' };
  }
  const tarball = stringOrNull(resolution['tarball']);
  if (tarball !== null) return { resolved: tarball, integrity, source: classifySpec(tarball) };
  const keySource = classifySpec(keyVersion);
  return { resolved: keySource === 'registry' ? null : keyVersion, integrity, source: keySource };
}

/** v5: `/name/1.2.3_peer@1.0.0`, `/@s/n/1.0.0`. Non-registry keys (`github.com/u/r/sha`) carry name/version fields. */
function splitSlashKey(key: string): { name: string; version: string } {
  const k = key.startsWith('/') ? key.slice(1) : key;
  const parts = k.split('/');
  const nameParts = k.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameParts).join('/');
  let version = parts.slice(nameParts).join('/');
  const paren = version.indexOf('(');
  if (paren !== -1) version = version.slice(0, paren);
  const underscore = version.indexOf('_');
  if (underscore !== -1) version = version.slice(0, underscore);
  return { name, version };
}

/** v6/v9: `/name@1.2.3(peer@1.0.0)`, `@s/n@1.0.0`, `name@https://…`. */
function splitAtKey(key: string): { name: string; version: string } {
  let k = key.startsWith('/') ? key.slice(1) : key;
  const at = k.indexOf('@', k.startsWith('@') ? 1 : 0);
  if (at === -1) return { name: k, version: '' };
  const name = k.slice(0, at);
  k = k.slice(at + 1);
  // Peer suffixes follow the version: `(react@18.0.0)(…)`. URLs and paths in the version never contain `(`.
  const paren = k.indexOf('(');
  return { name, version: paren === -1 ? k : k.slice(0, paren) };
}
