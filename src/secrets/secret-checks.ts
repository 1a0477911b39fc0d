/**
 * Format checks shared by the rules: base62 CRC32 checksums (GitHub and npm tokens), Shannon entropy, and the
 * placeholder test that keeps documentation values (`AKIAIOSFODNN7EXAMPLE`, `xxxx`, `<your-key>`) out of reports.
 */
import { crc32 } from 'node:zlib';

/** The base62 alphabet GitHub and npm tokens use, in digit order. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 encoding of an unsigned 32-bit number, left-padded with `0` to `width` characters. */
export function base62(n: number, width = 6): string {
  let out = '';
  let v = n >>> 0;
  while (v > 0) {
    out = BASE62[v % 62]! + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

/** The 6-character base62 CRC32 checksum GitHub and npm append to a token's random part. */
export function crc32Base62(body: string): string {
  return base62(crc32(Buffer.from(body, 'latin1')));
}

/**
 * Checks a GitHub-style token: after `prefix`, a base62 body whose last 6 characters are the base62 CRC32 of
 * the rest. GitHub: "Behind GitHub's new authentication token formats" (2021); npm granular tokens use the same.
 */
export function hasValidCrc32Suffix(token: string, prefix: string): boolean {
  if (!token.startsWith(prefix)) return false;
  const body = token.slice(prefix.length);
  if (body.length < 7) return false;
  return crc32Base62(body.slice(0, -6)) === body.slice(-6);
}

export { shannonEntropy } from '../core/randomness.js';

// Words that mark documentation and test values. Long words count anywhere; the short ones (`fake`, `xxxx`,
// `...`) only in short values or set apart by punctuation, since a long random key (a 1,600-character PEM body)
// holds a given four-letter string by chance about once in 600.
const PLACEHOLDER_WORDS =
  /example|sample|dummy|placeholder|changeme|change_me|your[-_ ]?(?:api[-_ ]?)?(?:key|token|secret|password)|insert[-_ ]?(?:your|key|token)|redacted|notreal|not[-_]a[-_]real|\*\*\*\*|…/i;
const SHORT_PLACEHOLDER_WORDS = /fake|xxxx|\.\.\./i;
const SHORT_PLACEHOLDER_DELIMITED =
  /(?:^|[^A-Za-z0-9])(?:fake|x{4,})(?:[^A-Za-z0-9]|$)|\.\.\.|(?:fake){2}|x{8}/i;
/** Values up to this long are short enough for the short placeholder words to count anywhere. */
const SHORT_VALUE = 64;
const TEMPLATE = /^\$\{[^}]*\}$|^\$[A-Z_][A-Z0-9_]*$|^\{\{.*\}\}$|^<[^>]*>$|^%[A-Z_]+%$|^\$\([^)]*\)$/;
const ENV_REFERENCE = /^(?:process\.env|os\.environ|env|ENV|System\.getenv|os\.Getenv|std::env::var)\b/;

/** True when every character is the same or the value runs through an alphabet (`abcdef`, `123456`, `aaaa`). */
export function isRepetitive(value: string): boolean {
  if (value.length < 4) return false;
  const first = value[0];
  if ([...value].every((c) => c === first)) return true;
  let up = 0;
  let down = 0;
  for (let i = 1; i < value.length; i++) {
    const d = value.charCodeAt(i) - value.charCodeAt(i - 1);
    if (d === 1) up++;
    else if (d === -1) down++;
  }
  if (up >= value.length - 2 || down >= value.length - 2) return true;
  // A short unit repeated (`abcabcabc`, `0x0x0x0x`).
  for (let unit = 2; unit <= 4 && unit * 3 <= value.length; unit++) {
    const head = value.slice(0, unit);
    if (head.repeat(Math.ceil(value.length / unit)).slice(0, value.length) === value) return true;
  }
  return false;
}

/**
 * True when the value is a placeholder or documentation value rather than a credential: template references
 * (`${VAR}`, `{{ secret }}`, `<your-key>`, `process.env.X`), words such as EXAMPLE, xxxx, changeme, and
 * repeated or sequential characters. Checked on the value a rule extracted; `body` is the part after a
 * fixed prefix (so `sk-` + `xxxxxxxx` counts as repetitive).
 */
export function isPlaceholder(value: string, body: string = value): boolean {
  if (TEMPLATE.test(value) || ENV_REFERENCE.test(value)) return true;
  if (PLACEHOLDER_WORDS.test(value)) return true;
  if (
    value.length <= SHORT_VALUE
      ? SHORT_PLACEHOLDER_WORDS.test(value)
      : SHORT_PLACEHOLDER_DELIMITED.test(value)
  )
    return true;
  if (isRepetitive(body)) return true;
  // Long runs of one character (`sk-proj-000000000000abc`) are masks, not keys.
  if (/(.)\1{7,}/.test(body)) return true;
  // So are runs through the alphabet (`…0123456789abcdef`): a random key has one of 8 with odds below 1 in 10^12.
  if (longestRun(body) >= 8) return true;
  return false;
}

/** Length of the longest run of consecutive ascending or descending characters (`3456` is 4). */
export function longestRun(value: string): number {
  let best = value.length > 0 ? 1 : 0;
  let up = 1;
  let down = 1;
  for (let i = 1; i < value.length; i++) {
    const d = value.charCodeAt(i) - value.charCodeAt(i - 1);
    up = d === 1 || (value[i - 1] === '9' && value[i] === 'a') ? up + 1 : 1;
    down = d === -1 ? down + 1 : 1;
    best = Math.max(best, up, down);
  }
  return best;
}

const isNameByte = (b: number): boolean =>
  (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 95 || b === 45 || b === 46;

/**
 * True when the name a keyword sits in is assigned to: after the rest of the name (`PASS` + `WORD`), an optional
 * closing quote and a few spaces, there is `=` or `:` (`=`, `:=`, `=>`, `:`). For `afterKeyword`.
 */
export function assignmentFollows(bytes: Uint8Array, at: number): boolean {
  let i = at;
  const nameEnd = Math.min(bytes.length, at + 60);
  while (i < nameEnd && isNameByte(bytes[i]!)) i++;
  const q = bytes[i];
  if (q === 34 || q === 39 || q === 96) i++;
  for (let k = 0; k < 4 && (bytes[i] === 32 || bytes[i] === 9); k++) i++;
  return bytes[i] === 61 || bytes[i] === 58;
}

/** An `afterKeyword` test: exactly `n` ASCII letters or digits follow the keyword, then `then` (one ASCII char). */
export function alnumRunThen(n: number, then: string): (bytes: Uint8Array, at: number) => boolean {
  const code = then.charCodeAt(0);
  return (bytes, at) => {
    for (let i = at; i < at + n; i++) {
      const b = bytes[i];
      if (b === undefined || !((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)))
        return false;
    }
    return bytes[at + n] === code;
  };
}
