import { describe, expect, it } from 'vitest';
import { classifySpec } from './classify-spec.js';

describe('classifySpec', () => {
  it.each([
    ['^1.2.3', 'registry'],
    ['1.2.3', 'registry'],
    ['latest', 'registry'],
    ['', 'registry'],
    ['npm:lodash@^4.17.21', 'registry'],
    ['npm:1.2.3', 'registry'],
    ['https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz', 'registry'],
    ['https://registry.yarnpkg.com/@s/n/-/n-1.0.0.tgz#0a1b2c', 'registry'],
    ['https://npm.corp.example/artifactory/api/npm/@s/n/-/n-1.0.0-beta.1.tgz', 'registry'],
    ['https://registry.npmjs.org/lodash', 'registry'],
    ['git+ssh://git@github.com/u/r.git#abc', 'git'],
    ['git+https://github.com/u/r.git', 'git'],
    ['git://github.com/u/r.git', 'git'],
    ['github:user/repo', 'git'],
    ['gitlab:user/repo#v1', 'git'],
    ['user/repo', 'git'],
    ['user/repo#semver:^1.0.0', 'git'],
    ['git@github.com:user/repo.git', 'git'],
    ['https://github.com/user/repo.git#commit=abc', 'git'],
    ['https://codeload.github.com/u/r/tar.gz/abc', 'git'],
    ['https://example.com/pkg-1.0.0.tgz', 'url'],
    ['http://example.com/download/pkg.tgz', 'url'],
    ['https://evil.example/pkg/-/pkg.tgz', 'url'],
    ['https://[bad', 'url'],
    ['file:../lib', 'file'],
    ['file:vendor/x-1.0.0.tgz', 'file'],
    ['../lib', 'file'],
    ['./lib', 'file'],
    ['/abs/lib', 'file'],
    ['link:../lib', 'link'],
    ['portal:../lib', 'link'],
    ['workspace:*', 'workspace'],
    ['workspace:packages/a', 'workspace'],
    ['patch:fsevents@npm%3A2.3.3#optional!builtin<compat/fsevents>', 'registry'],
    ['patch:is-negative@https%3A//github.com/u/r.git%23commit=abc#./p.patch', 'git'],
    ['patch:x@https%3A//example.com/x.tgz#./p.patch', 'url'],
    ['patch:x@%E0%A4%A#p', 'registry'],
    ['@scope/name', 'registry'],
  ])('%s → %s', (spec, kind) => {
    expect(classifySpec(spec)).toBe(kind);
  });

  it('treats patches nested beyond eight levels as url (unknown source)', () => {
    const nested = 'patch:a@'.repeat(12) + 'npm:1.0.0';
    expect(classifySpec(nested)).toBe('url');
    expect(classifySpec('patch:a@'.repeat(3) + 'npm:1.0.0')).toBe('registry');
  });
});
