import { ValidationError } from '../../core/errors.js';

/** The registry could not give what was asked: not found, refused, unreachable, too slow, or bytes that do not verify. */
export class RegistryError extends ValidationError {
  constructor(message: string, options: { cause?: unknown; subject?: string } = {}) {
    super(message, { cause: options.cause, details: [{ path: options.subject ?? 'registry', message }] });
  }
}

/** A URL fit for messages: no user:password, and no query string (signed URLs carry credentials there). */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    if (u.search !== '') u.search = '?…';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
