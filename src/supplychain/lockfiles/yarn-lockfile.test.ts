import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import type { Row } from './test-support/lockfile-fixtures.js';
import { fixture, row } from './test-support/lockfile-fixtures.js';
import { parseYarnBerryLockfile } from './yarn-berry-lockfile.js';
import { parseYarnClassicLockfile } from './yarn-classic-lockfile.js';

const YARN = 'https://registry.yarnpkg.com';
const GIT_SHA = '1d7e288222b53a0cab90a331f1865220ec29560c';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.message;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('parseYarnClassicLockfile', () => {
  it('reads one package per entry header, with aliases, git, file, tarball URL and off-registry resolutions', () => {
    const lock = parseYarnClassicLockfile('yarn.lock', fixture('yarn-classic/yarn.lock'));
    expect(lock.format).toBe('yarn-classic');
    expect(lock.root).toEqual({ name: null, version: null });
    expect(lock.packages.map(row)).toEqual<Row[]>([
      [
        '@scope/inner',
        '2.1.0',
        'registry',
        `${YARN}/@scope/inner/-/inner-2.1.0.tgz#0a1b2c3d4e5f60718293a4b5c6d7e8f901234567`,
        'sha512-FFFFinner2',
        null,
        false,
        false,
        false,
        5,
      ],
      [
        'fsevents',
        '2.3.3',
        'registry',
        `${YARN}/fsevents/-/fsevents-2.3.3.tgz#cac6407785d03675a2a5e1a5305c697b347d90d6`,
        'sha512-BBBBfsevents',
        null,
        false,
        false,
        false,
        10,
      ],
      [
        'is-negative',
        '2.1.0',
        'git',
        `https://codeload.github.com/kevva/is-negative/tar.gz/${GIT_SHA}`,
        null,
        null,
        false,
        false,
        false,
        15,
      ],
      [
        'left-pad',
        '1.3.0',
        'registry',
        `${YARN}/left-pad/-/left-pad-1.3.0.tgz#5b8a3a7765dfe001261dde915589e782f8c94d1e`,
        'sha512-GGGGleftpad',
        null,
        false,
        false,
        false,
        19,
      ],
      ['local-lib', '0.0.1', 'file', 'file:../local-lib', null, null, false, false, false, 24],
      [
        'lodash',
        '4.17.21',
        'registry',
        `${YARN}/lodash/-/lodash-4.17.21.tgz#679591c564c3bffaae8454cf0b3df370c3d6911c`,
        'sha512-CCCClodash',
        null,
        false,
        false,
        false,
        27,
      ],
      ['sneaky', '1.0.0', 'url', 'https://evil.example.net/sneaky.tgz', null, null, false, false, false, 32],
      [
        'tar-dep',
        '1.0.0',
        'url',
        'https://example.com/tar-dep-1.0.0.tgz#9f2c1d0e',
        null,
        null,
        false,
        false,
        false,
        36,
      ],
    ]);
  });

  it('reads CRLF line endings with the same lines', () => {
    const crlf = fixture('yarn-classic/yarn.lock').replace(/\n/g, '\r\n');
    expect(parseYarnClassicLockfile('yarn.lock', crlf).packages.map((p) => p.line)).toEqual([
      5, 10, 15, 19, 24, 27, 32, 36,
    ]);
  });

  it('names the line of a syntax error and of an entry without a version', () => {
    expect(
      messageOf(() =>
        parseYarnClassicLockfile('yarn.lock', '# yarn lockfile v1\n\na@^1:\n  version "1.0.0"\n  resolved\n'),
      ),
    ).toMatch(/^yarn\.lock:\d+: invalid yarn lockfile: /);
    expect(
      messageOf(() =>
        parseYarnClassicLockfile(
          'yarn.lock',
          '# yarn lockfile v1\n\n\na@^1:\n  resolved "https://x/a.tgz"\n',
        ),
      ),
    ).toBe('yarn.lock:4: entry "a@^1" has no version');
    expect(
      messageOf(() => parseYarnClassicLockfile('yarn.lock', '# yarn lockfile v1\n\na@^1:\n  version true\n')),
    ).toBe('yarn.lock:3: entry "a@^1" has a version that is not a string (boolean)');
  });

  it('guards the library against input it never finishes reading', () => {
    // A final comment without a newline: parsed once a newline is added.
    expect(
      parseYarnClassicLockfile('yarn.lock', 'a@^1:\n  version "1.0.0"\n# end').packages.map((p) => p.name),
    ).toEqual(['a']);
    expect(
      messageOf(() =>
        parseYarnClassicLockfile('yarn.lock', '# yarn lockfile v1\n\na@^1:\n  version "1.0.0\n'),
      ),
    ).toBe('yarn.lock:4: invalid yarn lockfile: a quoted string is never closed');
    expect(messageOf(() => parseYarnClassicLockfile('yarn.lock', 'a@^1:\n  resolved "x\\"\n'))).toBe(
      'yarn.lock:2: invalid yarn lockfile: a quoted string is never closed',
    );
    expect(
      messageOf(() =>
        parseYarnClassicLockfile(
          'yarn.lock',
          '# yarn lockfile v1\n\n<<<<<<< HEAD\na@^1:\n  version "1"\n=======\n>>>>>>> b\n',
        ),
      ),
    ).toBe('yarn.lock:3: the lockfile has unresolved merge conflicts; resolve them and run yarn install');
  });

  it('rejects an entry that is a bare value', () => {
    expect(
      messageOf(() => parseYarnClassicLockfile('yarn.lock', '# yarn lockfile v1\n\na@^1 "1.0.0"\n')),
    ).toBe('yarn.lock: entry "a@^1" must be a block of fields');
  });
});

describe('parseYarnBerryLockfile', () => {
  it('reads berry entries: npm, patch (registry), git, link, file, url, workspace; the project is root', () => {
    const lock = parseYarnBerryLockfile('yarn.lock', fixture('yarn-berry/yarn.lock'));
    expect(lock.format).toBe('yarn-berry');
    expect(lock.root).toEqual({ name: 'fixture-app', version: null });
    expect(lock.packages.map(row)).toEqual<Row[]>([
      ['@scope/inner', '2.1.0', 'registry', null, null, null, false, false, false, 8],
      ['fsevents', '2.3.3', 'registry', null, null, null, false, false, false, 31],
      [
        'fsevents',
        '2.3.3',
        'registry',
        'patch:fsevents@npm%3A2.3.3#optional!builtin<compat/fsevents>',
        null,
        null,
        false,
        false,
        false,
        41,
      ],
      [
        'is-negative',
        '2.1.0',
        'git',
        `https://github.com/kevva/is-negative.git#commit=${GIT_SHA}`,
        null,
        null,
        false,
        false,
        false,
        50,
      ],
      ['left-pad', '1.3.0', 'registry', null, null, null, false, false, false, 57],
      ['linked', '0.0.0-use.local', 'link', 'link:../linked', null, null, false, false, false, 64],
      ['local-lib', '0.0.1', 'file', 'file:../local-lib#../local-lib', null, null, false, false, false, 70],
      ['lodash', '4.17.21', 'registry', null, null, null, false, false, false, 77],
      [
        'tar-dep',
        '1.0.0',
        'url',
        'https://example.com/tar-dep-1.0.0.tgz',
        null,
        null,
        false,
        false,
        false,
        84,
      ],
      [
        'tool',
        '0.0.0-use.local',
        'workspace',
        'workspace:packages/tool',
        null,
        null,
        false,
        false,
        false,
        91,
      ],
    ]);
  });

  it('rejects unknown metadata versions and malformed entries with their line', () => {
    expect(messageOf(() => parseYarnBerryLockfile('yarn.lock', '__metadata:\n  version: 99\n'))).toBe(
      'yarn.lock:1: __metadata.version 99 is not supported; supported yarn berry lockfile versions: 4, 5, 6, 7, 8',
    );
    expect(messageOf(() => parseYarnBerryLockfile('yarn.lock', 'a: 1\n__metadata: 3\n'))).toBe(
      'yarn.lock:2: a yarn berry lockfile needs a "__metadata" mapping',
    );
    const head = '__metadata:\n  version: 6\n\n';
    expect(
      messageOf(() =>
        parseYarnBerryLockfile(
          'yarn.lock',
          `${head}"a@npm:^1":\n  version: 1\n  resolution: "a@npm:1.0.0"\n`,
        ),
      ),
    ).toBe('yarn.lock:4: entry "a@npm:^1" has a version that is not a string (number)');
    expect(
      messageOf(() => parseYarnBerryLockfile('yarn.lock', `${head}"a@npm:^1":\n  version: 1.0.0\n`)),
    ).toBe('yarn.lock:4: entry "a@npm:^1" has no "resolution" string');
    expect(messageOf(() => parseYarnBerryLockfile('yarn.lock', `${head}"a@npm:^1": [1]\n`))).toBe(
      'yarn.lock:4: entry "a@npm:^1" must be a mapping',
    );
    expect(
      messageOf(() => parseYarnBerryLockfile('yarn.lock', `${head}"a@npm:^1":\n  version: "1.0.0\n`)),
    ).toMatch(/^yarn\.lock:5: invalid YAML: /);
  });
});
