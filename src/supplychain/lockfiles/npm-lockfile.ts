/**
 * npm's package-lock.json and npm-shrinkwrap.json: lockfileVersion 1 (a nested `dependencies` tree),
 * 2 (`packages` plus the v1 tree, of which only `packages` is read) and 3 (`packages` only).
 */
import type { DependencySourceKind, LockPackage, Lockfile } from '../npm-types.js';
import { classifySpec } from './classify-spec.js';
import { PATH_SEPARATOR, jsonKeyLines } from './json-key-lines.js';
import { requireVersion, isRecord, lastLine, lineOfOffset, lockfileError, stringOrNull } from './lockfile-errors.js';

/** The npm lockfile versions this reader understands. */
export const NPM_LOCKFILE_VERSIONS = [1, 2, 3] as const;

const NODE_MODULES = 'node_modules/';

/**
 * Parses an npm lockfile's text.
 * @param file - File name for error messages.
 * @param shrinkwrap - True for npm-shrinkwrap.json (format `npm-shrinkwrap` whatever its version).
 * @throws ValidationError on invalid JSON, an unknown lockfileVersion or a malformed entry.
 */
export function parseNpmLockfile(file: string, text: string, shrinkwrap: boolean): Lockfile {
  const data = parseJson(file, text);
  if (!isRecord(data)) throw lockfileError(file, 1, 'an npm lockfile must be a JSON object');
  const version = data['lockfileVersion'];
  if (version !== 1 && version !== 2 && version !== 3) {
    const seen =
      version === undefined
        ? 'lockfileVersion is missing'
        : `lockfileVersion ${JSON.stringify(version)} is not supported`;
    throw lockfileError(
      file,
      lineOfKey(text, 'lockfileVersion'),
      `${seen}; supported npm lockfile versions: ${NPM_LOCKFILE_VERSIONS.join(', ')}`,
    );
  }
  const format: Lockfile['format'] = shrinkwrap
    ? 'npm-shrinkwrap'
    : version === 1
      ? 'npm-v1'
      : version === 2
        ? 'npm-v2'
        : 'npm-v3';
  const root = { name: stringOrNull(data['name']), version: stringOrNull(data['version']) };
  if (version === 1) {
    return { format, root, packages: readV1Tree(file, text, data['dependencies']) };
  }
  const packages = data['packages'];
  if (!isRecord(packages)) {
    throw lockfileError(
      file,
      lineOfKey(text, 'packages'),
      `lockfileVersion ${version} needs a "packages" object`,
    );
  }
  const rootEntry = packages[''];
  if (isRecord(rootEntry)) {
    root.name = stringOrNull(rootEntry['name']) ?? root.name;
    root.version = stringOrNull(rootEntry['version']) ?? root.version;
  }
  return { format, root, packages: readPackages(file, text, packages) };
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /at position (\d+)/.exec(message);
    const lineCol = /\(line (\d+) column \d+\)/.exec(message);
    // Errors at the very end (truncated input) point past the last newline: report the last line instead.
    const line = lineCol
      ? Number(lineCol[1])
      : position
        ? Math.min(lineOfOffset(text, Number(position[1])), lastLine(text))
        : lastLine(text);
    throw lockfileError(file, line, `invalid JSON: ${message}`, err);
  }
}

/** Line of the first top-level-looking `"key":` in the text, or 1. */
function lineOfKey(text: string, key: string): number {
  const at = text.indexOf(`"${key}"`);
  return at === -1 ? 1 : lineOfOffset(text, at);
}

/**
 * v2/v3: `packages` keyed by install path (`node_modules/a/node_modules/@s/b`), a workspace folder inside the
 * project (`packages/tool`: source `workspace`) or a `file:` directory outside it (`../lib`: source `file`).
 */
function readPackages(file: string, text: string, packages: Record<string, unknown>): LockPackage[] {
  const lines = jsonKeyLines(text, (parent) => parent.length === 1 && parent[0] === 'packages');
  const out: LockPackage[] = [];
  for (const [key, entry] of Object.entries(packages)) {
    if (key === '') continue;
    const line = lines.get(`packages${PATH_SEPARATOR}${key}`) ?? null;
    if (!isRecord(entry)) throw lockfileError(file, line, `packages["${key}"] must be an object`);
    const isLink = entry['link'] === true;
    const inNodeModules = key.startsWith(NODE_MODULES) || key.includes(`/${NODE_MODULES}`);
    const resolved = stringOrNull(entry['resolved']);
    const version = entryVersion(file, line, key, entry, isLink || !inNodeModules ? packages : null);
    const name = stringOrNull(entry['name']) ?? nameFromPath(key);
    let source: DependencySourceKind;
    if (isLink) source = 'link';
    else if (!inNodeModules) source = key.startsWith('../') || key.startsWith('/') ? 'file' : 'workspace';
    else source = classifyResolved(resolved, version);
    out.push({
      name,
      version,
      resolved,
      integrity: stringOrNull(entry['integrity']),
      source,
      path: key,
      dev: entry['dev'] === true,
      optional: entry['optional'] === true,
      hasInstallScript: entry['hasInstallScript'] === true,
      line,
    });
  }
  return out;
}

/**
 * The entry's version. Link and workspace entries may have none: a link takes its target's (`resolved` is the
 * target's key), a workspace without a version gets ''. Any other entry must have a string version.
 */
function entryVersion(
  file: string,
  line: number | null,
  key: string,
  entry: Record<string, unknown>,
  packages: Record<string, unknown> | null,
): string {
  const version = entry['version'];
  if (typeof version === 'string') return version;
  if (version === undefined && packages !== null) {
    const target = typeof entry['resolved'] === 'string' ? packages[entry['resolved']] : undefined;
    return isRecord(target) && typeof target['version'] === 'string' ? target['version'] : '';
  }
  const what =
    version === undefined ? 'has no version' : `has a version that is not a string (${typeof version})`;
  throw lockfileError(file, line, `package "${key}" ${what}`);
}

/** `node_modules/a/node_modules/@s/b` → `@s/b`; a workspace folder `packages/tool` → `tool`. */
function nameFromPath(key: string): string {
  const at = key.lastIndexOf(NODE_MODULES);
  if (at !== -1) return key.slice(at + NODE_MODULES.length);
  const slash = key.lastIndexOf('/');
  return slash === -1 ? key : key.slice(slash + 1);
}

/** Source from `resolved` when present, else from the version (v1 writes git and file specs there). */
function classifyResolved(resolved: string | null, version: string): DependencySourceKind {
  if (resolved !== null) return classifySpec(resolved);
  return classifySpec(version);
}

/** v1: nested `dependencies` objects keyed by package name. */
function readV1Tree(file: string, text: string, dependencies: unknown): LockPackage[] {
  if (dependencies === undefined) return [];
  if (!isRecord(dependencies))
    throw lockfileError(file, lineOfKey(text, 'dependencies'), '"dependencies" must be an object');
  const lines = jsonKeyLines(text, isV1DependencyPath);
  const out: LockPackage[] = [];
  // Depth-first with an explicit stack (a hostile file may nest deeper than the call stack allows).
  const stack: { deps: Record<string, unknown>; jsonPath: string; installPath: string }[] = [
    { deps: dependencies, jsonPath: 'dependencies', installPath: '' },
  ];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const children: typeof stack = [];
    for (const [key, entry] of Object.entries(frame.deps)) {
      const jsonPath = `${frame.jsonPath}${PATH_SEPARATOR}${key}`;
      const installPath = `${frame.installPath}${NODE_MODULES}${key}`;
      const line = lines.get(jsonPath) ?? null;
      if (!isRecord(entry)) throw lockfileError(file, line, `dependency "${installPath}" must be an object`);
      out.push(readV1Entry(file, line, key, installPath, entry));
      const nested = entry['dependencies'];
      if (isRecord(nested)) {
        children.push({
          deps: nested,
          jsonPath: `${jsonPath}${PATH_SEPARATOR}dependencies`,
          installPath: `${installPath}/`,
        });
      } else if (nested !== undefined) {
        throw lockfileError(
          file,
          line,
          `dependency "${installPath}" has "dependencies" that is not an object`,
        );
      }
    }
    stack.push(...children.reverse());
  }
  return out;
}

/** Keys whose parent path is `dependencies(/<name>/dependencies)*`: the v1 tree's package names. */
function isV1DependencyPath(parent: readonly string[]): boolean {
  if (parent.length % 2 !== 1) return false;
  for (let i = 0; i < parent.length; i += 2) if (parent[i] !== 'dependencies') return false;
  return true;
}

function readV1Entry(
  file: string,
  line: number | null,
  key: string,
  installPath: string,
  entry: Record<string, unknown>,
): LockPackage {
  const rawVersion = requireVersion(file, line, `dependency "${installPath}"`, entry);
  let name = key;
  let version = rawVersion;
  // Alias: "x": { "version": "npm:real-name@1.2.3" }.
  if (rawVersion.startsWith('npm:')) {
    const spec = rawVersion.slice('npm:'.length);
    const at = spec.lastIndexOf('@');
    if (at > 0) {
      name = spec.slice(0, at);
      version = spec.slice(at + 1);
    }
  }
  let resolved = stringOrNull(entry['resolved']);
  const source = classifyResolved(resolved, version);
  // v1 writes git and file sources in `version` (`git+ssh://…#sha`, `file:../x`); that is where it comes from.
  if (resolved === null && source !== 'registry') resolved = version;
  return {
    name,
    version,
    resolved,
    integrity: stringOrNull(entry['integrity']),
    source,
    path: installPath,
    dev: entry['dev'] === true,
    optional: entry['optional'] === true,
    hasInstallScript: false,
    line,
  };
}
