/**
 * What every event adapter shares: the adapter signature, timestamp parsing, record ids and the builder that
 * turns an adapter's normalized fields into a frozen DetectEvent. The normalized field names are documented in
 * docs/events.md and listed in NORMALIZED_FIELDS.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { canonicalJson } from '../../core/canonical-json.js';
import type { AdapterName, BrokenRecord, DetectEvent, LogSource } from '../detect-types.js';

/** Where a record came from, and the `seq` its event gets if it is read. */
export interface RecordSource {
  /** The file, or null when the record was not read from one (posted to the server). */
  file: string | null;
  /** 1-based line in the (decompressed) file, or null. */
  line: number | null;
  /** The seq the event gets (the reader's arrival counter). */
  seq: number;
  /**
   * Where the record sits inside the line or document, for messages: `Records[3]` (a CloudTrail delivery
   * file), `[12]` (a JSON array). Null for a record that is the whole line.
   */
  index?: string | null;
}

/** One adapter: a pure function from one parsed record to its event, or to the reason it cannot be read. */
export type Adapter = (record: unknown, source: RecordSource) => DetectEvent | BrokenRecord;

/** True for what an adapter returns when it cannot read a record. */
export function isBrokenRecord(value: DetectEvent | BrokenRecord): value is BrokenRecord {
  return Object.hasOwn(value, 'reason');
}

/**
 * The normalized fields (docs/events.md), OCSF-inspired. Every adapter sets a subset; a field is absent when
 * the source does not say. Field mappings (ndjson) may use other names too.
 */
export const NORMALIZED_FIELDS = [
  'time',
  'activity_name',
  'status',
  'actor.user.uid',
  'actor.user.name',
  'actor.user.type',
  'actor.session.issuer',
  'src_endpoint.ip',
  'src_endpoint.domain',
  'src_endpoint.network',
  'src_endpoint.location.country',
  'http_request.user_agent',
  'http_request.http_method',
  'http_request.url.path',
  'http_response.code',
  'cloud.provider',
  'cloud.region',
  'cloud.account.uid',
  'api.operation',
  'api.service.name',
  'api.request.uid',
  'resource.uid',
  'resource.name',
  'resource.type',
  'credential.uid',
  'error.code',
  'error.message',
  'keyward.agent_id',
  'keyward.agent_type_id',
  'keyward.client_id',
  'keyward.grant_type',
  'keyward.task',
  'keyward.scopes',
  'keyward.act_chain_depth',
  'keyward.upstream',
  'keyward.outcome',
  'keyward.reason',
] as const;

/** A documented normalized field name. */
export type NormalizedField = (typeof NORMALIZED_FIELDS)[number];

/** Normalized fields as an adapter builds them: a documented name to its value; null/undefined are dropped. */
export type FieldValues = Partial<Record<NormalizedField, unknown>>;

/** A plain (non-array) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value's JSON kind for messages: `array`, `string`, `number`, `null`, … */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A non-empty string, or null. */
export function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A non-empty string, or a finite number as its decimal text (GitHub's numeric ids), or null. */
export function idText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return text(value);
}

/** An integer, or null. */
export function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/** A list of non-empty strings (a single string becomes a list of one), or null when there is none. */
export function textList(value: unknown): string[] | null {
  if (typeof value === 'string') return value === '' ? null : [value];
  if (!Array.isArray(value)) return null;
  const out = value.filter((v): v is string => typeof v === 'string' && v !== '');
  return out.length > 0 ? out : null;
}

/** The object at a key, or null. */
export function objectAt(obj: Record<string, unknown>, key: string): Record<string, unknown> | null {
  const v = obj[key];
  return isRecord(v) ? v : null;
}

/** Splits a source address into `src_endpoint.ip` (an IP) or `src_endpoint.domain` (anything else). */
export function endpointFields(address: unknown): FieldValues {
  const a = text(address);
  if (a === null) return {};
  return isIP(a) !== 0 ? { 'src_endpoint.ip': a } : { 'src_endpoint.domain': a };
}

/** How a timestamp is written. `auto`: an ISO-8601 string, or epoch seconds / milliseconds told apart by size. */
export type TimestampFormat = 'iso8601' | 'epoch_ms' | 'epoch_s' | 'auto';

/** Numbers at or above this are taken as milliseconds by `auto` (1e11 s is in the year 5138; 1e11 ms is 1973). */
const AUTO_MS_THRESHOLD = 1e11;

const ISO_8601 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 date-time (`2026-05-10T09:01:30Z`, with any number of fraction digits, a `+hh:mm`,
 * `+hhmm` or `+hh` offset, or no zone, read as UTC) to epoch milliseconds, or null.
 */
export function parseIsoTime(value: string): number | null {
  const fast = parseUtcSeconds(value);
  if (fast !== undefined) return fast;
  const m = ISO_8601.exec(value.trim());
  if (m === null) return null;
  const [, date, clock, fraction, zone] = m;
  const ms = fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`;
  let tz = zone === undefined || zone === 'z' ? 'Z' : zone;
  if (tz !== 'Z') {
    const digits = tz.slice(1).replace(':', '');
    tz = `${tz[0]}${digits.slice(0, 2)}:${digits.slice(2, 4).padEnd(2, '0')}`;
  }
  const t = Date.parse(`${date}T${clock!.length === 5 ? `${clock}:00` : clock}${ms}${tz}`);
  if (!Number.isFinite(t)) return null;
  // Date.parse rolls 2026-02-30 over to March: refuse days the month does not have.
  const year = Number(date!.slice(0, 4));
  const month = Number(date!.slice(5, 7));
  const day = Number(date!.slice(8, 10));
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate() ? t : null;
}

const DIGIT = (c: number): boolean => c >= 48 && c <= 57;

/**
 * The common `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS.sssZ` forms (CloudTrail, Kubernetes, Keyward) read
 * without a regular expression: the time, null when the date does not exist, or undefined for any other form
 * (parseIsoTime then takes the general path).
 */
function parseUtcSeconds(v: string): number | null | undefined {
  const n = v.length;
  if (n !== 20 && n !== 24) return undefined;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
    if (!DIGIT(v.charCodeAt(i))) return undefined;
  if (v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':' || v[n - 1] !== 'Z') {
    return undefined;
  }
  if (
    n === 24 &&
    (v[19] !== '.' || !DIGIT(v.charCodeAt(20)) || !DIGIT(v.charCodeAt(21)) || !DIGIT(v.charCodeAt(22)))
  ) {
    return undefined;
  }
  const year = Number(v.slice(0, 4));
  const month = Number(v.slice(5, 7));
  const day = Number(v.slice(8, 10));
  const hour = Number(v.slice(11, 13));
  const minute = Number(v.slice(14, 16));
  const second = Number(v.slice(17, 19));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (day > days) return null;
  const ms = n === 24 ? Number(v.slice(20, 23)) : 0;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** Parses a timestamp in the given format to epoch milliseconds, or null when it is not one. */
export function parseTime(value: unknown, format: TimestampFormat = 'auto'): number | null {
  let n: number | null = null;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) n = Number(value);
  if (n !== null) {
    if (!Number.isFinite(n)) return null;
    if (format === 'iso8601') return null;
    const ms =
      format === 'epoch_ms' ? n : format === 'epoch_s' ? n * 1000 : n >= AUTO_MS_THRESHOLD ? n : n * 1000;
    const t = Math.round(ms);
    return Number.isFinite(new Date(t).getTime()) ? t : null;
  }
  if (typeof value === 'string' && (format === 'iso8601' || format === 'auto')) return parseIsoTime(value);
  return null;
}

/** The id of a record without one of its own: `sha256:` and the hex SHA-256 of its canonical JSON. */
export function hashId(record: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(record), 'utf8').digest('hex')}`;
}

/** A BrokenRecord for a record of a source, its index (if any) leading the reason. */
export function broken(source: Pick<RecordSource, 'file' | 'line' | 'index'>, reason: string): BrokenRecord {
  return {
    file: source.file,
    line: source.line,
    reason: source.index ? `${source.index}: ${reason}` : reason,
  };
}

/**
 * The timestamp of a record: the first of `names` present. A BrokenRecord when none is (`no timestamp
 * (eventTime)`) or the first present one does not parse (`invalid timestamp (eventTime): "yesterday"`).
 */
export function recordTime(
  record: Record<string, unknown>,
  names: readonly string[],
  source: RecordSource,
  format: TimestampFormat = 'auto',
  read: (record: Record<string, unknown>, name: string) => unknown = (r, name) => r[name],
): number | BrokenRecord {
  for (const name of names) {
    const value = read(record, name);
    if (value === undefined || value === null || value === '') continue;
    const t = parseTime(value, format);
    if (t === null)
      return broken(source, `invalid timestamp (${name}): ${JSON.stringify(value).slice(0, 80)}`);
    return t;
  }
  return broken(source, `no timestamp (${names.join(' or ')})`);
}

let lastTime = NaN;
let lastIso = '';

/** `new Date(time).toISOString()`, kept for the last time asked (events in a row often share theirs). */
function isoTime(time: number): string {
  if (time !== lastTime) {
    lastIso = new Date(time).toISOString();
    lastTime = time;
  }
  return lastIso;
}

/** What buildEvent needs from an adapter. */
export interface EventParts {
  adapter: AdapterName;
  record: Record<string, unknown>;
  source: RecordSource;
  /** The source's own id, or null to use hashId(record). */
  id: string | null;
  time: number;
  logsource: LogSource;
  fields: Record<string, unknown>;
}

/**
 * Builds the frozen event: `fields.time` (ISO-8601) first, then the adapter's fields without null, undefined
 * or empty-list values.
 */
export function buildEvent(parts: EventParts): DetectEvent {
  const fields: Record<string, unknown> = { time: isoTime(parts.time) };
  const given = parts.fields;
  for (const k in given) {
    const v = given[k];
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    fields[k] = v;
  }
  return Object.freeze({
    id: parts.id ?? hashId(parts.record),
    time: parts.time,
    raw: parts.record,
    fields: Object.freeze(fields),
    // Adapters pass shared frozen log sources; a mapping's is copied once when the mapping is read.
    logsource: Object.isFrozen(parts.logsource) ? parts.logsource : Object.freeze({ ...parts.logsource }),
    source: Object.freeze({ adapter: parts.adapter, file: parts.source.file, line: parts.source.line }),
    seq: parts.source.seq,
  });
}
