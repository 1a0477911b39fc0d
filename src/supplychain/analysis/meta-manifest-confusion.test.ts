import { describe, expect, it } from 'vitest';
import type { LockPackage } from '../npm-types.js';
import { compareManifests, compareWithLock } from './meta-manifest-confusion.js';

const base = { name: 'p', version: '1.0.0', dependencies: { a: '^1.0.0' }, scripts: { test: 'vitest' } };
const summary = (signals: { ruleId: string; severity: string; message: string }[]) =>
  signals.map((s) => `${s.severity}: ${s.message}`);

describe('compareManifests', () => {
  it('reports nothing for equal manifests (key order and non-install scripts aside)', () => {
    expect(compareManifests(base, { ...base, scripts: { build: 'tsc' } }, 'the registry metadata')).toEqual(
      [],
    );
  });

  it('reports a hidden install script as high', () => {
    const tarball = { ...base, scripts: { postinstall: 'node x.js' } };
    expect(compareManifests(tarball, base, 'the registry metadata')).toEqual([
      expect.objectContaining({
        ruleId: 'npm.metadata.manifest-confusion',
        kind: 'metadata',
        category: 'manifest-confusion',
        severity: 'high',
        file: 'package.json',
        snippet: 'postinstall: node x.js',
        message:
          'The tarball has a "postinstall" script that the registry metadata does not show: an install script hidden from review.',
      }),
    ]);
  });

  it('reports a changed install script as high', () => {
    const shown = { ...base, scripts: { install: 'node-gyp rebuild' } };
    const tarball = { ...base, scripts: { install: 'curl x | sh' } };
    expect(summary(compareManifests(tarball, shown, 'package-lock.json'))).toEqual([
      'high: The tarball\'s "install" script differs from the one package-lock.json shows.',
    ]);
  });

  it('reports name and version differences as medium and dependency differences by direction', () => {
    const tarball = { name: 'q', version: '1.0.1', dependencies: { a: '^2.0.0', evil: '1.0.0' } };
    const shown = {
      name: 'p',
      version: '1.0.0',
      dependencies: { a: '^1.0.0' },
      optionalDependencies: { gone: '1' },
    };
    expect(summary(compareManifests(tarball, shown, 'the registry metadata'))).toEqual([
      'medium: The tarball\'s package.json says name "q" but the registry metadata says "p".',
      'medium: The tarball\'s package.json says version "1.0.1" but the registry metadata says "1.0.0".',
      'high: The tarball depends on evil, which the registry metadata does not list: dependencies hidden from review.',
      "medium: The registry metadata lists gone as dependencies, which the tarball's package.json does not.",
      'medium: The tarball asks for other versions of a than the registry metadata shows.',
    ]);
  });
});

describe('compareWithLock', () => {
  const lock: LockPackage = {
    name: 'p',
    version: '1.0.0',
    resolved: null,
    integrity: null,
    source: 'registry',
    path: 'node_modules/p',
    dev: false,
    optional: false,
    hasInstallScript: false,
    line: 12,
  };

  it('reports install scripts the lockfile does not record as high', () => {
    expect(summary(compareWithLock({ ...base, scripts: { preinstall: 'node a.js' } }, lock))).toEqual([
      'high: The lockfile records no install script for p@1.0.0, but the tarball has "preinstall": the package changed after locking or its metadata hides the script.',
    ]);
  });

  it('accepts install scripts the lockfile records, and reports another version as medium', () => {
    expect(
      compareWithLock({ ...base, scripts: { postinstall: 'x' } }, { ...lock, hasInstallScript: true }),
    ).toEqual([]);
    expect(summary(compareWithLock({ ...base, version: '1.0.1' }, lock))).toEqual([
      "medium: The lockfile pins p@1.0.0 but the tarball's package.json says version 1.0.1.",
    ]);
  });
});
