import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { findPackageDirs } from './node-modules.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'kw-nm-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function pkg(rel: string, name: string, version = '1.0.0'): void {
  mkdirSync(path.join(tmp, rel), { recursive: true });
  writeFileSync(path.join(tmp, rel, 'package.json'), JSON.stringify({ name, version }));
}

describe('findPackageDirs', () => {
  it('finds plain, scoped and nested packages, with warnings for the rest', () => {
    pkg('.', 'project');
    pkg('node_modules/a', 'a', '1.0.0');
    pkg('node_modules/@s/b', '@s/b', '2.0.0');
    pkg('node_modules/a/node_modules/c', 'c', '3.0.0');
    pkg('node_modules/@s/b/node_modules/@t/d', '@t/d', '4.0.0');
    mkdirSync(path.join(tmp, 'node_modules/.bin'));
    mkdirSync(path.join(tmp, 'node_modules/.cache/x'), { recursive: true });
    writeFileSync(path.join(tmp, 'node_modules/.package-lock.json'), '{}');
    mkdirSync(path.join(tmp, 'node_modules/empty'));
    mkdirSync(path.join(tmp, 'node_modules/broken'));
    writeFileSync(path.join(tmp, 'node_modules/broken/package.json'), '{oops');
    pkg('node_modules/noversion', 'noversion', '');
    const nm = path.join(tmp, 'node_modules');
    const found = findPackageDirs(tmp);
    expect(found.packages).toEqual([
      { dir: path.join(nm, '@s/b'), name: '@s/b', version: '2.0.0' },
      { dir: path.join(nm, '@s/b/node_modules/@t/d'), name: '@t/d', version: '4.0.0' },
      { dir: path.join(nm, 'a'), name: 'a', version: '1.0.0' },
      { dir: path.join(nm, 'a/node_modules/c'), name: 'c', version: '3.0.0' },
    ]);
    expect(found.warnings).toEqual([
      `${path.join(nm, 'broken/package.json')}: not valid JSON, skipped`,
      `${path.join(nm, 'empty')}: no package.json, skipped`,
      `${path.join(nm, 'noversion/package.json')}: no "name" and "version" strings, skipped`,
    ]);
    expect(findPackageDirs(nm).packages).toHaveLength(4);
  });

  it('deduplicates symlinked packages by real path and survives loops and broken links', () => {
    pkg('store/real', 'real', '1.0.0');
    mkdirSync(path.join(tmp, 'node_modules'));
    symlinkSync(path.join(tmp, 'store/real'), path.join(tmp, 'node_modules/alias1'));
    symlinkSync(path.join(tmp, 'store/real'), path.join(tmp, 'node_modules/alias2'));
    mkdirSync(path.join(tmp, 'store/real/node_modules'));
    symlinkSync(path.join(tmp, 'store/real'), path.join(tmp, 'store/real/node_modules/self'));
    symlinkSync(path.join(tmp, 'missing'), path.join(tmp, 'node_modules/gone'));
    const found = findPackageDirs(tmp);
    expect(found.packages).toEqual([
      { dir: path.join(tmp, 'node_modules/alias1'), name: 'real', version: '1.0.0' },
    ]);
    expect(found.warnings).toEqual([`${path.join(tmp, 'node_modules/gone')}: broken symlink, skipped`]);
  });

  it('reads the pnpm layout', () => {
    const store = 'node_modules/.pnpm';
    pkg(`${store}/a@1.0.0/node_modules/a`, 'a', '1.0.0');
    pkg(`${store}/@s+b@2.0.0/node_modules/@s/b`, '@s/b', '2.0.0');
    pkg(`${store}/hidden@3.0.0/node_modules/hidden`, 'hidden', '3.0.0');
    symlinkSync(
      path.join(tmp, store, '@s+b@2.0.0/node_modules/@s/b'),
      path.join(tmp, store, 'a@1.0.0/node_modules/b-link'),
    );
    symlinkSync(path.join(tmp, store, 'a@1.0.0/node_modules/a'), path.join(tmp, 'node_modules/a'));
    mkdirSync(path.join(tmp, store, 'node_modules'));
    writeFileSync(path.join(tmp, store, 'lock.yaml'), '');
    const found = findPackageDirs(tmp);
    expect(found.packages.map((p) => [path.relative(tmp, p.dir), p.name, p.version])).toEqual([
      ['node_modules/a', 'a', '1.0.0'],
      [`${store}/@s+b@2.0.0/node_modules/@s/b`, '@s/b', '2.0.0'],
      [`${store}/hidden@3.0.0/node_modules/hidden`, 'hidden', '3.0.0'],
    ]);
    expect(found.warnings).toEqual([]);
  });

  it('refuses a directory without node_modules', () => {
    expect(() => findPackageDirs(tmp)).toThrow(ValidationError);
    expect(() => findPackageDirs(tmp)).toThrow(`${tmp}: no node_modules directory here`);
  });
});
