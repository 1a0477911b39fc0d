import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-limits.js';
import { readPackageDir } from './package-dir.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'kw-pkgdir-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, content: string): void {
  mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  writeFileSync(path.join(tmp, rel), content);
}

describe('readPackageDir', () => {
  it('lists files sorted and POSIX, skips node_modules and .git, reads on demand', () => {
    write('package.json', JSON.stringify({ name: '@s/demo', version: '2.0.0' }));
    write('lib/index.js', 'exports.a = 1;');
    write('bin/run', '#!/bin/sh\n');
    chmodSync(path.join(tmp, 'bin/run'), 0o755);
    write('node_modules/dep/package.json', '{}');
    write('.git/HEAD', 'ref');
    write('lib/node_modules/x.js', 'nested');
    const pkg = readPackageDir(tmp);
    expect(pkg.name).toBe('@s/demo');
    expect(pkg.version).toBe('2.0.0');
    expect(pkg.origin).toEqual({ kind: 'directory', location: tmp });
    expect(pkg.files.map((f) => [f.path, f.size, f.executable])).toEqual([
      ['bin/run', 10, true],
      ['lib/index.js', 14, false],
      ['package.json', 36, false],
    ]);
    writeFileSync(path.join(tmp, 'lib/index.js'), 'changed');
    expect(Buffer.from(pkg.files[1]!.read()).toString()).toBe('changed');
    expect(pkg.notes).toEqual([]);
  });

  it('never follows symlinks and says when they escape', () => {
    write('package.json', JSON.stringify({ name: 'demo', version: '1.0.0' }));
    write('real.js', 'x');
    symlinkSync('real.js', path.join(tmp, 'inside.js'));
    symlinkSync('/etc/passwd', path.join(tmp, 'outside'));
    mkdirSync(path.join(tmp, 'sub'));
    symlinkSync('../../..', path.join(tmp, 'sub', 'up'));
    const pkg = readPackageDir(tmp);
    expect(pkg.files.map((f) => f.path)).toEqual(['package.json', 'real.js']);
    expect(pkg.notes).toEqual([
      'symlink inside.js -> real.js was not followed',
      'symlink outside -> /etc/passwd was not followed (its target escapes the package)',
      'symlink sub/up -> ../../.. was not followed (its target escapes the package)',
    ]);
  });

  it('refuses to read a file replaced by a symlink after the walk', () => {
    write('package.json', JSON.stringify({ name: 'demo', version: '1.0.0' }));
    write('a.js', 'x');
    const pkg = readPackageDir(tmp);
    unlinkSync(path.join(tmp, 'a.js'));
    symlinkSync('/etc/hostname', path.join(tmp, 'a.js'));
    expect(() => pkg.files[0]!.read()).toThrow(ArchiveError);
  });

  it('applies the entry and size limits', () => {
    write('package.json', JSON.stringify({ name: 'demo', version: '1.0.0' }));
    for (let i = 0; i < 5; i++) write(`f${i}.js`, 'x'.repeat(100));
    expect(() => readPackageDir(tmp, { limits: { maxEntries: 3 } })).toThrow(
      `${tmp}: entry "f3.js" is past the limit of 3 entries`,
    );
    expect(() => readPackageDir(tmp, { limits: { maxFileBytes: 50 } })).toThrow(
      `${tmp}: file "f0.js" is 100 bytes, above the limit of 50 bytes per file`,
    );
    expect(() => readPackageDir(tmp, { limits: { maxTotalBytes: 250 } })).toThrow(
      `${tmp}: files add up to more than 250 bytes`,
    );
  });

  it('refuses a missing package.json and a missing directory', () => {
    write('index.js', 'x');
    expect(() => readPackageDir(tmp)).toThrow(`${tmp}: package has no package.json at its top`);
    expect(() => readPackageDir(path.join(tmp, 'nope'))).toThrow(ArchiveError);
  });
});
