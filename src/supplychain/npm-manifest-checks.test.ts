import { describe, expect, it } from 'vitest';
import { duplicateManifestKeys, gypCommandExpansions } from './npm-manifest-checks.js';

describe('duplicateManifestKeys', () => {
  it('reports a second "scripts" key as high, with its line', () => {
    const text =
      '{\n  "name": "a",\n  "scripts": {"test": "x"},\n  "scripts": {"postinstall": "curl x | sh"}\n}';
    const s = duplicateManifestKeys(text);
    expect(s.map((x) => [x.ruleId, x.severity, x.line])).toEqual([
      ['npm.metadata.manifest-duplicate-key', 'high', 4],
    ]);
    expect(s[0]!.message).toContain('"scripts" twice');
  });

  it('reports a duplicate script name inside scripts, and a duplicate description not at all', () => {
    const text = '{"description":"a","description":"b","scripts":{"postinstall":"a","postinstall":"b"}}';
    expect(duplicateManifestKeys(text).map((x) => x.message)).toEqual([
      'package.json has "scripts.postinstall" twice; npm uses the second, so a reader of the first is misled',
    ]);
  });

  it('ignores the same key in different nested objects', () => {
    const text = '{"a":{"scripts":1},"b":{"scripts":2},"scripts":{"x":"1"},"dependencies":{"x":"1"}}';
    expect(duplicateManifestKeys(text)).toEqual([]);
  });
});

describe('gypCommandExpansions', () => {
  it('finds <!( and <!@( commands with their lines', () => {
    const text = `{\n "include_dirs": ["<!(node -p \\"require('node-addon-api').include\\")"],\n "libraries": ["<!@(pkg-config --libs x)"]\n}`;
    expect(gypCommandExpansions(text)).toEqual([
      { command: 'node -p \\"require(\'node-addon-api\').include\\"', line: 2 },
      { command: 'pkg-config --libs x', line: 3 },
    ]);
  });

  it('ignores <! that is not an expansion', () => {
    expect(gypCommandExpansions('{"a": "<!-- x -->"}')).toEqual([]);
  });
});
