/** Option parsers shared by the commands; a bad value becomes commander's usage error (exit 2). */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../core/errors.js';

/** Parses a whole number within bounds, e.g. `--limit` (1–1000) or `--port` (0–65535). */
export function parseIntOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Parses a non-empty string option (commander accepts `--owner ''` otherwise). */
export function parseNonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('Expected a non-empty value.');
  return value;
}

/** A usage error naming the option or argument at fault (exit 2). */
export function usageError(message: string, path: string): never {
  throw new ValidationError(message, { details: [{ path, message }] });
}

/** The formats of scanner reports (`keyward scan`, `keyward npm …`). */
export const REPORT_FORMATS = ['table', 'json', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The report format from `--format`, where the global `--json` means json; anything else is a usage error. */
export function reportFormat(json: boolean, format: unknown): ReportFormat {
  const chosen = json ? 'json' : format === undefined ? 'table' : String(format);
  if (!(REPORT_FORMATS as readonly string[]).includes(chosen))
    usageError(`--format must be one of ${REPORT_FORMATS.join(', ')} (got "${chosen}")`, '--format');
  return chosen as ReportFormat;
}

/**
 * Reads a file an option names, as UTF-8; a missing or unreadable file is a usage error naming the option
 * (`what` says what the file is; `ifMissing` adds how to create it).
 */
export function readInputFile(file: string, option: string, what: string, ifMissing?: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    usageError(
      code === 'ENOENT'
        ? `${what} ${file} does not exist${ifMissing ? `; ${ifMissing}` : ''}`
        : `cannot read ${what} ${file}: ${code ?? String(err)}`,
      option,
    );
  }
}
