/**
 * Format checks and small rule builders shared by the VCS and SaaS rules: GitLab routable-token checksums,
 * base64 JSON payloads (GitHub App JWTs, Sentry, Mapbox, Grafana), context look-arounds, and the two common rule
 * shapes (a fixed prefix with a body; a value under a provider-named key) with their generated test cases.
 */
import { crc32 } from 'node:zlib';
import type { CaseGen, CheckContext, SecretRule } from '../secret-types.js';
import { B, E, HEX, LOWER_ALNUM, UPPER_ALNUM, decodeBase64Json, escapeRegex } from './rule-kit.js';

/** Base64url alphabet, for case generators. */
export const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 7-character base36 CRC32 GitLab appends to routable tokens. */
export function gitlabCrc(text: string): string {
  return (crc32(Buffer.from(text, 'utf8')) >>> 0).toString(36).padStart(7, '0');
}

/**
 * Checks a GitLab routable token `<prefix><payload>.<version>.<length><crc>` (or the 2024 form without the
 * version field): the length field is the base36 length of the base64url payload, and the last 7 characters are
 * the base36 CRC32 of everything before them. Format: GitLab routable tokens design document and
 * lib/authn/token_field/generator/routable_token.rb.
 */
export function isGitlabRoutable(token: string, prefix: string): boolean {
  if (!token.startsWith(prefix)) return false;
  const parts = token.slice(prefix.length).split('.');
  if (parts.length !== 2 && parts.length !== 3) return false;
  const payload = parts[0]!;
  const tail = parts[parts.length - 1]!;
  if (tail.length !== 9 || payload.length % 4 === 1) return false;
  if (parseInt(tail.slice(0, 2), 36) !== payload.length) return false;
  return gitlabCrc(token.slice(0, -7)) === tail.slice(-7);
}

/** Builds a GitLab routable token with a valid length field and checksum, for rule cases. */
export function makeGitlabRoutable(prefix: string, payload: string, versioned = true): string {
  const head = `${prefix}${payload}.${versioned ? '01.' : ''}${payload.length.toString(36).padStart(2, '0')}`;
  return head + gitlabCrc(head);
}

/** True when the segment decodes to a JSON object holding every one of `keys`. */
export function jsonSegmentHas(segment: string, keys: readonly string[]): boolean {
  const obj = decodeBase64Json(segment);
  return obj !== null && keys.every((k) => k in obj);
}

/** True when `token` is JWT-shaped (three base64url segments) and its header decodes to JSON with an `alg`. */
export function isJwtWithAlg(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return false;
  return typeof decodeBase64Json(parts[0]!)?.['alg'] === 'string';
}

/** True when a base64 value decodes to printable `user:password` (npm `_auth`, Basic credentials). */
export function isBase64UserPass(value: string): boolean {
  const text = Buffer.from(value, 'base64').toString('utf8');
  return /^[\x21-\x39\x3b-\x7e]{1,128}:[\x20-\x7e]{1,256}$/.test(text);
}

/** True when a base64url segment decodes to a Discord snowflake (the user id part of a bot token). */
export function isSnowflakeSegment(segment: string): boolean {
  return /^\d{17,20}$/.test(Buffer.from(segment, 'base64url').toString('latin1'));
}

/** True when `re` matches the text within `radius` characters either side of the candidate. */
export function hasContextNear(ctx: CheckContext, re: RegExp, radius = 200): boolean {
  return re.test(ctx.text.slice(Math.max(0, ctx.offset - radius), ctx.offset + radius));
}

/** Character class source and case-generation alphabet of a token body. */
export interface Alphabet {
  cls: string;
  chars: string;
}

/** Common body alphabets. */
export const ALPHA = {
  base62: { cls: '0-9A-Za-z', chars: '' },
  hex: { cls: '0-9a-f', chars: HEX },
  b64url: { cls: '0-9A-Za-z_-', chars: B64URL },
  lowerAlnum: { cls: '0-9a-z', chars: LOWER_ALNUM },
  upperAlnum: { cls: '0-9A-Z', chars: UPPER_ALNUM },
} satisfies Record<string, Alphabet>;

/** A rule's descriptive fields, shared by the builders. */
export type RuleMeta = Pick<SecretRule, 'id' | 'title' | 'severity' | 'provider' | 'type'> &
  Partial<Pick<SecretRule, 'docs' | 'tags' | 'minEntropy'>>;

/** A wrong-alphabet twin of a body: one character near the start replaced by one outside any token alphabet. */
export function breakAlphabet(body: string): string {
  const i = Math.min(3, body.length - 1);
  return body.slice(0, i) + '#' + body.slice(i + 1);
}

function half(v: string): string {
  return v.slice(0, Math.floor(v.length / 2));
}

/** Options of a prefixed rule: `prefix` followed by `len` characters of `alphabet`. */
export interface PrefixedSpec extends RuleMeta {
  prefix: string;
  alphabet: Alphabet;
  /** Exact body length, or [min, max]. */
  len: number | [number, number];
  /** See `SecretRule.afterKeyword`. */
  afterKeyword?: SecretRule['afterKeyword'];
  /** Pattern source of a composite body (replaces `alphabet` and `len` in the pattern). */
  body?: string;
  /** Variable name used in the generated positive cases. */
  keyName: string;
  verifiedFormat: boolean;
  /** Body generator for cases (default: `len` characters of the alphabet). */
  gen?: (g: CaseGen) => string;
  check?: SecretRule['check'];
  ignoreCase?: boolean;
  /** Extra negative cases. */
  negatives?: (g: CaseGen) => string[];
}

/** A rule for a token that is a fixed prefix and a body of known alphabet and length. */
export function prefixedRule(s: PrefixedSpec): SecretRule {
  const [min, max] = typeof s.len === 'number' ? [s.len, s.len] : s.len;
  const quant = min === max ? `{${min}}` : `{${min},${max}}`;
  const gen =
    s.gen ??
    ((g: CaseGen) => g.chars(min === max ? min : Math.min(max, min + 8), s.alphabet.chars || undefined));
  return {
    id: s.id,
    title: s.title,
    severity: s.severity,
    provider: s.provider,
    type: s.type,
    keywords: [s.prefix],
    pattern: new RegExp(
      `${B}(?<secret>${escapeRegex(s.prefix)}${s.body ?? `[${s.alphabet.cls}]${quant}`})${E}`,
    ),
    ...(s.ignoreCase ? { ignoreCase: true } : {}),
    ...(s.check ? { check: s.check } : {}),
    ...(s.afterKeyword ? { afterKeyword: s.afterKeyword } : {}),
    verifiedFormat: s.verifiedFormat,
    minEntropy: s.minEntropy ?? 3,
    ...(s.docs ? { docs: s.docs } : {}),
    ...(s.tags ? { tags: s.tags } : {}),
    cases: {
      positives: (g) => [
        `${s.keyName}=${s.prefix}${gen(g)}`,
        `  "${s.keyName.toLowerCase()}": "${s.prefix}${gen(g)}",`,
      ],
      negatives: (g) => [
        `${s.keyName}=${s.prefix}${'x'.repeat(min)}`,
        `${s.keyName}=${s.prefix}${breakAlphabet(gen(g))}`,
        s.body
          ? `${s.keyName}=${s.prefix}${half(gen(g))}`
          : `${s.keyName}=${s.prefix}${g.chars(Math.max(1, min - 1), s.alphabet.chars || undefined)}`,
        `Tokens start with ${s.prefix} followed by ${min} characters.`,
        ...(s.negatives ? s.negatives(g) : []),
      ],
    },
  };
}

/** Options of a keyed rule: a value that is only recognisable under a provider-named key. */
export interface KeyedSpec extends RuleMeta {
  /** Literal key fragments (`datadog`, `dd_api_key`); one must precede the value in the same assignment. */
  keys: readonly string[];
  /** Pattern source of the value, without the `secret` group. */
  value: string;
  /** A valid value, for cases. */
  gen: (g: CaseGen) => string;
  /** A value of the wrong length or alphabet, for cases. */
  bad: (g: CaseGen) => string;
  keyName: string;
  /** Pattern source that must follow the key fragment within the same identifier (`secret`, `token|auth`). */
  keySuffix?: string;
  check?: SecretRule['check'];
  verifiedFormat?: boolean;
}

/**
 * A rule for a value whose format alone is too common (a UUID, 32 hex digits): it must sit in an assignment
 * whose key names the provider (`DATADOG_API_KEY=…`, `"snykToken": "…"`, `datadog.api_key: …`).
 */
export function keyedRule(s: KeyedSpec): SecretRule {
  const keys = s.keys.map(escapeRegex).join('|');
  const ident = s.keySuffix
    ? String.raw`[\w.-]{0,24}?(?:${s.keySuffix})[\w.-]{0,16}`
    : String.raw`[\w.-]{0,32}`;
  return {
    id: s.id,
    title: s.title,
    severity: s.severity,
    provider: s.provider,
    type: s.type,
    keywords: s.keys,
    // The service's name starts the key's name (`LOB_API_KEY`, `lobKey`), not `global` or `blob`.
    keywordStartsWord: true,
    pattern: new RegExp(
      String.raw`(?:${keys})${ident}["']?\s{0,3}(?:=>|:=|[:=])\s{0,3}["']?(?<secret>${s.value})(?![\w-])`,
    ),
    ignoreCase: true,
    ...(s.check ? { check: s.check } : {}),
    verifiedFormat: s.verifiedFormat ?? false,
    minEntropy: s.minEntropy ?? 3,
    ...(s.docs ? { docs: s.docs } : {}),
    ...(s.tags ? { tags: s.tags } : {}),
    cases: {
      positives: (g) => [`${s.keyName}=${s.gen(g)}`, `  "${s.keyName.toLowerCase()}": "${s.gen(g)}",`],
      negatives: (g) => [
        `${s.keyName}=<your-${s.provider}-token>`,
        `${s.keyName}=${s.bad(g)}`,
        `value = "${s.gen(g)}"`,
        `Set ${s.keyName} in the environment before running.`,
      ],
    },
  };
}

/** A random UUID-shaped value (lower-case hex), for cases. */
export function uuid(g: CaseGen): string {
  const h = g.hex(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Pattern source of a UUID (any case when the rule ignores case). */
export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
