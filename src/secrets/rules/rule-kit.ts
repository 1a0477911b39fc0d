/** Pieces every rule file shares: token boundaries, alphabets, regex escaping and base64(url) JSON decoding. */

// Token boundaries: a credential starts after a character that cannot be part of it and ends before one.
// `-` counts as part of a token so `my-sk-…` or `…-suffix` never yield a truncated value.
/** Start-of-token boundary: no token character (letters, digits, `_`, `-`) before. */
export const B = String.raw`(?<![A-Za-z0-9_-])`;
/** End-of-token boundary: no token character after. */
export const E = String.raw`(?![A-Za-z0-9_-])`;

/** Lower-case hex digits. */
export const HEX = '0123456789abcdef';
/** Lower-case letters and digits. */
export const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Upper-case letters and digits. */
export const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A regex-safe spelling of a literal (a prefix, a key name). */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Base64 or base64url text decoded as UTF-8 (Node's decoder skips what it cannot read). */
export function decodeBase64Text(value: string): string {
  return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

/** The JSON object a base64(url) string decodes to (a JWT header, a token's payload), or null. */
export function decodeBase64Json(value: string): Record<string, unknown> | null {
  const text = decodeBase64Text(value);
  // Only an object is wanted: skip the parse for anything that cannot be one.
  if (!text.trimStart().startsWith('{')) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
