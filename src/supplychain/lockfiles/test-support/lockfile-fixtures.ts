/** Test support for the lockfile readers (not built): fixture loading and a compact row per package. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LockPackage } from '../../npm-types.js';

/** Directory of the lockfile fixtures, relative to the repository root (vitest's working directory). */
export const FIXTURES = join('test', 'fixtures', 'npm-gate', 'lockfiles');

/** Text of a fixture, e.g. `fixture('npm-v3/package-lock.json')`. */
export function fixture(relative: string): string {
  return readFileSync(join(FIXTURES, relative), 'utf8');
}

/** One package as `[name, version, source, resolved, integrity, path, dev, optional, hasInstallScript, line]`. */
export type Row = [
  string,
  string,
  string,
  string | null,
  string | null,
  string | null,
  boolean,
  boolean,
  boolean,
  number | null,
];

/** The package as a {@link Row}, to compare whole lockfiles in a readable table. */
export function row(p: LockPackage): Row {
  return [
    p.name,
    p.version,
    p.source,
    p.resolved,
    p.integrity,
    p.path,
    p.dev,
    p.optional,
    p.hasInstallScript,
    p.line,
  ];
}
