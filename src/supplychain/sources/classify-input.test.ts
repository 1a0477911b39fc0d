import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { classifyInput } from './classify-input.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'kw-classify-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function file(rel: string, content = '{}'): string {
  mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  writeFileSync(path.join(tmp, rel), content);
  return path.join(tmp, rel);
}

describe('classifyInput', () => {
  it('recognises lockfiles and tarballs by name', () => {
    for (const name of ['package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock']) {
      expect(classifyInput(file(`l/${name}`))).toBe('lockfile');
    }
    expect(classifyInput(file('a-1.0.0.tgz'))).toBe('tarball');
    expect(classifyInput(file('b-1.0.0.TAR.GZ'))).toBe('tarball');
  });

  it('recognises node_modules, project, package and packages directories', () => {
    mkdirSync(path.join(tmp, 'proj/node_modules'), { recursive: true });
    file('proj/package.json');
    expect(classifyInput(path.join(tmp, 'proj'))).toBe('project');
    expect(classifyInput(path.join(tmp, 'proj/node_modules'))).toBe('node_modules');
    file('pkg/package.json');
    expect(classifyInput(path.join(tmp, 'pkg'))).toBe('package-dir');
    file('many/one/package.json');
    file('many/two-1.0.0.tgz');
    file('many/.DS_Store');
    expect(classifyInput(path.join(tmp, 'many'))).toBe('packages-dir');
  });

  it('refuses anything else, naming the path', () => {
    const missing = path.join(tmp, 'nope');
    expect(() => classifyInput(missing)).toThrow(ValidationError);
    expect(() => classifyInput(missing)).toThrow(`${missing}: does not exist`);
    expect(() => classifyInput(file('notes.txt'))).toThrow(
      `${path.join(tmp, 'notes.txt')}: is not a lockfile`,
    );
    // A directory of packages may hold other files (a README), but not directories that are not packages.
    file('mixed/one/package.json');
    file('mixed/readme.md');
    expect(classifyInput(path.join(tmp, 'mixed'))).toBe('packages-dir');
    file('mixed/src/index.js');
    expect(() => classifyInput(path.join(tmp, 'mixed'))).toThrow(
      `${path.join(tmp, 'mixed')}: is not a lockfile, a tarball`,
    );
    mkdirSync(path.join(tmp, 'empty'));
    expect(() => classifyInput(path.join(tmp, 'empty'))).toThrow(ValidationError);
  });
});
