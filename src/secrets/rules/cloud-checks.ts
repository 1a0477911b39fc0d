/**
 * Pure helpers the AI and cloud rules share: token boundaries, rule builders for prefixed and context-bound
 * values, the line or neighbourhood of a candidate (values that are only credentials next to a name or a
 * paired id), bech32 checksums (age keys) and decoded-structure tests.
 */
import { BASE62 } from '../secret-checks.js';
import type { CaseGen, CheckContext, SecretRule, SecretSeverity } from '../secret-types.js';
import { B, E, escapeRegex } from './rule-kit.js';

/**
 * The line of `ctx.text` holding the character at `ctx.offset`, cut to `maxChars` either side: context words
 * count only near the value, and a megabyte-long minified line costs no more than a short one.
 */
export function lineAt(ctx: CheckContext, maxChars = 300): string {
  return neighbourhood(ctx, 0, maxChars);
}

/** True when the line of the candidate (within 300 characters) matches `re`. */
export function lineMatches(ctx: CheckContext, re: RegExp): boolean {
  return re.test(lineAt(ctx));
}

/**
 * The text around the candidate: at most `maxLines` lines and `maxChars` characters before and after it
 * (both limits apply, the nearer wins), the candidate's line included. Scans at most `maxChars` each way.
 */
export function neighbourhood(ctx: CheckContext, maxLines = 5, maxChars = 1000): string {
  const { text, offset } = ctx;
  const lo = Math.max(0, offset - maxChars);
  const hi = Math.min(text.length, offset + maxChars);
  let start = offset;
  for (let seen = 0; start > lo; start--) {
    if (text.charCodeAt(start - 1) === 10) {
      if (seen === maxLines) break;
      seen++;
    }
  }
  let end = offset;
  for (let seen = 0; end < hi; end++) {
    if (text.charCodeAt(end) === 10) {
      if (seen === maxLines) break;
      seen++;
    }
  }
  return text.slice(start, end);
}

/** True when the value mixes at least `min` of: lower-case letters, upper-case letters, digits. */
export function hasCharClasses(value: string, min: number): boolean {
  let n = 0;
  if (/[a-z]/.test(value)) n++;
  if (/[A-Z]/.test(value)) n++;
  if (/[0-9]/.test(value)) n++;
  return n >= min;
}

/** The bech32 data alphabet (BIP-173), in value order. */
export const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function bech32Polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ BECH32_GEN[i]!) >>> 0;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >>> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

/**
 * The 6-character bech32 checksum of `hrp` + `data` (data in bech32 characters, lower-case). Used to build
 * valid test keys at run time.
 */
export function bech32Checksum(hrp: string, data: string): string {
  const values = [...data].map((c) => BECH32_CHARSET.indexOf(c));
  const mod = bech32Polymod([...hrpExpand(hrp), ...values, 0, 0, 0, 0, 0, 0]) ^ 1;
  let out = '';
  for (let i = 0; i < 6; i++) out += BECH32_CHARSET[(mod >>> (5 * (5 - i))) & 31]!;
  return out;
}

/** True when `value` is a bech32 string (BIP-173, not bech32m) with a valid checksum; case-insensitive. */
export function hasValidBech32(value: string): boolean {
  if (value !== value.toLowerCase() && value !== value.toUpperCase()) return false;
  const s = value.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || s.length - sep - 1 < 6) return false;
  const values: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const v = BECH32_CHARSET.indexOf(c);
    if (v === -1) return false;
    values.push(v);
  }
  return bech32Polymod([...hrpExpand(s.slice(0, sep)), ...values]) === 1;
}

/** Base64url / URL-safe token alphabet. */
export const URLSAFE = BASE62 + '_-';
/** ASCII letters of both cases. */
export const LETTERS = BASE62.slice(10);

/** Realistic lines holding a value: an env file, a JSON config and a client constructor in code. */
export function lines(env: string, g: CaseGen, make: (g: CaseGen) => string): string[] {
  return [
    `${env}=${make(g)}`,
    `  "apiKey": "${make(g)}",`,
    `client = Client(api_key='${make(g)}', timeout=30)`,
  ];
}

/** What a prefixed-token rule needs. */
export interface PrefixSpec {
  id: string;
  title: string;
  provider: string;
  severity?: SecretSeverity;
  type?: SecretRule['type'];
  /** Literal start of every value; also the prefilter keyword unless `keywords` is given. */
  prefix: string;
  keywords?: string[];
  /** Regex source of the value after the prefix. */
  body: string;
  /** A well-formed value, built at run time. */
  make: (g: CaseGen) => string;
  /** A value the pattern would take but the format forbids (too short, wrong length or alphabet). */
  malformed: (g: CaseGen) => string;
  env: string;
  verifiedFormat: boolean;
  check?: SecretRule['check'];
  minEntropy?: number;
  docs?: string;
  extraNegatives?: (g: CaseGen) => string[];
}

/** A rule for a value that starts with a provider-specific prefix. */
export function prefixed(s: PrefixSpec): SecretRule {
  return {
    id: s.id,
    title: s.title,
    severity: s.severity ?? 'high',
    provider: s.provider,
    type: s.type ?? 'api-key',
    keywords: s.keywords ?? [s.prefix],
    pattern: new RegExp(`${B}(?<secret>${escapeRegex(s.prefix)}${s.body})${E}`),
    ...(s.check ? { check: s.check } : {}),
    verifiedFormat: s.verifiedFormat,
    minEntropy: s.minEntropy ?? 3,
    ...(s.docs ? { docs: s.docs } : {}),
    cases: {
      positives: (g) => lines(s.env, g, s.make),
      negatives: (g) => {
        const good = s.make(g);
        return [
          `${s.env}=${s.prefix}${'x'.repeat(good.length - s.prefix.length)}`,
          `${s.env}=${s.malformed(g)}`,
          `${s.env}=${s.prefix}your-api-key-here`,
          `Keys start with ${s.prefix} and are followed by random characters.`,
          ...(s.extraNegatives?.(g) ?? []),
        ];
      },
    },
  };
}

/** What a context-bound rule needs. */
export interface ContextSpec {
  id: string;
  title: string;
  provider: string;
  severity?: SecretSeverity;
  type?: SecretRule['type'];
  /** Words one of which the line holds (prefilter); `context` is the exact test. */
  keywords: string[];
  context: RegExp;
  /** Regex source of the whole value. */
  value: string;
  make: (g: CaseGen) => string;
  malformed: (g: CaseGen) => string;
  env: string;
  minEntropy?: number;
  check?: (secret: string, ctx: CheckContext) => boolean;
  docs?: string;
}

/**
 * A rule for a value with no distinctive prefix (32 hex, 40 base62): reported only when its line names the
 * provider, so format is never verified by itself.
 */
export function contextual(s: ContextSpec): SecretRule {
  return {
    id: s.id,
    title: s.title,
    severity: s.severity ?? 'medium',
    provider: s.provider,
    type: s.type ?? 'api-key',
    keywords: s.keywords,
    pattern: new RegExp(`${B}(?<secret>${s.value})${E}`),
    // A value right after `@`, `/` or `#` is a commit, a path or an anchor, not a key.
    check: (secret, m, ctx) =>
      !/[@/#]$/.test(m.input.slice(Math.max(0, m.index - 1), m.index)) &&
      s.context.test(lineAt(ctx).replace(secret, ' ')) &&
      (s.check ? s.check(secret, ctx) : true),
    verifiedFormat: false,
    minEntropy: s.minEntropy ?? 3,
    ...(s.docs ? { docs: s.docs } : {}),
    cases: {
      positives: (g) => [
        `${s.env}=${s.make(g)}`,
        `export ${s.env}="${s.make(g)}"`,
        `  ${s.env.toLowerCase()}: '${s.make(g)}'`,
      ],
      negatives: (g) => [
        `API_KEY=${s.make(g)}`,
        `${s.env}=${s.malformed(g)}`,
        `${s.env}=${'x'.repeat(s.make(g).length)}`,
        `pip install ${s.keywords[0]}@${s.make(g)}`,
      ],
    },
  };
}
