/**
 * Errors raised while reading a lockfile: one `ValidationError` shape naming the file and, when known, the line.
 */
import { ValidationError } from '../../core/errors.js';

/**
 * Builds the `ValidationError` for a lockfile problem; the message and the detail path read `file:line`.
 * @param file - The lockfile name as given by the caller.
 * @param line - 1-based line, or null when the problem has no single place (an empty file).
 * @param message - What is wrong and, where it helps, what to do.
 */
export function lockfileError(
  file: string,
  line: number | null,
  message: string,
  cause?: unknown,
): ValidationError {
  const where = line === null ? file : `${file}:${line}`;
  return new ValidationError(`${where}: ${message}`, {
    cause,
    details: [{ path: where, message }],
  });
}

/** An entry's `version`, which must be a string; else the error names the entry (`what` says which). */
export function requireVersion(file: string, line: number | null, what: string, entry: Record<string, unknown>): string {
  const version = entry['version'];
  if (typeof version === 'string') return version;
  const why = version === undefined ? 'has no version' : `has a version that is not a string (${typeof version})`;
  throw lockfileError(file, line, `${what} ${why}`);
}

/** 1-based line of a character offset in `text` (offsets past the end count as the last line). */
export function lineOfOffset(text: string, offset: number): number {
  const end = Math.min(Math.max(offset, 0), text.length);
  let line = 1;
  let at = text.indexOf('\n');
  while (at !== -1 && at < end) {
    line += 1;
    at = text.indexOf('\n', at + 1);
  }
  return line;
}

/** Number of lines in `text` (a trailing newline does not start a new line). */
export function lastLine(text: string): number {
  const trimmed = text.endsWith('\n') ? text.slice(0, -1) : text;
  return lineOfOffset(trimmed, trimmed.length);
}

/** Narrow an unknown JSON/YAML value to a plain object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a string, else null. */
export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
