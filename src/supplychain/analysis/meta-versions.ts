/**
 * Version and dependency-source facts: a huge version number (the dependency-confusion trick of publishing a
 * public package that outranks an internal one of the same name) and dependencies fetched from a URL or git
 * instead of the registry.
 */
import { isIP } from 'node:net';
import semver from 'semver';
import { classifySpec } from '../lockfiles/index.js';
import type { LockPackage, Signal } from '../npm-types.js';
import { jsonKeyLines, lineOf, metaSignal, stringMap } from './meta-signal.js';

/** A major version at or above this is reported as dependency confusion. */
export const CONFUSION_MIN_MAJOR = 90;

/** Public packages whose major version follows a browser's, so a major of 90 and more is normal for them. */
export const HIGH_MAJOR_PACKAGES: ReadonlySet<string> = new Set([
  'chromedriver',
  'electron-chromedriver',
  'msedgedriver',
]);

/** Options of `checkVersionAndDeps`. */
export interface VersionCheckOptions {
  /** The package.json text, to give the line of each finding. */
  manifestText?: string;
}

/**
 * Reports a dependency-confusion version and URL/git dependencies in `dependencies` and
 * `optionalDependencies` (devDependencies are not installed with the package).
 * @example checkVersionAndDeps({ name: 'acme-internal', version: '99.99.99' })[0]?.ruleId // 'npm.metadata.dependency-confusion'
 */
export function checkVersionAndDeps(
  manifest: Record<string, unknown>,
  lockEntry?: LockPackage,
  options: VersionCheckOptions = {},
): Signal[] {
  const keyLines = options.manifestText === undefined ? null : jsonKeyLines(options.manifestText);
  const signals: Signal[] = [];
  const name = typeof manifest['name'] === 'string' ? manifest['name'] : (lockEntry?.name ?? '');
  const version =
    typeof manifest['version'] === 'string' ? manifest['version'] : (lockEntry?.version ?? null);
  const parsed = version === null ? null : semver.parse(version, { loose: true });
  if (parsed !== null && parsed.major >= CONFUSION_MIN_MAJOR && !HIGH_MAJOR_PACKAGES.has(name)) {
    signals.push(
      metaSignal({
        ruleId: 'npm.metadata.dependency-confusion',
        kind: 'metadata',
        category: 'dependency-confusion',
        severity: 'medium',
        message: `Version ${version} is implausibly high: a public package with the name of a private one and a huge version is picked over the internal package by a package manager that looks at both registries (dependency confusion).`,
        line: lineOf(keyLines, ['version']),
        snippet: `"version": "${version}"`,
      }),
    );
  }

  for (const field of ['dependencies', 'optionalDependencies']) {
    for (const [dep, spec] of stringMap(manifest, field)) {
      const source = dependencySpecRisk(spec);
      if (source === null) continue;
      signals.push(
        metaSignal({
          ruleId: 'npm.metadata.url-dependency',
          kind: 'metadata',
          category: 'url-dependency',
          severity: source.risky === null ? 'low' : 'medium',
          message: `${field}.${dep} is fetched from ${source.kind === 'git' ? 'a git repository' : 'a URL'} instead of the registry${source.risky === null ? '' : ` (${source.risky})`}, so its contents are not the reviewed registry package.`,
          line: lineOf(keyLines, [field, dep]),
          snippet: `"${dep}": "${spec}"`,
        }),
      );
    }
  }

  const resolved = lockEntry?.resolved ?? null;
  if (resolved !== null && /^(?:git\+)?https?:\/\//i.test(resolved)) {
    const risky = urlRisk(resolved);
    if (risky !== null) {
      signals.push(
        metaSignal({
          ruleId: 'npm.metadata.url-dependency',
          kind: 'metadata',
          category: 'url-dependency',
          severity: 'medium',
          message: `The lockfile fetches this package from ${risky}: anyone on the network path can swap it.`,
          file: null,
          line: null,
          snippet: resolved,
        }),
      );
    }
  }
  return signals;
}

/**
 * How a dependency spec fetches its package when that is not the registry: a git repository or a URL (kind from
 * the lockfile parsers' `classifySpec`), with what makes it riskier (an unencrypted or raw-IP URL, a git
 * reference pinned to no commit); null for registry ranges, files, links and workspaces.
 */
export function dependencySpecRisk(spec: string): { kind: 'url' | 'git'; risky: string | null } | null {
  const s = spec.trim();
  const kind = classifySpec(s);
  if (kind !== 'git' && kind !== 'url') return null;
  const hash = s.indexOf('#');
  const committish = hash < 0 ? '' : s.slice(hash + 1);
  const gitPin = (): string | null => (/^[0-9a-f]{40}$/i.test(committish) ? null : 'pinned to no commit');
  if (kind === 'url') return { kind, risky: urlRisk(s) };
  if (/^git(?:\+[a-z]+)?:\/\//i.test(s)) {
    const plain = /^git(?:\+http)?:\/\//i.test(s) ? 'an unencrypted git URL' : null;
    return { kind, risky: plain ?? urlRisk(s.replace(/^git\+/i, '')) ?? gitPin() };
  }
  return { kind, risky: gitPin() };
}

function urlRisk(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'a URL that does not parse';
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return `a raw IP address (${host})`;
  if (parsed.protocol === 'http:') return 'plain http, not https';
  return null;
}
