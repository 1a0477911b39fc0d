import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConflictError, KeywardError, NotFoundError, StoreError, ValidationError } from '../core/errors.js';
import { describeError, EXIT } from './cli-errors.js';

const quiet = { verbose: false };

describe('describeError', () => {
  it('maps a validation error to exit 2 with one message line and a line per detail', () => {
    const err = new ValidationError('app.env is not a valid dotenv file', {
      code: 'KW_INVALID_IMPORT',
      details: [
        { path: 'app.env:3', message: 'expected KEY=VALUE' },
        { path: 'app.env:9', message: 'unterminated quote' },
      ],
    });
    expect(describeError(err, quiet)).toEqual({
      exitCode: 2,
      lines: [
        'keyward: app.env is not a valid dotenv file',
        '  at app.env:3: expected KEY=VALUE',
        '  at app.env:9: unterminated quote',
      ],
    });
  });

  it('does not repeat a detail that the message already states', () => {
    const err = new ValidationError('t.json:1:36: invalid JSON: the JSON is truncated', {
      code: 'KW_INVALID_IMPORT',
      details: [
        { path: 't.json:1:36', message: 'the JSON is truncated' },
        { path: 't.json', message: 'something else' },
      ],
    });
    expect(describeError(err, { verbose: false })).toEqual({
      exitCode: 2,
      lines: ['keyward: t.json:1:36: invalid JSON: the JSON is truncated', '  at t.json: something else'],
    });
  });

  it('maps not-found and conflict errors to exit 2', () => {
    expect(describeError(new NotFoundError('no identity with id or name "x"'), quiet)).toEqual({
      exitCode: EXIT.usage,
      lines: ['keyward: no identity with id or name "x"'],
    });
    expect(describeError(new ConflictError('exists'), quiet).exitCode).toBe(2);
  });

  it('maps a store error to exit 3 with a hint, and prints the cause only with --verbose', () => {
    const cause = Object.assign(new Error('SQLITE_BUSY: database is locked\nmore'), { code: 'SQLITE_BUSY' });
    const err = new StoreError('could not read identities', { cause });
    expect(describeError(err, quiet)).toEqual({
      exitCode: 3,
      lines: ['keyward: could not read identities (run again with --verbose to see the cause)'],
    });
    expect(describeError(err, { verbose: true })).toEqual({
      exitCode: 3,
      lines: [
        'keyward: could not read identities',
        '  cause: Error [SQLITE_BUSY]: SQLITE_BUSY: database is locked',
      ],
    });
  });

  it('maps an internal Keyward error to exit 3', () => {
    expect(describeError(new KeywardError('KW_INTERNAL', 'broken'), quiet)).toEqual({
      exitCode: 3,
      lines: ['keyward: broken (run again with --verbose to see the cause)'],
    });
  });

  it('maps an unexpected error to exit 3 without a stack trace unless verbose', () => {
    const err = new TypeError('x is not a function');
    const plain = describeError(err, quiet);
    expect(plain).toEqual({
      exitCode: 3,
      lines: ['keyward: internal error: x is not a function (run again with --verbose to see the cause)'],
    });
    const verbose = describeError(err, { verbose: true });
    expect(verbose.exitCode).toBe(3);
    expect(verbose.lines[0]).toBe('keyward: internal error: x is not a function');
    expect(verbose.lines.slice(1).some((l) => l.includes('cli-errors.test.ts'))).toBe(true);
    expect(describeError('a string', quiet).lines).toEqual([
      'keyward: internal error: a string (run again with --verbose to see the cause)',
    ]);
  });

  it('maps a file-system error on a path to exit 2 naming the path', () => {
    const err = Object.assign(new Error("EACCES: permission denied, mkdir '/root/kw'"), {
      code: 'EACCES',
      path: '/root/kw',
    });
    expect(describeError(err, quiet)).toEqual({
      exitCode: 2,
      lines: ['keyward: /root/kw: permission denied'],
    });
  });

  it('maps commander usage errors to exit 2 and help/version to 0, printing nothing more', () => {
    expect(
      describeError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), quiet),
    ).toEqual({ exitCode: 2, lines: [] });
    expect(describeError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), quiet)).toEqual({
      exitCode: 0,
      lines: [],
    });
  });

  it('survives a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const err = new StoreError('loop', { cause: a });
    expect(describeError(err, { verbose: true }).lines).toEqual([
      'keyward: loop',
      '  cause: Error: a',
      '  cause: Error: b',
    ]);
  });
});
