/**
 * yarn.lock of yarn berry (v2+): YAML with a `__metadata` block. Keys list descriptors
 * (`"a@npm:^1.0.0, a@npm:^1.1.0"`); `resolution` is the locator actually installed (`a@npm:1.2.3`).
 */
import type { DependencySourceKind, LockPackage, Lockfile } from '../npm-types.js';
import { classifySpec } from './classify-spec.js';
import { requireVersion, isRecord, lockfileError } from './lockfile-errors.js';
import { splitDescriptor } from './yarn-descriptor.js';
import { readYamlLockfile } from './yaml-document.js';

/** The `__metadata.version` values this reader understands (yarn 2 wrote 4, yarn 3 wrote 5–6, yarn 4 writes 8). */
export const YARN_BERRY_METADATA_VERSIONS = [4, 5, 6, 7, 8] as const;

/**
 * Parses a yarn berry lockfile. One package per entry; the project's own `workspace:.` entry becomes `root`.
 *
 * `checksum` is not reported as `integrity`: it hashes yarn's zip archive, not the registry tarball.
 * @throws ValidationError on invalid YAML, an unknown metadata version or a malformed entry.
 */
export function parseYarnBerryLockfile(file: string, text: string): Lockfile {
  const yaml = readYamlLockfile(file, text, 'yarn.lock');
  const metadata = yaml.data['__metadata'];
  const metaLine = yaml.topLine('__metadata') ?? 1;
  if (!isRecord(metadata))
    throw lockfileError(file, metaLine, 'a yarn berry lockfile needs a "__metadata" mapping');
  const rawVersion = metadata['version'];
  const version =
    typeof rawVersion === 'number'
      ? rawVersion
      : typeof rawVersion === 'string' && /^\d+$/.test(rawVersion)
        ? Number(rawVersion)
        : null;
  if (version === null || !(YARN_BERRY_METADATA_VERSIONS as readonly number[]).includes(version)) {
    const seen =
      rawVersion === undefined
        ? '__metadata.version is missing'
        : `__metadata.version ${JSON.stringify(rawVersion)} is not supported`;
    throw lockfileError(
      file,
      metaLine,
      `${seen}; supported yarn berry lockfile versions: ${YARN_BERRY_METADATA_VERSIONS.join(', ')}`,
    );
  }
  const root: Lockfile['root'] = { name: null, version: null };
  const out: LockPackage[] = [];
  for (const [key, entry] of Object.entries(yaml.data)) {
    if (key === '__metadata') continue;
    const line = yaml.topLine(key);
    if (!isRecord(entry)) throw lockfileError(file, line, `entry "${key}" must be a mapping`);
    const pkg = readEntry(file, line, key, entry);
    if (pkg.source === 'workspace' && isProjectRoot(entry['resolution'])) {
      root.name = pkg.name;
      root.version = pkg.version === '0.0.0-use.local' ? null : pkg.version;
    } else {
      out.push(pkg);
    }
  }
  return { format: 'yarn-berry', root, packages: out };
}

function isProjectRoot(resolution: unknown): boolean {
  return typeof resolution === 'string' && splitDescriptor(resolution).range === 'workspace:.';
}

function readEntry(
  file: string,
  line: number | null,
  key: string,
  entry: Record<string, unknown>,
): LockPackage {
  const version = requireVersion(file, line, `entry "${key}"`, entry);
  const resolution = entry['resolution'];
  if (typeof resolution !== 'string')
    throw lockfileError(file, line, `entry "${key}" has no "resolution" string`);
  const locator = splitDescriptor(resolution);
  // Drop yarn's `::locator=…&version=…` parameters: they say who asked for it, not where it comes from.
  const range = stripParams(locator.range);
  const source: DependencySourceKind = classifySpec(range);
  return {
    name: locator.name,
    version,
    resolved: source === 'registry' && range.startsWith('npm:') ? null : range,
    integrity: null,
    source,
    path: null,
    dev: false,
    optional: false,
    hasInstallScript: false,
    line,
  };
}

function stripParams(range: string): string {
  const at = range.indexOf('::');
  return at === -1 ? range : range.slice(0, at);
}
