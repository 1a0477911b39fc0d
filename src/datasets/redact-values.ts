/**
 * Redacting one value, shared by every format's redactor: the placeholder a found span becomes, the rule that
 * blanks credential-named fields, and byte-level replacement for text kept as bytes.
 */
import { isCredentialFieldName } from './pii-detectors.js';
import { scanValue } from './scan-values.js';
import type { SecretScanner } from '../secrets/index.js';

/** What happened to one file of a redacted copy. */
export interface RedactedFile {
  path: string;
  /** `copied`: byte-for-byte copy; `redacted`: rewritten with placeholders; `not-redacted`: copied although it may hold findings. */
  action: 'copied' | 'redacted' | 'not-redacted';
  replacements: number;
  note?: string;
}

/** The placeholder a value of `type` (`email`, `secret:github-pat`, `credential-field`) is replaced by. */
export function placeholder(type: string): string {
  return `[REDACTED:${type}]`;
}

/**
 * The redacted text of one value and the number of replacements (0: `text` is returned as is). `key` is the
 * field or column the value sits under; `keyed` says whether that key names a field of the record (a credential
 * field name then blanks the whole value).
 */
export function redactText(
  scanner: SecretScanner,
  text: string,
  key: string | null,
  keyed: boolean,
): { text: string; count: number } {
  if (keyed && key !== null && text.length > 0 && isCredentialFieldName(key))
    return { text: placeholder('credential-field'), count: 1 };
  const hits = scanValue(scanner, text, key);
  if (hits.length === 0) return { text, count: 0 };
  let out = '';
  let at = 0;
  let count = 0;
  for (const h of hits) {
    if (h.start < at) continue;
    out += text.slice(at, h.start) + placeholder(h.type);
    at = h.end;
    count++;
  }
  return { text: out + text.slice(at), count };
}

/** Replaces every occurrence of `from` by `to` in `buf`. */
export function replaceBytes(buf: Buffer, from: Buffer, to: Buffer): Buffer {
  if (from.length === 0) return buf;
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = buf.indexOf(from, at); i !== -1; i = buf.indexOf(from, at)) {
    parts.push(buf.subarray(at, i), to);
    at = i + from.length;
  }
  if (at === 0) return buf;
  parts.push(buf.subarray(at));
  return Buffer.concat(parts);
}

/**
 * Text kept as bytes (a line, a string that is not valid UTF-8), redacted in place: each span found in `text` (its
 * decoding) is replaced wherever its bytes occur, and every other byte, invalid sequences included, is kept.
 */
export function redactBytes(
  scanner: SecretScanner,
  raw: Buffer,
  text: string,
  key: string | null,
): { out: Buffer; count: number } {
  const hits = scanValue(scanner, text, key);
  let out = raw;
  for (const h of hits)
    out = replaceBytes(out, Buffer.from(text.slice(h.start, h.end)), Buffer.from(placeholder(h.type)));
  return { out, count: hits.length };
}
