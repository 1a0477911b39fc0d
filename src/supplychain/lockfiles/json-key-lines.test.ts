import { describe, expect, it } from 'vitest';
import { PATH_SEPARATOR, jsonKeyLines } from './json-key-lines.js';

const key = (...parts: string[]): string => parts.join(PATH_SEPARATOR);

describe('jsonKeyLines', () => {
  const text = [
    '{',
    '  "a": {',
    '    "x": 1,',
    '    "y": { "z": "a \\" } tricky { [" },',
    '    "list": [ { "x": 2 }, [ "x" ] ],',
    '    "w\\u0021": null',
    '  },',
    '  "x": "top"',
    '}',
  ].join('\n');

  it('records the line of every member key the caller wants, with array elements as #', () => {
    const lines = jsonKeyLines(text, () => true);
    expect([...lines.entries()]).toEqual([
      [key('a'), 2],
      [key('a', 'x'), 3],
      [key('a', 'y'), 4],
      [key('a', 'y', 'z'), 4],
      [key('a', 'list'), 5],
      [key('a', 'list', '#', 'x'), 5],
      [key('a', 'w!'), 6],
      [key('x'), 8],
    ]);
  });

  it('passes the parent path and key to the filter', () => {
    const lines = jsonKeyLines(
      text,
      (parent, k) => parent.length === 1 && parent[0] === 'a' && k.startsWith('w'),
    );
    expect([...lines.entries()]).toEqual([[key('a', 'w!'), 6]]);
  });
});
