import { describe, expect, it } from 'vitest';
import type { LockPackage } from '../npm-types.js';
import { checkVersionAndDeps, dependencySpecRisk } from './meta-versions.js';

const lock = (over: Partial<LockPackage>): LockPackage => ({
  name: 'p',
  version: '1.0.0',
  resolved: null,
  integrity: null,
  source: 'registry',
  path: null,
  dev: false,
  optional: false,
  hasInstallScript: false,
  line: null,
  ...over,
});

describe('checkVersionAndDeps: dependency confusion', () => {
  it.each(['99.99.99', '9999.0.0', '90.0.0', '100.1.0-beta.1'])('flags version %s', (version) => {
    const manifest = { name: 'acme-internal-utils', version };
    const text = JSON.stringify(manifest, null, 2);
    expect(checkVersionAndDeps(manifest, undefined, { manifestText: text })).toEqual([
      expect.objectContaining({
        ruleId: 'npm.metadata.dependency-confusion',
        kind: 'metadata',
        category: 'dependency-confusion',
        severity: 'medium',
        file: 'package.json',
        line: 3,
        snippet: `"version": "${version}"`,
      }),
    ]);
  });

  it.each(['2.0.0', '89.9.9', '0.0.1', 'not-a-version'])('does not flag version %s', (version) => {
    expect(checkVersionAndDeps({ name: 'p', version })).toEqual([]);
  });

  it('uses the lock entry version when the manifest has none, and skips browser-versioned packages', () => {
    expect(checkVersionAndDeps({}, lock({ version: '99.0.0' })).map((s) => s.ruleId)).toEqual([
      'npm.metadata.dependency-confusion',
    ]);
    expect(checkVersionAndDeps({ name: 'chromedriver', version: '131.0.1' })).toEqual([]);
  });

  it('explains dependency confusion in the message', () => {
    expect(checkVersionAndDeps({ name: 'x', version: '99.99.99' })[0]?.message).toContain(
      'dependency confusion',
    );
  });
});

describe('checkVersionAndDeps: URL and git dependencies', () => {
  it('reports URL and git dependencies of dependencies and optionalDependencies with their severity and line', () => {
    const manifest = {
      name: 'p',
      version: '1.0.0',
      dependencies: {
        a: 'https://example.com/a.tgz',
        b: 'http://example.com/b.tgz',
        c: 'https://203.0.113.9/c.tgz',
        d: 'git+https://github.com/u/d.git#0123456789abcdef0123456789abcdef01234567',
        e: 'github:u/e',
        f: 'u/f#v1.0.0',
        g: '^1.2.3',
        h: 'file:../h',
      },
      optionalDependencies: { i: 'git://github.com/u/i.git#0123456789abcdef0123456789abcdef01234567' },
      devDependencies: { j: 'http://example.com/j.tgz' },
    };
    const text = JSON.stringify(manifest, null, 2);
    expect(
      checkVersionAndDeps(manifest, undefined, { manifestText: text }).map((s) => [
        s.snippet,
        s.severity,
        s.line,
      ]),
    ).toEqual([
      ['"a": "https://example.com/a.tgz"', 'low', 5],
      ['"b": "http://example.com/b.tgz"', 'medium', 6],
      ['"c": "https://203.0.113.9/c.tgz"', 'medium', 7],
      ['"d": "git+https://github.com/u/d.git#0123456789abcdef0123456789abcdef01234567"', 'low', 8],
      ['"e": "github:u/e"', 'medium', 9],
      ['"f": "u/f#v1.0.0"', 'medium', 10],
      ['"i": "git://github.com/u/i.git#0123456789abcdef0123456789abcdef01234567"', 'medium', 15],
    ]);
  });

  it('reports a lockfile entry resolved over plain http or a raw IP', () => {
    expect(
      checkVersionAndDeps(
        { name: 'p', version: '1.0.0' },
        lock({ resolved: 'http://10.0.0.5/p/-/p-1.0.0.tgz' }),
      ).map((s) => [s.ruleId, s.severity, s.message]),
    ).toEqual([
      [
        'npm.metadata.url-dependency',
        'medium',
        'The lockfile fetches this package from a raw IP address (10.0.0.5): anyone on the network path can swap it.',
      ],
    ]);
    expect(checkVersionAndDeps({}, lock({ resolved: 'https://registry.npmjs.org/p/-/p-1.0.0.tgz' }))).toEqual(
      [],
    );
  });
});

describe('dependencySpecRisk', () => {
  it.each([
    ['^1.0.0', null],
    ['latest', null],
    ['npm:lodash@^4', null],
    ['workspace:*', null],
    ['./local', null],
    ['@scope/pkg', null],
    ['https://x.example/p.tgz', { kind: 'url', risky: null }],
    ['http://[::1]/p.tgz', { kind: 'url', risky: 'a raw IP address (::1)' }],
    ['git@github.com:u/r.git', { kind: 'git', risky: 'pinned to no commit' }],
    ['git+ssh://git@github.com/u/r.git#semver:^1', { kind: 'git', risky: 'pinned to no commit' }],
    ['git+http://example.com/r.git', { kind: 'git', risky: 'an unencrypted git URL' }],
  ])('%s → %j', (spec, expected) => {
    expect(dependencySpecRisk(spec)).toEqual(expected);
  });
});
