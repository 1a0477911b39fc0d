import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import {
  findJsonSyntaxError,
  jsonLineFinder,
  lineColumn,
  locateJsonValue,
  MAX_JSON_DEPTH,
  parseJsonText,
} from './importer-json.js';

function jsonError(text: string): ValidationError {
  try {
    parseJsonText('f.json', text);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    return err as ValidationError;
  }
  throw new Error('expected invalid JSON');
}

describe('parseJsonText', () => {
  it('parses valid JSON', () => {
    expect(parseJsonText('f.json', ' {"a": [1, "x", null]} ')).toEqual({ a: [1, 'x', null] });
  });

  it.each([
    ['{"a": 1,\n}', 'f.json:2:1: invalid JSON: trailing comma before }'],
    ['[1,\n 2,\n ]', 'f.json:3:2: invalid JSON: trailing comma before ]'],
    ['{"a": 1\n "b": 2}', "f.json:2:2: invalid JSON: expected ',' or '}' after a property value"],
    ['{"a" 1}', "f.json:1:6: invalid JSON: expected ':' after a property name"],
    ["{'a': 1}", 'f.json:1:2: invalid JSON: expected a double-quoted property name'],
    ['{"a": \'x\'}', 'f.json:1:7: invalid JSON: strings must use double quotes'],
    ['{"a": "x\ny"}', 'f.json:1:9: invalid JSON: control character inside a string (escape it, e.g. \\n)'],
    ['{"a": "\\q"}', 'f.json:1:8: invalid JSON: invalid escape sequence in a string'],
    ['{"a": 01}', "f.json:1:8: invalid JSON: expected ',' or '}' after a property value"],
    ['{"a": tru}', 'f.json:1:7: invalid JSON: unexpected character "t" where a value was expected'],
    [
      '{"a": [1, 2',
      'f.json:1:12: invalid JSON: unexpected end of file: an array is not closed (the JSON is truncated)',
    ],
    [
      '{"a": "abc',
      'f.json:1:11: invalid JSON: unexpected end of file inside a string (the JSON is truncated)',
    ],
    ['{"a": 1} {"b": 2}', 'f.json:1:10: invalid JSON: unexpected data after the JSON value'],
  ])('%j → %s', (text, message) => {
    const err = jsonError(text);
    expect(err.message).toBe(message);
    expect(err.details).toHaveLength(1);
    expect(err.details[0]!.path).toBe(message.split(': ')[0]);
  });

  it('rejects nesting deeper than the limit quickly, before the engine parses it', () => {
    const started = Date.now();
    const err = jsonError('['.repeat(5_000_000));
    expect(err.message).toBe(
      `f.json:1:${MAX_JSON_DEPTH + 1}: invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels; this is not an export Keyward reads`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    // Brackets inside strings do not count.
    expect(parseJsonText('f.json', JSON.stringify({ s: '['.repeat(10_000) }))).toEqual({
      s: '['.repeat(10_000),
    });
  });
});

describe('locating values', () => {
  const text = '{\n  "a": {\n    "b": [10, {"c": "x"}],\n    "b": [20, 30]\n  },\n  "d\\"e": true\n}';

  it('finds the line of a value by path; a repeated key resolves to the last one, as JSON.parse does', () => {
    const lineOf = jsonLineFinder(text);
    expect(lineOf(['a'])).toBe(2);
    expect(lineOf(['a', 'b', 1])).toBe(4);
    expect(lineOf(['d"e'])).toBe(6);
    expect(lineOf(['a', 'missing'])).toBeNull();
    expect(lineOf(['a', 'b', 5])).toBeNull();
    expect(locateJsonValue(text, [])).toBe(0);
  });

  it('agrees with JSON.parse on where every value is (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, pretty) => {
        const t = JSON.stringify(value, null, pretty ? 2 : undefined);
        const walk = (v: unknown, path: Array<string | number>): void => {
          const offset = locateJsonValue(t, path);
          expect(offset).not.toBeNull();
          const firstLine = JSON.stringify(v, null, pretty ? 2 : undefined).split('\n')[0]!;
          expect(t.startsWith(firstLine, offset!)).toBe(true);
          if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
          else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
        };
        walk(JSON.parse(t), []);
      }),
      { numRuns: 200 },
    );
  });

  it('computes 1-based line and column', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('findJsonSyntaxError', () => {
  const agrees = (text: string): void => {
    let nativeOk = true;
    try {
      JSON.parse(text);
    } catch {
      nativeOk = false;
    }
    expect(findJsonSyntaxError(text) === null).toBe(nativeOk);
  };

  it('accepts exactly what JSON.parse accepts, for arbitrary strings (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), agrees), { numRuns: 3000 });
  });

  it('accepts exactly what JSON.parse accepts, for JSON with one character changed (property)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', '\\', 'x', '\n', '0', '-', ' ', '{', '['),
        (value, at, ch) => {
          const t = JSON.stringify(value);
          const i = at % (t.length + 1);
          agrees(t.slice(0, i) + ch + t.slice(i + 1));
          agrees(t.slice(0, i) + ch + t.slice(i));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('parseJsonText throws nothing but ValidationError (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          parseJsonText('f.json', text);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).message).toMatch(/^f\.json:\d+:\d+: invalid JSON: /);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
