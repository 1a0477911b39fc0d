import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import type { Row } from './test-support/lockfile-fixtures.js';
import { fixture, row } from './test-support/lockfile-fixtures.js';
import { parseNpmLockfile } from './npm-lockfile.js';

const REG = 'https://registry.npmjs.org';
const GIT_SHA = '1d7e288222b53a0cab90a331f1865220ec29560c';

/** Rows of the v2/v3/shrinkwrap fixtures (same `packages` block; line numbers shared). */
const V3_ROWS: Row[] = [
  ['local-lib', '0.0.1', 'file', null, null, '../local-lib', false, false, false, 29],
  [
    '@scope/inner',
    '2.1.0',
    'registry',
    `${REG}/@scope/inner/-/inner-2.1.0.tgz`,
    'sha512-FFFFinner2',
    'node_modules/@scope/inner',
    false,
    false,
    false,
    32,
  ],
  [
    'fsevents',
    '2.3.3',
    'registry',
    `${REG}/fsevents/-/fsevents-2.3.3.tgz`,
    'sha512-BBBBfsevents',
    'node_modules/fsevents',
    false,
    true,
    true,
    37,
  ],
  [
    'is-negative',
    '2.1.0',
    'git',
    `git+ssh://git@github.com/kevva/is-negative.git#${GIT_SHA}`,
    null,
    'node_modules/is-negative',
    false,
    false,
    false,
    47,
  ],
  [
    'left-pad',
    '1.3.0',
    'registry',
    `${REG}/left-pad/-/left-pad-1.3.0.tgz`,
    'sha512-GGGGleftpad',
    'node_modules/left-pad',
    true,
    false,
    false,
    52,
  ],
  ['local-lib', '0.0.1', 'link', '../local-lib', null, 'node_modules/local-lib', false, false, false, 58],
  [
    'lodash',
    '4.17.21',
    'registry',
    `${REG}/lodash/-/lodash-4.17.21.tgz`,
    'sha512-CCCClodash',
    'node_modules/my-lodash',
    false,
    false,
    false,
    62,
  ],
  [
    'tar-dep',
    '1.0.0',
    'url',
    'https://example.com/tar-dep-1.0.0.tgz',
    'sha512-DDDDtardep',
    'node_modules/tar-dep',
    false,
    false,
    false,
    68,
  ],
  [
    'tgz-dep',
    '1.0.0',
    'file',
    'file:vendor/tgz-dep-1.0.0.tgz',
    'sha512-HHHHtgzdep',
    'node_modules/tgz-dep',
    false,
    false,
    false,
    73,
  ],
  ['tool', '0.1.0', 'link', 'packages/tool', null, 'node_modules/tool', false, false, false, 78],
  [
    'wrap',
    '1.0.0',
    'registry',
    `${REG}/wrap/-/wrap-1.0.0.tgz`,
    'sha512-EEEEwrap',
    'node_modules/wrap',
    false,
    false,
    false,
    82,
  ],
  [
    '@scope/inner',
    '1.0.0',
    'registry',
    `${REG}/@scope/inner/-/inner-1.0.0.tgz`,
    'sha512-FFFFinner1',
    'node_modules/wrap/node_modules/@scope/inner',
    false,
    false,
    false,
    90,
  ],
  ['tool', '0.1.0', 'workspace', null, null, 'packages/tool', false, false, false, 95],
];

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('parseNpmLockfile v1', () => {
  it('walks the nested dependencies tree with install paths, aliases, git, file and url versions', () => {
    const lock = parseNpmLockfile('package-lock.json', fixture('npm-v1/package-lock.json'), false);
    expect(lock.format).toBe('npm-v1');
    expect(lock.root).toEqual({ name: 'fixture-app', version: '1.0.0' });
    const gitUrl = `git+https://github.com/kevva/is-negative.git#${GIT_SHA}`;
    expect(lock.packages.map(row)).toEqual<Row[]>([
      [
        '@types/node',
        '20.11.0',
        'registry',
        `${REG}/@types/node/-/node-20.11.0.tgz`,
        'sha512-AAAAtypesnode',
        'node_modules/@types/node',
        true,
        false,
        false,
        7,
      ],
      [
        'fsevents',
        '2.3.3',
        'registry',
        `${REG}/fsevents/-/fsevents-2.3.3.tgz`,
        'sha512-BBBBfsevents',
        'node_modules/fsevents',
        false,
        true,
        false,
        13,
      ],
      ['is-negative', gitUrl, 'git', gitUrl, null, 'node_modules/is-negative', false, false, false, 19],
      [
        'local-lib',
        'file:../local-lib',
        'file',
        'file:../local-lib',
        null,
        'node_modules/local-lib',
        false,
        false,
        false,
        23,
      ],
      [
        'lodash',
        '4.17.21',
        'registry',
        `${REG}/lodash/-/lodash-4.17.21.tgz`,
        'sha512-CCCClodash',
        'node_modules/my-lodash',
        false,
        false,
        false,
        26,
      ],
      [
        'tar-dep',
        'https://example.com/tar-dep-1.0.0.tgz',
        'url',
        'https://example.com/tar-dep-1.0.0.tgz',
        'sha512-DDDDtardep',
        'node_modules/tar-dep',
        false,
        false,
        false,
        31,
      ],
      [
        'wrap',
        '1.0.0',
        'registry',
        `${REG}/wrap/-/wrap-1.0.0.tgz`,
        'sha512-EEEEwrap',
        'node_modules/wrap',
        false,
        false,
        false,
        35,
      ],
      [
        '@scope/inner',
        '1.0.0',
        'registry',
        `${REG}/@scope/inner/-/inner-1.0.0.tgz`,
        'sha512-FFFFinner1',
        'node_modules/wrap/node_modules/@scope/inner',
        false,
        false,
        false,
        43,
      ],
    ]);
  });

  it('accepts a v1 lockfile without dependencies', () => {
    const lock = parseNpmLockfile('package-lock.json', '{"name":"x","lockfileVersion":1}', false);
    expect(lock).toEqual({ format: 'npm-v1', root: { name: 'x', version: null }, packages: [] });
  });
});

describe('parseNpmLockfile v2/v3', () => {
  it('reads v3 packages: install paths, alias name, link, workspace folder, file dir outside the project', () => {
    const lock = parseNpmLockfile('package-lock.json', fixture('npm-v3/package-lock.json'), false);
    expect(lock.format).toBe('npm-v3');
    expect(lock.root).toEqual({ name: 'fixture-app', version: '1.0.0' });
    expect(lock.packages.map(row)).toEqual(V3_ROWS);
  });

  it('reads v2 from packages and ignores the legacy dependencies tree', () => {
    const lock = parseNpmLockfile('package-lock.json', fixture('npm-v2/package-lock.json'), false);
    expect(lock.format).toBe('npm-v2');
    expect(lock.packages.map(row)).toEqual(V3_ROWS);
    expect(lock.packages.some((p) => p.name === 'only-in-v1-tree')).toBe(false);
  });

  it('reports npm-shrinkwrap.json as format npm-shrinkwrap', () => {
    const lock = parseNpmLockfile('npm-shrinkwrap.json', fixture('npm-shrinkwrap/npm-shrinkwrap.json'), true);
    expect(lock.format).toBe('npm-shrinkwrap');
    expect(lock.packages.map(row)).toEqual(V3_ROWS);
  });

  it('keeps one entry per install path even for identical name@version', () => {
    const text = JSON.stringify({
      lockfileVersion: 3,
      packages: {
        'node_modules/a': { version: '1.0.0', resolved: `${REG}/a/-/a-1.0.0.tgz` },
        'node_modules/b/node_modules/a': { version: '1.0.0', resolved: `${REG}/a/-/a-1.0.0.tgz` },
      },
    });
    const lock = parseNpmLockfile('package-lock.json', text, false);
    expect(lock.packages.map((p) => p.path)).toEqual(['node_modules/a', 'node_modules/b/node_modules/a']);
    // Minified JSON: every key is on line 1.
    expect(lock.packages.map((p) => p.line)).toEqual([1, 1]);
  });

  it('finds the lines of keys that need JSON escapes', () => {
    const text =
      '{\n"lockfileVersion": 3,\n"packages": {\n"node_modules/\\u0061b": {"version": "1.0.0"}\n}\n}';
    const lock = parseNpmLockfile('package-lock.json', text, false);
    expect(lock.packages.map((p) => [p.name, p.line])).toEqual([['ab', 4]]);
  });

  it("reads the project's own package-lock.json (fastify and zod pinned with sha512 integrity)", () => {
    const lock = parseNpmLockfile('package-lock.json', readFileSync('package-lock.json', 'utf8'), false);
    expect(lock.format).toBe('npm-v3');
    expect(lock.root.name).toBe('keyward');
    for (const name of ['fastify', 'zod']) {
      const pkg = lock.packages.find((p) => p.path === `node_modules/${name}`);
      expect(pkg?.name).toBe(name);
      expect(pkg?.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(pkg?.integrity).toMatch(/^sha512-[A-Za-z0-9+/]+=*$/);
      expect(pkg?.source).toBe('registry');
      expect(pkg?.line).toBeGreaterThan(1);
    }
  });
});

describe('parseNpmLockfile errors', () => {
  it('names the line of a JSON syntax error', () => {
    const err = errorOf(() =>
      parseNpmLockfile('package-lock.json', '{\n  "lockfileVersion": 3,\n  "packages": {,}\n}', false),
    );
    expect(err.message).toMatch(/^package-lock\.json:3: invalid JSON: /);
    expect(err.details[0]?.path).toBe('package-lock.json:3');
  });

  it('names the last line for truncated JSON', () => {
    const err = errorOf(() =>
      parseNpmLockfile('package-lock.json', '{\n  "lockfileVersion": 3,\n  "packages": {\n', false),
    );
    expect(err.details[0]?.path).toBe('package-lock.json:3');
  });

  it('rejects an unknown lockfileVersion and says which are supported', () => {
    const err = errorOf(() =>
      parseNpmLockfile('package-lock.json', '{\n  "name": "x",\n  "lockfileVersion": 4\n}', false),
    );
    expect(err.message).toBe(
      'package-lock.json:3: lockfileVersion 4 is not supported; supported npm lockfile versions: 1, 2, 3',
    );
  });

  it('rejects a JSON object without lockfileVersion', () => {
    const err = errorOf(() => parseNpmLockfile('package-lock.json', '{"name": "x"}', false));
    expect(err.message).toBe(
      'package-lock.json:1: lockfileVersion is missing; supported npm lockfile versions: 1, 2, 3',
    );
  });

  it('rejects JSON that is not an object', () => {
    expect(errorOf(() => parseNpmLockfile('package-lock.json', '[1]', false)).message).toBe(
      'package-lock.json:1: an npm lockfile must be a JSON object',
    );
  });

  it('rejects a package whose version is not a string, naming its line', () => {
    const text =
      '{\n  "lockfileVersion": 3,\n  "packages": {\n    "node_modules/a": { "version": 1 }\n  }\n}';
    expect(errorOf(() => parseNpmLockfile('package-lock.json', text, false)).message).toBe(
      'package-lock.json:4: package "node_modules/a" has a version that is not a string (number)',
    );
  });

  it('rejects a v1 dependency whose version is not a string, naming its line', () => {
    const text =
      '{\n  "lockfileVersion": 1,\n  "dependencies": {\n    "a": {\n      "version": "1.0.0",\n      "dependencies": {\n        "b": { "version": true }\n      }\n    }\n  }\n}';
    expect(errorOf(() => parseNpmLockfile('package-lock.json', text, false)).message).toBe(
      'package-lock.json:7: dependency "node_modules/a/node_modules/b" has a version that is not a string (boolean)',
    );
  });

  it('rejects a node_modules entry without a version and a non-object entry', () => {
    expect(
      errorOf(() =>
        parseNpmLockfile('x.json', '{"lockfileVersion":3,"packages":{"node_modules/a":{}}}', false),
      ).message,
    ).toBe('x.json:1: package "node_modules/a" has no version');
    expect(
      errorOf(() =>
        parseNpmLockfile('x.json', '{"lockfileVersion":3,"packages":{"node_modules/a":"1.0.0"}}', false),
      ).message,
    ).toBe('x.json:1: packages["node_modules/a"] must be an object');
    expect(errorOf(() => parseNpmLockfile('x.json', '{"lockfileVersion":2}', false)).message).toBe(
      'x.json:1: lockfileVersion 2 needs a "packages" object',
    );
  });
});
