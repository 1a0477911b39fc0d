import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { parseDotenv } from './dotenv-parser.js';

function parseError(text: string): ValidationError {
  try {
    parseDotenv('.env', text);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a parse error');
}

describe('parseDotenv', () => {
  it('reads assignments with export, quotes, comments, blank lines and CRLF', () => {
    const text = [
      '# comment',
      '',
      'A=plain value  # trailing comment',
      'export B="double \\"quoted\\"\\nnext"',
      "C='single $NOT_EXPANDED \\n kept'",
      'D=`back tick`',
      'E=',
      '   F = spaced   ',
      'G=has#hash',
      'H="x" # after quote',
      'I=a=b=c',
    ].join('\r\n');
    expect(parseDotenv('.env', text)).toEqual([
      { key: 'A', value: 'plain value', line: 3, quote: null },
      { key: 'B', value: 'double "quoted"\nnext', line: 4, quote: '"' },
      { key: 'C', value: 'single $NOT_EXPANDED \\n kept', line: 5, quote: "'" },
      { key: 'D', value: 'back tick', line: 6, quote: '`' },
      { key: 'E', value: '', line: 7, quote: null },
      { key: 'F', value: 'spaced', line: 8, quote: null },
      { key: 'G', value: 'has#hash', line: 9, quote: null },
      { key: 'H', value: 'x', line: 10, quote: '"' },
      { key: 'I', value: 'a=b=c', line: 11, quote: null },
    ]);
  });

  it('reads multi-line quoted values and keeps counting lines after them', () => {
    const text = 'KEY="-----BEGIN KEY-----\nAAAA\n-----END KEY-----"\nNEXT=1\n';
    expect(parseDotenv('.env', text)).toEqual([
      { key: 'KEY', value: '-----BEGIN KEY-----\nAAAA\n-----END KEY-----', line: 1, quote: '"' },
      { key: 'NEXT', value: '1', line: 4, quote: null },
    ]);
  });

  it('names the line of every line that is not an assignment, without quoting it', () => {
    const err = parseError(
      'OK=1\nnot an assignment ghp_secretish\nJUST_A_NAME\n=value\nKEY: value\n9KEY=1\n',
    );
    expect(err.code).toBe('KW_INVALID_IMPORT');
    expect(err.details).toEqual([
      {
        path: '.env:2',
        message:
          'not a KEY=VALUE assignment (names start with a letter or _ and hold letters, digits, _ . -)',
      },
      { path: '.env:3', message: 'a variable name without "=" and a value; expected KEY=VALUE' },
      { path: '.env:4', message: 'an assignment without a variable name; expected KEY=VALUE' },
      { path: '.env:5', message: 'uses ":" instead of "="; expected KEY=VALUE' },
      {
        path: '.env:6',
        message:
          'not a KEY=VALUE assignment (names start with a letter or _ and hold letters, digits, _ . -)',
      },
    ]);
    expect(err.message).not.toContain('ghp_secretish');
  });

  it('reports an unterminated quote at the line that opens it, and text after a closing quote', () => {
    expect(parseError('A=1\nB="never closed\nC=2\n').details).toEqual([
      { path: '.env:2', message: 'the value of B opens a " quote that is never closed' },
    ]);
    expect(parseError('A="x"y\n').details).toEqual([
      { path: '.env:1', message: 'unexpected text after the closing " quote of A' },
    ]);
  });

  it('stops after 20 problems on a large bad file', () => {
    const err = parseError('bad line\n'.repeat(100_000));
    expect(err.details).toHaveLength(20);
    expect(err.message).toMatch(
      /^\.env:1: .*\(and 19 more problems\); stopped reading after this many problems$/,
    );
  });

  it('throws nothing but ValidationError, and every entry it returns has a valid name and line (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        try {
          const entries = parseDotenv('.env', text);
          const lines = text.split('\n').length;
          for (const e of entries) {
            expect(e.key).toMatch(/^[A-Za-z_][A-Za-z0-9_.-]*$/);
            expect(e.line).toBeGreaterThanOrEqual(1);
            expect(e.line).toBeLessThanOrEqual(lines);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).message.startsWith('.env:')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips generated assignments (property)', () => {
    const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9/+=:@.,-]{0,20}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 8 }), (pairs) => {
        const text = pairs.map(([k, v], i) => (i % 2 === 0 ? `${k}=${v}` : `export ${k}="${v}"`)).join('\n');
        expect(parseDotenv('.env', text).map((e) => [e.key, e.value])).toEqual(pairs);
      }),
    );
  });
});
