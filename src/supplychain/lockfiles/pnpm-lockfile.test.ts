import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import type { Row } from './test-support/lockfile-fixtures.js';
import { fixture, row } from './test-support/lockfile-fixtures.js';
import { parsePnpmLockfile } from './pnpm-lockfile.js';

const GIT_SHA = '1d7e288222b53a0cab90a331f1865220ec29560c';
const POS_SHA = '97edff6f525f192a3f83cea1944765f769ae2678';
const CODELOAD = `https://codeload.github.com/kevva/is-negative/tar.gz/${GIT_SHA}`;

function messageOf(text: string): string {
  try {
    parsePnpmLockfile('pnpm-lock.yaml', text);
  } catch (err) {
    if (err instanceof ValidationError) return err.message;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('parsePnpmLockfile', () => {
  it('reads v5.4 keys (/name/version, peer suffix _react@…), dev, optional, requiresBuild, tarball and directory', () => {
    const lock = parsePnpmLockfile('pnpm-lock.yaml', fixture('pnpm-v5/pnpm-lock.yaml'));
    expect(lock.format).toBe('pnpm');
    expect(lock.root).toEqual({ name: null, version: null });
    expect(lock.packages.map(row)).toEqual<Row[]>([
      ['@scope/inner', '2.1.0', 'registry', null, 'sha512-FFFFinner2', null, false, false, false, 29],
      ['fsevents', '2.3.3', 'registry', null, 'sha512-BBBBfsevents', null, false, true, true, 33],
      ['left-pad', '1.3.0', 'registry', null, 'sha512-GGGGleftpad', null, true, false, false, 41],
      ['lodash', '4.17.21', 'registry', null, 'sha512-CCCClodash', null, false, false, false, 45],
      ['react-dom', '18.2.0', 'registry', null, 'sha512-IIIIreactdom', null, false, false, false, 49],
      ['react', '18.2.0', 'registry', null, 'sha512-JJJJreact', null, false, false, false, 57],
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
        61,
      ],
      ['local-lib', '0.0.1', 'file', '../local-lib', null, null, false, false, false, 67],
      ['is-negative', '2.1.0', 'git', CODELOAD, null, null, false, false, false, 73],
    ]);
  });

  it('reads v6 keys (/name@version(peer@…)) and git resolutions', () => {
    const lock = parsePnpmLockfile('pnpm-lock.yaml', fixture('pnpm-v6/pnpm-lock.yaml'));
    expect(lock.packages.map(row)).toEqual<Row[]>([
      ['@scope/inner', '2.1.0', 'registry', null, 'sha512-FFFFinner2', null, false, false, false, 39],
      ['fsevents', '2.3.3', 'registry', null, 'sha512-BBBBfsevents', null, false, true, true, 43],
      ['left-pad', '1.3.0', 'registry', null, 'sha512-GGGGleftpad', null, true, false, false, 51],
      ['lodash', '4.17.21', 'registry', null, 'sha512-CCCClodash', null, false, false, false, 55],
      ['react-dom', '18.2.0', 'registry', null, 'sha512-IIIIreactdom', null, false, false, false, 59],
      ['react', '18.2.0', 'registry', null, 'sha512-JJJJreact', null, false, false, false, 67],
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
        71,
      ],
      ['local-lib', '0.0.1', 'file', '../local-lib', null, null, false, false, false, 77],
      [
        'is-positive',
        '3.1.0',
        'git',
        `https://github.com/kevva/is-positive.git#${POS_SHA}`,
        null,
        null,
        false,
        false,
        false,
        83,
      ],
    ]);
  });

  it('reads v9 packages; optional comes from snapshots, dev from the importers graph', () => {
    const lock = parsePnpmLockfile('pnpm-lock.yaml', fixture('pnpm-v9/pnpm-lock.yaml'));
    expect(lock.packages.map(row)).toEqual<Row[]>([
      ['@scope/inner', '2.1.0', 'registry', null, 'sha512-FFFFinner2', null, false, false, false, 43],
      ['fsevents', '2.3.3', 'registry', null, 'sha512-BBBBfsevents', null, false, true, false, 46],
      ['is-negative', '2.1.0', 'git', CODELOAD, null, null, false, false, false, 51],
      [
        'is-positive',
        '3.1.0',
        'git',
        `git@github.com:kevva/is-positive.git#${POS_SHA}`,
        null,
        null,
        false,
        false,
        false,
        56,
      ],
      ['left-pad', '1.3.0', 'registry', null, 'sha512-GGGGleftpad', null, true, false, false, 61],
      ['local-lib', '0.0.1', 'file', '../local-lib', null, null, false, false, false, 64],
      ['lodash', '4.17.21', 'registry', null, 'sha512-CCCClodash', null, false, false, false, 68],
      ['react-dom', '18.2.0', 'registry', null, 'sha512-IIIIreactdom', null, false, false, false, 71],
      ['react', '18.2.0', 'registry', null, 'sha512-JJJJreact', null, false, false, false, 76],
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
        79,
      ],
    ]);
  });

  it('strips every peer suffix form and splits scoped names', () => {
    const text = [
      "lockfileVersion: '6.0'",
      'packages:',
      '  /@s/n@1.0.0(react@18.0.0)(react-dom@18.0.0):',
      '    resolution: {integrity: sha512-x}',
      '  /a@2.0.0-beta.1:',
      '    resolution: {integrity: sha512-y}',
    ].join('\n');
    expect(
      parsePnpmLockfile('pnpm-lock.yaml', text).packages.map((p) => [p.name, p.version, p.line]),
    ).toEqual([
      ['@s/n', '1.0.0', 3],
      ['a', '2.0.0-beta.1', 5],
    ]);
    const v5 =
      'lockfileVersion: 5.3\npackages:\n  /@s/n/1.0.0_react@18.0.0+react-dom@18.0.0:\n    resolution: {integrity: sha512-x}\n';
    expect(parsePnpmLockfile('pnpm-lock.yaml', v5).packages.map((p) => [p.name, p.version])).toEqual([
      ['@s/n', '1.0.0'],
    ]);
  });

  it('marks v9 packages dev only when no production dependency reaches them', () => {
    const text = [
      "lockfileVersion: '9.0'",
      'importers:',
      '  .:',
      '    dependencies:',
      '      app-lib: {specifier: ^1.0.0, version: 1.0.0}',
      "      my-shared: {specifier: npm:@s/shared@^2, version: '@s/shared@2.0.0'}",
      '    devDependencies:',
      '      tool: {specifier: ^3.0.0, version: 3.0.0(app-lib@1.0.0)}',
      'packages:',
      '  app-lib@1.0.0: {resolution: {integrity: sha512-a}}',
      "  '@s/shared@2.0.0': {resolution: {integrity: sha512-s}}",
      '  tool@3.0.0: {resolution: {integrity: sha512-t}}',
      '  tool-only@1.0.0: {resolution: {integrity: sha512-o}}',
      'snapshots:',
      '  app-lib@1.0.0: {}',
      "  '@s/shared@2.0.0': {}",
      '  tool@3.0.0(app-lib@1.0.0):',
      "    dependencies: {app-lib: 1.0.0, tool-only: 1.0.0, shared-alias: '@s/shared@2.0.0'}",
      '  tool-only@1.0.0: {}',
    ].join('\n');
    expect(parsePnpmLockfile('pnpm-lock.yaml', text).packages.map((p) => [p.name, p.dev])).toEqual([
      ['app-lib', false],
      ['@s/shared', false],
      ['tool', true],
      ['tool-only', true],
    ]);
  });

  it('accepts a lockfile without packages', () => {
    expect(parsePnpmLockfile('pnpm-lock.yaml', "lockfileVersion: '9.0'\nimporters: {}\n").packages).toEqual(
      [],
    );
  });

  it('rejects unknown versions, YAML errors and bad entries with their line', () => {
    expect(messageOf("lockfileVersion: '7.0'\n")).toBe(
      'pnpm-lock.yaml:1: lockfileVersion "7.0" is not supported; supported pnpm lockfile versions: 5.x, 6.x, 9.x',
    );
    expect(messageOf('importers: {}\n')).toBe(
      'pnpm-lock.yaml:1: lockfileVersion is missing; supported pnpm lockfile versions: 5.x, 6.x, 9.x',
    );
    expect(messageOf("lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: [\n")).toMatch(
      /^pnpm-lock\.yaml:4: invalid YAML: /,
    );
    expect(messageOf("lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    version: 1\n")).toBe(
      'pnpm-lock.yaml:3: package "a@1.0.0" has a version that is not a string (number)',
    );
    expect(messageOf("lockfileVersion: '9.0'\npackages:\n  a:\n    resolution: {integrity: x}\n")).toBe(
      'pnpm-lock.yaml:3: package "a" has no version',
    );
    expect(messageOf("lockfileVersion: '9.0'\npackages:\n  a@1.0.0: 3\n")).toBe(
      'pnpm-lock.yaml:3: package "a@1.0.0" must be a mapping',
    );
    expect(messageOf("lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {resolution: x}\n")).toBe(
      'pnpm-lock.yaml:3: package "a@1.0.0" has a "resolution" that is not a mapping',
    );
    expect(messageOf("lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\n  a@1.0.0: {}\n")).toBe(
      'pnpm-lock.yaml:4: invalid YAML: the key "a@1.0.0" appears twice in one mapping',
    );
    expect(messageOf('- a\n- b\n')).toBe(
      'pnpm-lock.yaml:1: pnpm-lock.yaml must be a YAML mapping at the top',
    );
  });
});
