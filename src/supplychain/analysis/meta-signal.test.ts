import { describe, expect, it } from 'vitest';
import { jsonKeyLines, keyPathId, metaSignal } from './meta-signal.js';

describe('jsonKeyLines', () => {
  it('maps nested key paths to the line of their key', () => {
    const text = [
      '{',
      '  "name": "p",',
      '  "files": ["a", {"x": 1}],',
      '  "scripts": {',
      '    "test": "echo \\"}\\"",',
      '    "postinstall": "node x.js"',
      '  },',
      '  "dependencies": { "lodash.merge": "^4" }',
      '}',
    ].join('\n');
    const lines = jsonKeyLines(text);
    expect(lines.get(keyPathId(['name']))).toBe(2);
    expect(lines.get(keyPathId(['scripts']))).toBe(4);
    expect(lines.get(keyPathId(['scripts', 'test']))).toBe(5);
    expect(lines.get(keyPathId(['scripts', 'postinstall']))).toBe(6);
    expect(lines.get(keyPathId(['dependencies', 'lodash.merge']))).toBe(8);
    expect(lines.get(keyPathId(['postinstall']))).toBeUndefined();
  });

  it('returns an empty map for text that is not JSON-shaped', () => {
    expect(jsonKeyLines('not json').size).toBe(0);
  });
});

describe('metaSignal', () => {
  it('defaults the file to package.json and keeps the snippet to 160 characters on one line', () => {
    const s = metaSignal({
      ruleId: 'r',
      kind: 'threat',
      category: 'install-hook',
      severity: 'high',
      message: 'm',
      snippet: `a\n${'b'.repeat(200)}`,
    });
    expect(s.file).toBe('package.json');
    expect(s.snippet).toHaveLength(160);
    expect(s.snippet?.startsWith('a b')).toBe(true);
    expect([s.line, s.column]).toEqual([null, null]);
  });
});
