/**
 * Personal-data detectors for dataset scans: e-mail addresses, phone numbers, payment cards, IBANs, US SSNs and
 * IP addresses. Each detector is a linear-time candidate pattern (no nested quantifiers) plus a validator
 * (checksum, ranges, context), and redacts what it finds into a sample that shows the shape, never the value.
 */
import { isIPv6 } from 'node:net';

/** The kinds of personal data the detectors report. */
export const PII_TYPES = ['email', 'phone', 'payment-card', 'iban', 'us-ssn', 'ipv4', 'ipv6'] as const;
export type PiiType = (typeof PII_TYPES)[number];

/** One value found in a text: where it is (UTF-16 offsets, end exclusive) and its redacted sample. */
export interface PiiMatch {
  type: PiiType;
  start: number;
  end: number;
  /** Redacted sample: `j***@e***.com`, `**** **** **** 4242`. */
  sample: string;
}

/** A detector: a cheap prefilter, a candidate pattern and a validator returning the accepted end (or -1). */
interface PiiDetector {
  type: PiiType;
  /** Lower number wins when two detectors' matches overlap. */
  priority: number;
  prefilter: (text: string) => boolean;
  pattern: RegExp;
  /** Validates `text.slice(start, end)`; returns the end of the accepted value (may trim) or -1. */
  accept: (text: string, start: number, end: number) => number;
  redact: (value: string) => string;
}

const hasDigit = (t: string): boolean => /\d/.test(t);

/** Replaces every digit but the last `keep` with `*`, keeping separators. */
function maskDigits(value: string, keep: number): string {
  let digits = 0;
  for (const ch of value) if (ch >= '0' && ch <= '9') digits++;
  let seen = 0;
  let out = '';
  for (const ch of value) {
    if (ch >= '0' && ch <= '9') {
      seen++;
      out += seen > digits - keep ? ch : '*';
    } else out += ch;
  }
  return out;
}

// ---- e-mail ----------------------------------------------------------------------------------------------

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}/g;

function acceptEmail(text: string, start: number, end: number): number {
  const value = text.slice(start, end);
  const at = value.indexOf('@');
  const local = value.slice(0, at);
  let domain = value.slice(at + 1);
  while (domain.endsWith('.') || domain.endsWith('-')) domain = domain.slice(0, -1);
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return -1;
  const labels = domain.split('.');
  if (labels.length < 2) return -1;
  for (const l of labels)
    if (l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-')) return -1;
  if (!/^[A-Za-z]{2,24}$/.test(labels[labels.length - 1]!)) return -1;
  return start + at + 1 + domain.length;
}

function redactEmail(value: string): string {
  const at = value.indexOf('@');
  const domain = value.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  return `${value[0]}***@${domain[0]}***${domain.slice(dot)}`;
}

// ---- phone -----------------------------------------------------------------------------------------------

// A run of digits and separators, optionally led by `+` or `(`; the validator decides.
const PHONE = /(?<![\w.+/-])(?:\+|\(\+?)?\d[\d ().-]{5,20}\d(?![\w-]|\.\d|:\d|\/\d)/g;
const DATE_LIKE = /\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}/;

function acceptPhone(text: string, start: number, end: number): number {
  const value = text.slice(start, end);
  const digits = value.replace(/\D/g, '').length;
  const international = value.startsWith('+') || value.startsWith('(+');
  const groups = value.split(/[ .()-]+/).filter((g) => g.length > 0);
  if (international) {
    if (digits < 8 || digits > 15) return -1;
  } else {
    // National formats: 9–12 digits in at least two groups separated by spaces, dots, dashes or parentheses.
    if (digits < 9 || digits > 12 || groups.length < 2) return -1;
    if (value.startsWith('0') === false && groups[0]!.length > 4) return -1;
  }
  if (DATE_LIKE.test(value)) return -1;
  // Dotted runs of short groups are versions or IP addresses (`10.0.0.12.5`), not numbers someone dials.
  if (!/[ ()-]/.test(value) && value.includes('.') && groups.every((g) => g.length <= 3)) return -1;
  const open = value.split('(').length - 1;
  const close = value.split(')').length - 1;
  if (open !== close || open > 1) return -1;
  if (!international && groups.some((g) => g.length > 8)) return -1;
  return start + value.length;
}

// ---- payment cards ---------------------------------------------------------------------------------------

const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g;

/** Luhn checksum over a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** True when the number's issuer prefix (IIN) and length fit a known card scheme. */
function iinPlausible(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 13 && n <= 19; // Maestro
  return false;
}

function acceptCard(text: string, start: number, end: number): number {
  const value = text.slice(start, end);
  const seps = new Set(value.replace(/\d/g, ''));
  if (seps.size > 1) return -1;
  const digits = value.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return -1;
  if (!iinPlausible(digits) || !luhnValid(digits)) return -1;
  return end;
}

// ---- IBAN ------------------------------------------------------------------------------------------------

/** IBAN length per country (ISO 13616 registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SC: 31,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
};

const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g;

/** ISO 7064 mod-97 check of a compact IBAN. */
export function ibanChecksumValid(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 ? String(code - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

function acceptIban(text: string, start: number, end: number): number {
  const want = IBAN_LENGTHS[text.slice(start, start + 2)];
  if (want === undefined) return -1;
  // Take exactly the country's length of characters (the pattern may have run into a following word).
  let count = 0;
  let i = start;
  for (; i < end && count < want; i++) if (text[i] !== ' ') count++;
  if (count !== want) return -1;
  if (/[A-Za-z0-9]/.test(text[i] ?? '')) return -1;
  const compact = text.slice(start, i).replace(/ /g, '');
  return ibanChecksumValid(compact) ? i : -1;
}

function redactIban(value: string): string {
  const compact = value.replace(/ /g, '');
  return `${compact.slice(0, 2)}** **** … ${compact.slice(-4)}`;
}

// ---- US SSN ----------------------------------------------------------------------------------------------

const SSN = /(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])/g;

function acceptSsn(text: string, start: number, end: number): number {
  const [area, group, serial] = text.slice(start, end).split('-') as [string, string, string];
  if (area === '000' || area === '666' || area[0] === '9') return -1;
  if (group === '00' || serial === '0000') return -1;
  return end;
}

// ---- IP addresses ----------------------------------------------------------------------------------------

const IPV4 = /(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\d|\.\d)/g;
const VERSION_BEFORE = /(?:\bv|\bversion|\bver\.?|@)\s?$/i;

function acceptIpv4(text: string, start: number, end: number): number {
  const octets = text.slice(start, end).split('.');
  for (const o of octets) if (Number(o) > 255 || (o.length > 1 && o[0] === '0')) return -1;
  // `v1.2.3.4`, `version 1.2.3.4`, `pkg@1.2.3.4` are versions.
  if (VERSION_BEFORE.test(text.slice(Math.max(0, start - 9), start))) return -1;
  return end;
}

const IPV6 = /(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{2,44}(?![\w:.]|\.\d)/g;

function acceptIpv6(text: string, start: number, end: number): number {
  const value = text.slice(start, end);
  if (!isIPv6(value)) return -1;
  const groups = value.split(':').filter((g) => g.length > 0);
  // `::`, `::1`-only forms and `a::b` shapes in prose are too weak: require three non-empty groups.
  if (groups.length < 3) return -1;
  return end;
}

function redactIp(value: string, sep: string): string {
  const parts = value.split(sep);
  return [parts[0], ...parts.slice(1).map((p) => (p === '' ? '' : '*'))].join(sep);
}

// ---- registry --------------------------------------------------------------------------------------------

const DETECTORS: readonly PiiDetector[] = [
  { type: 'iban', priority: 0, prefilter: hasDigit, pattern: IBAN, accept: acceptIban, redact: redactIban },
  {
    type: 'payment-card',
    priority: 1,
    prefilter: hasDigit,
    pattern: CARD,
    accept: acceptCard,
    redact: (v) => maskDigits(v, 4),
  },
  {
    type: 'us-ssn',
    priority: 2,
    prefilter: (t) => t.includes('-'),
    pattern: SSN,
    accept: acceptSsn,
    redact: () => '***-**-****',
  },
  {
    type: 'email',
    priority: 3,
    prefilter: (t) => t.includes('@'),
    pattern: EMAIL,
    accept: acceptEmail,
    redact: redactEmail,
  },
  {
    type: 'ipv6',
    priority: 4,
    prefilter: (t) => t.includes(':'),
    pattern: IPV6,
    accept: acceptIpv6,
    redact: (v) => redactIp(v, ':'),
  },
  {
    type: 'ipv4',
    priority: 5,
    prefilter: (t) => t.includes('.'),
    pattern: IPV4,
    accept: acceptIpv4,
    redact: (v) => redactIp(v, '.'),
  },
  {
    type: 'phone',
    priority: 6,
    prefilter: hasDigit,
    pattern: PHONE,
    accept: acceptPhone,
    redact: (v) => maskDigits(v, 2),
  },
];

const ANY_DIGIT_OR_AT = /[\d@]/;

/**
 * Finds personal data in `text`, in order of position; overlapping candidates keep the most specific type
 * (IBAN, card, SSN, e-mail, IPv6, IPv4, then phone).
 * @example detectPii('mail jane@example.com') // [{ type: 'email', start: 5, end: 21, sample: 'j***@e***.com' }]
 */
export function detectPii(text: string): PiiMatch[] {
  if (!ANY_DIGIT_OR_AT.test(text)) return [];
  const found: Array<PiiMatch & { priority: number }> = [];
  for (const d of DETECTORS) {
    if (!d.prefilter(text)) continue;
    d.pattern.lastIndex = 0;
    for (let m = d.pattern.exec(text); m !== null; m = d.pattern.exec(text)) {
      const end = d.accept(text, m.index, m.index + m[0].length);
      if (end < 0) continue;
      found.push({
        type: d.type,
        start: m.index,
        end,
        sample: d.redact(text.slice(m.index, end)),
        priority: d.priority,
      });
    }
  }
  if (found.length === 0) return [];
  found.sort((a, b) => a.priority - b.priority || a.start - b.start);
  const kept: PiiMatch[] = [];
  for (const f of found) {
    if (kept.some((k) => f.start < k.end && k.start < f.end)) continue;
    kept.push({ type: f.type, start: f.start, end: f.end, sample: f.sample });
  }
  return kept.sort((a, b) => a.start - b.start);
}

// ---- credential-bearing field names ----------------------------------------------------------------------

const CREDENTIAL_LAST = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'cookies',
  'session',
  'sessionid',
  'credential',
  'credentials',
  'privatekey',
  'secretkey',
  'accesskey',
  'clientsecret',
  'setcookie',
  'bearer',
]);
const CREDENTIAL_SUFFIXES = [
  'password',
  'passwd',
  'apikey',
  'privatekey',
  'secretkey',
  'clientsecret',
  'accesstoken',
  'refreshtoken',
  'authtoken',
  'sessiontoken',
  'idtoken',
];

/**
 * True when a CSV header or JSON key names a credential (`password`, `api_key`, `accessToken`, `client-secret`,
 * `Authorization`); counts such as `num_tokens` or `token_count` are not.
 */
export function isCredentialFieldName(name: string): boolean {
  let known = credentialNameCache.get(name);
  if (known === undefined) {
    known = credentialName(name);
    if (credentialNameCache.size >= 10_000) credentialNameCache.clear();
    credentialNameCache.set(name, known);
  }
  return known;
}

/** Field names already judged (datasets repeat the same few keys on every record). */
const credentialNameCache = new Map<string, boolean>();

function credentialName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
  if (words.length === 0) return false;
  const joined = words.join('');
  const last = words[words.length - 1]!;
  if (CREDENTIAL_LAST.has(last) || CREDENTIAL_LAST.has(joined)) return true;
  // `api_key`, `private_key`, `x-api-key`: the last two words together.
  if (words.length >= 2 && CREDENTIAL_LAST.has(words[words.length - 2]! + last)) return true;
  return CREDENTIAL_SUFFIXES.some((s) => joined.endsWith(s));
}
