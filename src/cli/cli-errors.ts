/** The one place where the CLI turns an error into the lines it prints and the exit code it returns. */
import { CommanderError } from 'commander';
import { isKeywardError, type ErrorCode } from '../core/errors.js';

/** Exit codes of every `keyward` command. */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The command ran, and what it found fails the check (`--fail-on`, a broken audit chain). */
  failed: 1,
  /** Bad usage or bad input: flags, files, validation errors, unknown names. */
  usage: 2,
  /** The store or Keyward itself failed. */
  internal: 3,
} as const;

/** What to print to stderr and which exit code to return for an error. */
export interface CliFailure {
  exitCode: number;
  /** Lines for stderr, without trailing newlines (empty when commander already printed its message). */
  lines: string[];
}

/** Error codes that mean the input was wrong (exit 2) rather than Keyward failing (exit 3). */
const INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KW_VALIDATION',
  'KW_INVALID_IMPORT',
  'KW_INVALID_CONFIG',
  'KW_NOT_FOUND',
  'KW_CONFLICT',
  'KW_FORBIDDEN',
  'KW_UNAUTHORIZED',
  'KW_PAYLOAD_TOO_LARGE',
]);

/** File-system error codes that point at a path the user gave or can fix. */
const FS_INPUT_CODES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
};

const VERBOSE_HINT = '(run again with --verbose to see the cause)';

/** Reads a string property of an unknown value. */
function prop(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

/** The first line of an error's message (driver messages can span lines). */
function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? '';
}

/** Lines describing the chain of causes behind an error, for `--verbose`. */
function causeLines(err: unknown): string[] {
  const lines: string[] = [];
  let cause: unknown = err instanceof Error ? err.cause : undefined;
  const seen = new Set<unknown>();
  while (cause !== undefined && cause !== null && !seen.has(cause)) {
    seen.add(cause);
    const name = cause instanceof Error ? cause.name : typeof cause;
    const code = prop(cause, 'code');
    lines.push(`  cause: ${name}${code ? ` [${code}]` : ''}: ${firstLine(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines;
}

/**
 * Maps any error to a CLI failure: Keyward input errors → 2 with one `keyward: …` line and `  at <path>: …`
 * detail lines; store and unexpected errors → 3 with a hint to use `--verbose` (which adds the causes);
 * commander's usage errors → 2 (commander has printed its message already). Never a stack trace unless verbose.
 */
export function describeError(err: unknown, options: { verbose: boolean }): CliFailure {
  if (err instanceof CommanderError) {
    return { exitCode: err.exitCode === 0 ? EXIT.ok : EXIT.usage, lines: [] };
  }
  if (isKeywardError(err)) {
    if (INPUT_CODES.has(err.code)) {
      // A single detail often repeats the message word for word; print only what adds something.
      const details = err.details.filter(
        (d) => !err.message.includes(`${d.path}: ${d.message}`) && !err.message.endsWith(d.message),
      );
      const lines = [`keyward: ${err.message}`, ...details.map((d) => `  at ${d.path}: ${d.message}`)];
      if (options.verbose) lines.push(...causeLines(err));
      return { exitCode: EXIT.usage, lines };
    }
    return {
      exitCode: EXIT.internal,
      lines: options.verbose
        ? [`keyward: ${err.message}`, ...causeLines(err)]
        : [`keyward: ${err.message} ${VERBOSE_HINT}`],
    };
  }
  const code = prop(err, 'code');
  const path = prop(err, 'path');
  if (code && path && FS_INPUT_CODES[code]) {
    return { exitCode: EXIT.usage, lines: [`keyward: ${path}: ${FS_INPUT_CODES[code]}`] };
  }
  const lines = [`keyward: internal error: ${firstLine(err)}${options.verbose ? '' : ` ${VERBOSE_HINT}`}`];
  if (options.verbose) {
    if (err instanceof Error && err.stack) lines.push(...err.stack.split('\n').slice(1));
    lines.push(...causeLines(err));
  }
  return { exitCode: EXIT.internal, lines };
}
