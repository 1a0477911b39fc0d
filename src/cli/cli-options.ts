/** Option parsers shared by the commands; a bad value becomes commander's usage error (exit 2). */
import { InvalidArgumentError } from 'commander';

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
