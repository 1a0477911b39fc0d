/**
 * The broker policy model: what one agent type may ask for (resources, scopes, token lifetimes, conditions,
 * token exchange), and the small value types it is made of (durations, CIDRs, time windows, resource and scope
 * patterns) with their pure matchers. Parsing from YAML/JSON is in broker-policy-parse.ts, the zod schema in
 * broker-policy-schema.ts, decisions in broker-decide.ts.
 */
import { matchesPattern } from '../core/glob-match.js';

/** Claims a policy can require on a token request. */
export const TOKEN_CLAIMS = ['task', 'purpose'] as const;
export type TokenClaim = (typeof TOKEN_CLAIMS)[number];

/** Days of the week as written in time windows, Monday first. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Hard cap on any token lifetime a policy may allow: 24 hours. */
export const MAX_TTL_CAP_SECONDS = 86_400;
/** Token lifetime cap when a policy does not set `tokens.maxTtl`: 15 minutes. */
export const DEFAULT_MAX_TTL_SECONDS = 900;
/** Hard cap on how long a person may take to approve a scope: 24 hours. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 86_400;
/** Approval timeout when a rule lists approval scopes without `approvalTimeout`: 10 minutes. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 600;
/** Deepest delegation chain any policy may allow for token exchange. */
export const MAX_CHAIN_DEPTH_CAP = 10;
/** Longest `task` or `purpose` claim value accepted; the values are copied into every token. */
export const MAX_CLAIM_LENGTH = 256;
/** Agent type names: lower-case letters, digits and single hyphens (the store's slug rule). */
export const AGENT_TYPE_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_AGENT_TYPE_NAME_LENGTH = 63;

/** An allow rule: the scopes an agent may get for the resources the pattern matches. */
export interface AllowRule {
  /** Exact resource URI or glob pattern (`https://*.internal.example/*`, `*`). */
  resource: string;
  /** Exact scopes or glob patterns (`issues:*`). */
  scopes: string[];
  /** Scopes (each also matched by `scopes`) that need a person's approval before a token carries them. */
  approval: string[];
  /** Seconds a person has to answer; null when the rule has no approval scopes. */
  approvalTimeoutSeconds: number | null;
  description: string | null;
}

/** A deny rule: scopes removed from every token for the resources the pattern matches; deny wins over allow. */
export interface DenyRule {
  resource: string;
  scopes: string[];
  description: string | null;
}

/** A weekly time window in a time zone; `from` > `to` means the window runs past midnight. */
export interface TimeWindow {
  days: Weekday[];
  /** `HH:MM`, 24-hour clock, inclusive. */
  from: string;
  /** `HH:MM` or `24:00`, exclusive. */
  to: string;
  /** IANA time zone name (`Europe/Berlin`, `UTC`). */
  timezone: string;
}

/** Token settings of a policy; lifetimes in seconds. */
export interface TokenSettings {
  maxTtlSeconds: number;
  defaultTtlSeconds: number;
  requireDpop: boolean;
  requireClaims: TokenClaim[];
}

/** Conditions every token request must meet; null means the condition is not used. */
export interface PolicyConditions {
  sourceCidrs: string[] | null;
  timeWindows: TimeWindow[] | null;
}

/** Token exchange (RFC 8693) settings: whether agents of this type may act for others, and how deep. */
export interface ExchangeSettings {
  allowed: boolean;
  /** Most actors a delegation chain may hold, counting the agent that asks. */
  maxChainDepth: number;
  /** Issuers (`iss`) whose tokens may be exchanged, compared exactly. */
  subjectIssuers: string[];
}

/**
 * The policy of one agent type, validated and normalised (durations in seconds, defaults filled in). Parsed
 * policies are deeply frozen; `policyToDocument` turns one back into the file format.
 */
export interface BrokerPolicy {
  agentType: string;
  owner: string;
  description: string | null;
  tokens: TokenSettings;
  allow: AllowRule[];
  deny: DenyRule[];
  conditions: PolicyConditions;
  exchange: ExchangeSettings;
}

/** Where each part of a policy was written: file name and the 1-based line of each field path (`allow[0]`). */
export interface PolicySource {
  fileName: string;
  lines: Readonly<Record<string, number>>;
}

/** The line a field path was written on, or null (the field was not written, or the policy has no source). */
export function sourceLine(source: PolicySource | undefined, path: string): number | null {
  if (!source || !Object.hasOwn(source.lines, path)) return null;
  return source.lines[path] ?? null;
}

// ---------------------------------------------------------------------------------------------------------
// Durations

const DURATION = /^(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?$/;

/**
 * Parses a duration such as `15m`, `90s`, `1h30m` into seconds; null when the text is not one.
 * @example parseDuration('1h30m'); // 5400
 */
export function parseDuration(text: string): number | null {
  if (text === '') return null;
  const m = DURATION.exec(text);
  if (!m) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Writes seconds as the shortest duration that parses back to them: `900` → `15m`, `5400` → `1h30m`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

// ---------------------------------------------------------------------------------------------------------
// IP addresses and CIDRs

/** An IP address as a number: 32 bits for IPv4, 128 bits for IPv6. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

/** A network: the address with every bit after the prefix zero. */
export interface Cidr {
  version: 4 | 6;
  base: bigint;
  prefix: number;
}

const IPV4_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    // Leading zeros are refused: some tools read `010` as octal, so its meaning is not certain.
    if (!IPV4_OCTET.test(p) || Number(p) > 255) return null;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseIpv6(text: string): bigint | null {
  if (text.length > 45) return null;
  let head = text;
  let tail4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // RFC 4291 §2.2: the low 32 bits may be written as dotted IPv4.
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (tail4 === null) return null;
    // Keep a `::` that ends right before the IPv4 part (`::ffff:1.2.3.4` → `::ffff`, `::1.2.3.4` → `::`).
    head = text.slice(0, text[lastColon - 1] === ':' ? lastColon + 1 : lastColon);
  }
  const groupsWanted = tail4 === null ? 8 : 6;
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): bigint[] | null => {
    if (s === '') return [];
    const out: bigint[] = [];
    for (const g of s.split(':')) {
      if (!IPV6_GROUP.test(g)) return null;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  let groups: bigint[];
  if (halves.length === 2) {
    const left = parseGroups(halves[0]!);
    const right = parseGroups(halves[1]!);
    if (!left || !right) return null;
    // `::` stands for at least one group of zeros (RFC 4291 §2.2, RFC 5952 §4.2.2).
    const missing = groupsWanted - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...new Array<bigint>(missing).fill(0n), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== groupsWanted) return null;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  if (tail4 !== null) v = (v << 32n) | tail4;
  return v;
}

/**
 * Parses an IPv4 or IPv6 address (no zone id, no brackets); null when the text is not one.
 * @example parseIp('::ffff:10.0.0.1'); // { version: 6, value: 0xffff0a000001n }
 */
export function parseIp(text: string): IpAddress | null {
  if (text.includes(':')) {
    const v = parseIpv6(text);
    return v === null ? null : { version: 6, value: v };
  }
  const v = parseIpv4(text);
  return v === null ? null : { version: 4, value: v };
}

/** Writes an address in its canonical form (RFC 5952 for IPv6: lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  }
  if (ip.value >> 32n === 0xffffn) {
    // RFC 5952 §5: an IPv4-mapped address is written with its IPv4 part in dotted form.
    return `::ffff:${formatIp({ version: 4, value: ip.value & 0xffffffffn })}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not shortened.
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The result of reading a CIDR: the network, or what is wrong with the text. */
export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; message: string };

/**
 * Parses `10.0.0.0/8` or `2001:db8::/32`. Refuses a bare address (no prefix length) and bits set after the
 * prefix, naming the network that was probably meant.
 */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf('/');
  if (slash === -1) {
    const ip = parseIp(text);
    if (ip) {
      const host = ip.version === 4 ? 32 : 128;
      return { ok: false, message: `add a prefix length: ${text}/${host} for this one address` };
    }
    return { ok: false, message: 'expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32' };
  }
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip) return { ok: false, message: 'expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32' };
  const bits = ip.version === 4 ? 32 : 128;
  if (!/^(?:0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    return { ok: false, message: `the prefix length must be a whole number from 0 to ${bits}` };
  }
  const prefix = Number(prefixText);
  const base = ip.value & networkMask(bits, prefix);
  if (base !== ip.value) {
    const network = `${formatIp({ version: ip.version, value: base })}/${prefix}`;
    return { ok: false, message: `has bits set after the /${prefix} prefix; did you mean ${network}?` };
  }
  return { ok: true, cidr: { version: ip.version, base, prefix } };
}

function networkMask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

const MAPPED_V4_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96 (RFC 4291 §2.5.5.2)

/**
 * True when the network holds the address. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, as a dual-stack
 * server reports IPv4 clients) matches IPv4 networks, and an IPv4 address matches `::ffff:0:0/96` networks.
 */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  let value = ip.value;
  if (cidr.version !== ip.version) {
    if (cidr.version === 4 && value >> 32n === 0xffffn) value &= 0xffffffffn;
    else if (cidr.version === 6) value |= MAPPED_V4_PREFIX;
    else return false;
  }
  const bits = cidr.version === 4 ? 32 : 128;
  return (value & networkMask(bits, cidr.prefix)) === cidr.base;
}

// ---------------------------------------------------------------------------------------------------------
// Time windows

const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

/** Minutes after midnight of an `HH:MM` time (`24:00` allowed when `endOfDay`); null when malformed. */
export function parseClockTime(text: string, endOfDay = false): number | null {
  if (endOfDay && text === '24:00') return 1440;
  if (!TIME.test(text)) return null;
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3));
}

/** True when Intl knows the time zone name. */
export function isValidTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const INTL_DAYS: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/** The weekday and minutes after midnight of an instant in a time zone. */
export function localClock(now: Date, timezone: string): { day: Weekday; minutes: number } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  let day: Weekday = 'mon';
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(now)) {
    if (part.type === 'weekday') day = INTL_DAYS[part.value] ?? day;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minutes: hour * 60 + minute };
}

/** `Tue 09:30` for explanations. */
export function formatClock(clock: { day: Weekday; minutes: number }): string {
  const hh = String(Math.floor(clock.minutes / 60)).padStart(2, '0');
  const mm = String(clock.minutes % 60).padStart(2, '0');
  return `${clock.day[0]!.toUpperCase()}${clock.day.slice(1)} ${hh}:${mm}`;
}

/**
 * True when the instant falls in the window. `from` is inclusive, `to` exclusive; when `from` > `to` the window
 * runs past midnight and its listed day is the day it starts.
 */
export function inTimeWindow(window: TimeWindow, now: Date): boolean {
  const from = parseClockTime(window.from)!;
  const to = parseClockTime(window.to, true)!;
  const { day, minutes } = localClock(now, window.timezone);
  if (from < to) return window.days.includes(day) && minutes >= from && minutes < to;
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
  return (window.days.includes(day) && minutes >= from) || (window.days.includes(yesterday) && minutes < to);
}

/** `mon-fri 08:00-18:00 Europe/Berlin` (runs of consecutive days shortened). */
export function describeTimeWindow(window: TimeWindow): string {
  const idx = [...new Set(window.days.map((d) => WEEKDAYS.indexOf(d)))].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    const a = WEEKDAYS[idx[i]!]!;
    const b = WEEKDAYS[idx[j]!]!;
    runs.push(j - i >= 2 ? `${a}-${b}` : j === i ? a : `${a},${b}`);
    i = j + 1;
  }
  return `${runs.join(',')} ${window.from}-${window.to} ${window.timezone}`;
}

// ---------------------------------------------------------------------------------------------------------
// Scopes and resources

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** True when the text is a scope token as RFC 6749 §3.3 defines it (printable ASCII without space, `"`, `\`). */
export function isScopeToken(text: string): boolean {
  return SCOPE_TOKEN.test(text);
}

/** True when a pattern holds a glob character (`*` or `?`). */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Splits a requested scope (space-separated string or list) into scope tokens, in order, without repeats. */
export function splitScope(scope: string | readonly string[]): string[] {
  const parts = typeof scope === 'string' ? scope.split(' ') : scope.flatMap((s) => s.split(' '));
  return [...new Set(parts.filter((s) => s !== ''))];
}

/** True when a scope pattern matches a concrete scope. */
export function scopeMatches(pattern: string, scope: string): boolean {
  return pattern === scope || (isGlob(pattern) && matchesPattern(pattern, scope));
}

/** Splits `scheme://authority/rest` at the end of the authority (the first `/`, `?` or `#` after `//`). */
function splitAuthority(uri: string): [string, string, string] | null {
  const sep = uri.indexOf('://');
  if (sep === -1) return null;
  const start = sep + 3;
  let end = uri.length;
  for (const c of ['/', '?', '#']) {
    const i = uri.indexOf(c, start);
    if (i !== -1 && i < end) end = i;
  }
  return [uri.slice(0, sep), uri.slice(start, end), uri.slice(end)];
}

/**
 * True when a resource pattern matches a requested resource. `*` alone matches every resource. In a URL pattern
 * the scheme, the authority (host and port) and the rest are matched separately, so `*` in the host never
 * crosses a `/`: `https://*.internal.example/*` matches `https://a.internal.example/x` but not
 * `https://evil.example/.internal.example/x`. Other patterns (`urn:…`) are matched as one glob.
 */
export function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === resource || pattern === '*') return true;
  if (!isGlob(pattern)) return false;
  const p = splitAuthority(pattern);
  if (!p) return matchesPattern(pattern, resource);
  const r = splitAuthority(resource);
  if (!r) return false;
  return matchesPattern(p[0], r[0]) && matchesPattern(p[1], r[1]) && matchesPattern(p[2], r[2]);
}

/** What is wrong with a requested resource (RFC 8707 §2: an absolute URI without a fragment), or null. */
export function resourceProblem(resource: string): string | null {
  if (resource === '') return 'no resource given; name the API the token is for with the resource parameter';
  if (resource.length > 2048) return 'the resource is longer than 2048 characters';
  if (/[\s\p{Cc}]/u.test(resource)) return 'the resource contains whitespace or control characters';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(resource) || !URL.canParse(resource)) {
    return 'the resource must be an absolute URI such as https://api.example.com (RFC 8707)';
  }
  if (resource.includes('#')) return 'the resource must not contain a fragment (RFC 8707)';
  const parts = splitAuthority(resource);
  if (parts && parts[1].includes('@')) return 'the resource must not contain a user name or password';
  return null;
}

/**
 * Makes a value safe to quote in an OAuth `error_description` (RFC 6749 §5.2 allows only %x20-21, %x23-5B,
 * %x5D-7E): other characters become `?`, and long values are cut to 100 characters.
 */
export function describeValue(value: string): string {
  const cut = value.length > 100 ? `${value.slice(0, 97)}...` : value;
  return cut.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** Keeps a text within the characters RFC 6749 §5.2 allows in error_description: `"` becomes `'`, others `?`. */
export function toErrorDescription(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
}
