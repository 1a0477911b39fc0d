import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { ValidationError } from '../../core/errors.js';
import { fixture } from './test-support/lockfile-fixtures.js';
import { LOCKFILE_NAMES, classifySpec, isLockfileName, parseLockfile } from './index.js';

function messageOf(fileName: string, text: string): string {
  try {
    parseLockfile(fileName, text);
  } catch (err) {
    if (err instanceof ValidationError) return err.message;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

/** Runs the parser and fails the property on anything thrown that is not a ValidationError. */
function parsesOrRejects(fileName: string, text: string): boolean {
  try {
    const lock = parseLockfile(fileName, text);
    return Array.isArray(lock.packages);
  } catch (err) {
    if (err instanceof ValidationError) return true;
    throw err;
  }
}

describe('LOCKFILE_NAMES and isLockfileName', () => {
  it('lists the four lockfile names', () => {
    expect(LOCKFILE_NAMES).toEqual([
      'package-lock.json',
      'npm-shrinkwrap.json',
      'pnpm-lock.yaml',
      'yarn.lock',
    ]);
  });

  it('matches base names of POSIX and Windows paths only', () => {
    expect(isLockfileName('yarn.lock')).toBe(true);
    expect(isLockfileName('/repo/app/package-lock.json')).toBe(true);
    expect(isLockfileName('C:\\repo\\pnpm-lock.yaml')).toBe(true);
    expect(isLockfileName('package.json')).toBe(false);
    expect(isLockfileName('yarn.lock.bak')).toBe(false);
    expect(isLockfileName('Yarn.lock')).toBe(false);
  });

  it('re-exports classifySpec', () => {
    expect(classifySpec('github:u/r')).toBe('git');
  });
});

describe('parseLockfile dispatch', () => {
  it.each([
    ['package-lock.json', 'npm-v1/package-lock.json', 'npm-v1', 8],
    ['package-lock.json', 'npm-v2/package-lock.json', 'npm-v2', 13],
    ['/repo/package-lock.json', 'npm-v3/package-lock.json', 'npm-v3', 13],
    ['npm-shrinkwrap.json', 'npm-shrinkwrap/npm-shrinkwrap.json', 'npm-shrinkwrap', 13],
    ['pnpm-lock.yaml', 'pnpm-v5/pnpm-lock.yaml', 'pnpm', 9],
    ['pnpm-lock.yaml', 'pnpm-v6/pnpm-lock.yaml', 'pnpm', 9],
    ['pnpm-lock.yaml', 'pnpm-v9/pnpm-lock.yaml', 'pnpm', 10],
    ['yarn.lock', 'yarn-classic/yarn.lock', 'yarn-classic', 8],
    ['yarn.lock', 'yarn-berry/yarn.lock', 'yarn-berry', 10],
  ])('%s (%s) → %s with %i packages', (name, path, format, count) => {
    const lock = parseLockfile(name, fixture(path));
    expect(lock.format).toBe(format);
    expect(lock.packages).toHaveLength(count);
  });

  it.each([
    ['npm-v2/package-lock.json', 'npm-v2'],
    ['pnpm-v9/pnpm-lock.yaml', 'pnpm'],
    ['yarn-classic/yarn.lock', 'yarn-classic'],
    ['yarn-berry/yarn.lock', 'yarn-berry'],
  ])('recognises %s by content under another name', (path, format) => {
    expect(parseLockfile('uploaded.txt', fixture(path)).format).toBe(format);
  });

  it('skips a byte-order mark', () => {
    expect(parseLockfile('package-lock.json', `\uFEFF${fixture('npm-v3/package-lock.json')}`).format).toBe(
      'npm-v3',
    );
  });

  it('rejects empty text, unknown content and a yarn.lock that is neither classic nor berry', () => {
    expect(messageOf('yarn.lock', ' \n')).toBe('yarn.lock:1: the lockfile is empty');
    expect(messageOf('notes.md', '# hello\n')).toBe(
      'notes.md:1: this is not a lockfile this gate can read; supported: package-lock.json / npm-shrinkwrap.json (lockfileVersion 1–3), pnpm-lock.yaml (5.x, 6.x, 9.x), yarn.lock (classic v1 and berry)',
    );
    expect(messageOf('yarn.lock', 'hello')).toBe(
      'yarn.lock:1: this is not a yarn lockfile (no "# yarn lockfile v1" header, no __metadata block)',
    );
    expect(messageOf('package-lock.json', 'lockfileVersion: 3\n')).toMatch(
      /^package-lock\.json:1: invalid JSON: /,
    );
  });
});

describe('parseLockfile never throws anything but ValidationError', () => {
  const names = fc.constantFrom(
    'package-lock.json',
    'npm-shrinkwrap.json',
    'pnpm-lock.yaml',
    'yarn.lock',
    'other.lock',
  );

  it('on random strings', () => {
    fc.assert(fc.property(names, fc.string({ unit: 'binary', maxLength: 300 }), parsesOrRejects), {
      numRuns: 400,
    });
  });

  it('on random lockfile-ish line soup', () => {
    const line = fc.constantFrom(
      '# yarn lockfile v1',
      '__metadata:',
      '  version: 8',
      'lockfileVersion: 5.4',
      "lockfileVersion: '9.0'",
      'packages:',
      '  /a/1.0.0:',
      '  a@1.0.0:',
      '    resolution: {integrity: x}',
      '    version: 1',
      'a@^1:',
      '  version "1.0.0"',
      '"a@npm:^1":',
      '  resolution: "a@npm:1.0.0"',
      '  version: 1.0.0',
      '{',
      '}',
      '"lockfileVersion": 3,',
      '<<<<<<< HEAD',
      '=======',
      '>>>>>>> x',
      '  dependencies:',
      '    b: ^1',
      '&a [*a, *a]',
      '- x',
      '\t',
      '',
    );
    const text = fc.array(line, { maxLength: 20 }).map((lines) => lines.join('\n'));
    fc.assert(fc.property(names, text, parsesOrRejects), { numRuns: 400 });
  });

  it('on random JSON values, bare and shaped like npm lockfiles', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    const shaped = fc.record(
      {
        lockfileVersion: fc.oneof(fc.constantFrom(1, 2, 3), json),
        packages: fc.oneof(
          fc.dictionary(
            fc.constantFrom(
              '',
              'node_modules/a',
              'node_modules/@s/b',
              'packages/x',
              '../y',
              'node_modules/a/node_modules/b',
            ),
            json,
          ),
          json,
        ),
        dependencies: fc.oneof(
          fc.dictionary(fc.string(), fc.oneof(json, fc.record({ version: json, dependencies: json }))),
          json,
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(json, shaped), (value) =>
        parsesOrRejects('package-lock.json', JSON.stringify(value) ?? 'null'),
      ),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(names, json, (name, value) => parsesOrRejects(name, JSON.stringify(value) ?? 'null')),
      { numRuns: 200 },
    );
  });

  it('on random YAML shaped like pnpm and yarn berry lockfiles', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const pnpm = fc.record(
      {
        lockfileVersion: fc.oneof(fc.constantFrom(5.4, '6.0', '9.0'), json),
        packages: fc.oneof(
          fc.dictionary(fc.constantFrom('/a/1.0.0_b@1', '/@s/n@1.0.0(p@1)', 'a@1.0.0', 'x', '@'), json),
          json,
        ),
        snapshots: json,
      },
      { requiredKeys: [] },
    );
    const berry = fc.record(
      {
        __metadata: fc.oneof(fc.record({ version: fc.oneof(fc.constantFrom(4, 8), json) }), json),
        'a@npm:^1': fc.oneof(
          fc.record({
            version: json,
            resolution: fc.oneof(fc.constantFrom('a@npm:1.0.0', 'r@workspace:.', 'p@patch:x'), json),
          }),
          json,
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(pnpm, (value) => parsesOrRejects('pnpm-lock.yaml', toYaml(value))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(berry, (value) => parsesOrRejects('yarn.lock', toYaml(value))),
      { numRuns: 300 },
    );
  });
});

describe('parseLockfile on a large npm lockfile', () => {
  it('reads a generated v3 lockfile of 20k entries (over 5 MB) with their lines', () => {
    const packages: Record<string, unknown> = { '': { name: 'big', version: '1.0.0' } };
    for (let i = 0; i < 20_000; i += 1) {
      const name = i % 3 === 0 ? `@scope-${i % 50}/pkg-${i}` : `pkg-${i}`;
      const base = name.slice(name.lastIndexOf('/') + 1);
      packages[i % 2 === 0 ? `node_modules/${name}` : `node_modules/parent-${i}/node_modules/${name}`] = {
        version: `1.${i % 100}.${i % 7}`,
        resolved: `https://registry.npmjs.org/${name}/-/${base}-1.${i % 100}.${i % 7}.tgz`,
        integrity: `sha512-${'A'.repeat(86)}==`,
        dev: i % 5 === 0,
        dependencies: { [`dep-${i}`]: '^1.0.0', [`other-${i}`]: '~2.0.0' },
        engines: { node: '>=18' },
        license: 'MIT',
      };
    }
    const text = JSON.stringify(
      { name: 'big', version: '1.0.0', lockfileVersion: 3, requires: true, packages },
      null,
      2,
    );
    expect(text.length).toBeGreaterThan(5_000_000);
    const lock = parseLockfile('package-lock.json', text);
    expect(lock.packages).toHaveLength(20_000);
    // 10 lines of head and root entry, then 14 lines per entry: entry i starts at line 11 + 14 * i.
    expect(lock.packages[0]?.line).toBe(11);
    expect(lock.packages[19_999]?.line).toBe(11 + 14 * 19_999);
    expect(lock.packages.filter((p) => p.dev)).toHaveLength(4_000);
  });
});
