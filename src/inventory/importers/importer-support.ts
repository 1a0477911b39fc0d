/**
 * Shared plumbing for the importers: decoding bytes to text, errors that name the file, the record and the
 * field, zod issues turned into those paths, credential inputs built from fingerprints, environment names.
 */
import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import { ValidationError, type ErrorDetail } from '../../core/errors.js';
import type { Fingerprinter } from '../../core/fingerprint.js';
import type { CredentialInput, IdentityRef, LocationInput } from '../../core/inventory-batch.js';
import { IDENTITY_KINDS, type IdentityKind } from '../../core/types.js';
import type { DetectedCredential } from './credential-detector.js';
import type { ImportSource } from './importer-types.js';

/** At most this many problems are collected before an importer stops reading and reports them. */
export const MAX_ISSUES = 20;

/** One step of a path into a parsed document: an object key or an array index. */
export type PathSegment = string | number;

/** Formats a path the way a reader writes it: `UserDetailList[3].UserName`, `annotations["a.b/c"]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else {
      const k = String(s);
      out += /^[A-Za-z_$][\w$-]*$/.test(k) ? `${out === '' ? '' : '.'}${k}` : `[${JSON.stringify(k)}]`;
    }
  }
  return out;
}

/** The `details[].path` of a problem inside a parsed document: `auth.json: UserDetailList[3].UserName`. */
export function documentPath(fileName: string, segments: readonly PropertyKey[]): string {
  return segments.length === 0 ? fileName : `${fileName}: ${formatPath(segments)}`;
}

/** A ValidationError with code KW_INVALID_IMPORT whose message starts with `where` (the file name, maybe with a line). */
export function importError(
  where: string,
  message: string,
  details: ErrorDetail[] = [{ path: where, message }],
  cause?: unknown,
): ValidationError {
  return new ValidationError(`${where}: ${message}`, { code: 'KW_INVALID_IMPORT', details, cause });
}

/** Collects problems found while reading one file and throws them together (or early, once there are too many). */
export interface IssueCollector {
  /** Records one problem; throws once MAX_ISSUES problems are recorded so huge bad files stop early. */
  add(path: string, message: string): void;
  /** Records one problem at a path inside the parsed document (`UserDetailList[3].UserName`). */
  addAt(path: readonly PropertyKey[], message: string): void;
  /** Records the issues of a failed zod parse under a base path. */
  addZod(base: readonly PropertyKey[], error: z.ZodError): void;
  /** Parses a value with a schema, recording its issues under `path`; undefined when it fails. */
  check<S extends z.ZodType>(schema: S, value: unknown, path: readonly PropertyKey[]): z.infer<S> | undefined;
  /** How many problems were recorded so far. */
  count(): number;
  /** Throws a ValidationError listing the problems, when there are any. */
  throwIfAny(): void;
}

/** Creates an issue collector for one file. */
export function createIssueCollector(fileName: string): IssueCollector {
  const details: ErrorDetail[] = [];
  const fail = (): ValidationError => {
    const first = details[0]!;
    const more =
      details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''})` : '';
    const stopped = details.length >= MAX_ISSUES ? '; stopped reading after this many problems' : '';
    return new ValidationError(`${first.path}: ${first.message}${more}${stopped}`, {
      code: 'KW_INVALID_IMPORT',
      details: [...details],
    });
  };
  const addIssues = (base: readonly PropertyKey[], list: readonly z.core.$ZodIssue[]): void => {
    for (const issue of list) {
      const path = [...base, ...issue.path];
      if (issue.code === 'invalid_union') {
        // When the value has the type of exactly one alternative, its problems are the ones worth reporting.
        const fitting = issue.errors.filter(
          (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
        );
        if (fitting.length === 1) {
          addIssues(path, fitting[0]!);
          continue;
        }
      }
      collector.add(documentPath(fileName, path), zodMessage(issue));
    }
  };
  const collector: IssueCollector = {
    add(path, message) {
      details.push({ path: path.startsWith(fileName) ? path : `${fileName}: ${path}`, message });
      if (details.length >= MAX_ISSUES) throw fail();
    },
    addAt(path, message) {
      collector.add(documentPath(fileName, path), message);
    },
    addZod(base, error) {
      addIssues(base, error.issues);
    },
    check(schema, value, path) {
      const r = schema.safeParse(value, { reportInput: true });
      if (r.success) return r.data;
      collector.addZod(path, r.error);
      return undefined;
    },
    count: () => details.length,
    throwIfAny() {
      if (details.length > 0) throw fail();
    },
  };
  return collector;
}

/** Rewrites zod's default messages into the words a person fixing an export file needs (never echoing the value). */
function zodMessage(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const got = input === undefined ? 'nothing' : describeJsonType(input);
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined
        ? `required ${issue.expected} is missing`
        : `expected ${issue.expected}, got ${got}`;
    case 'invalid_union': {
      const expected = [
        ...new Set(
          issue.errors.flatMap((branch) =>
            branch.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [i.expected] : [])),
          ),
        ),
      ];
      if (expected.length > 0) return `expected ${expected.join(' or ')}, got ${got}`;
      return 'does not match any accepted form';
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

/** The JSON type name of a value (`array`, `null`, `object`, `string`, …), for error messages. */
export function describeJsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** 1-based line of a byte offset in a buffer. */
function lineOfByte(content: Buffer, offset: number): number {
  let line = 1;
  for (let i = content.indexOf(10); i !== -1 && i < offset; i = content.indexOf(10, i + 1)) line++;
  return line;
}

/** Offset of the first byte that breaks UTF-8 (only called once the fast check has failed). */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) n = 2;
    else if (c >= 0xf0 && c <= 0xf4) n = 3;
    else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
    }
    // Overlong forms and surrogates (RFC 3629 §4).
    const d1 = b[i + 1] ?? 0;
    if ((c === 0xe0 && d1 < 0xa0) || (c === 0xed && d1 > 0x9f)) return i;
    if ((c === 0xf0 && d1 < 0x90) || (c === 0xf4 && d1 > 0x8f)) return i;
    i += n + 1;
  }
  return b.length;
}

/**
 * Decodes an import file to text: rejects empty files, binary data (NUL bytes), UTF-16 and invalid UTF-8 with
 * the offset and line of the first bad byte, and strips a UTF-8 byte-order mark.
 */
export function decodeText(source: ImportSource, expected: string): string {
  const { fileName, content } = source;
  if (content.length === 0) throw importError(fileName, `the file is empty; expected ${expected}`);
  if ((content[0] === 0xff && content[1] === 0xfe) || (content[0] === 0xfe && content[1] === 0xff)) {
    throw importError(fileName, `the file is UTF-16 encoded; save it as UTF-8 (expected ${expected})`);
  }
  const nul = content.indexOf(0);
  if (nul !== -1) {
    const where = `${fileName}:${lineOfByte(content, nul)}`;
    throw importError(where, `the file contains a NUL byte at byte ${nul}; it looks binary, not ${expected}`);
  }
  if (!isUtf8(content)) {
    const bad = firstInvalidUtf8(content);
    const where = `${fileName}:${lineOfByte(content, bad)}`;
    throw importError(
      where,
      `the file is not valid UTF-8 (first invalid byte at offset ${bad}); expected ${expected}`,
    );
  }
  let text = content.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw importError(fileName, `the file holds only whitespace; expected ${expected}`);
  return text;
}

/** Converts offsets in a text to 1-based line numbers. */
export function lineIndex(text: string): (offset: number) => number {
  const starts: number[] = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** The fingerprint and preview of a stable reference (an id) when the secret value itself is not in the export. */
export function describeReference(
  fingerprinter: Fingerprinter,
  reference: string,
): { fingerprint: string; preview: string; fingerprintSource: 'reference' } {
  return { ...fingerprinter.describe(reference), fingerprintSource: 'reference' };
}

/** Merges credentials of the same identity and fingerprint (one secret seen in several places) keeping first-seen order. */
export function mergeCredentials(credentials: CredentialInput[]): CredentialInput[] {
  const byKey = new Map<string, CredentialInput>();
  for (const c of credentials) {
    const key = `${c.identity.provider}\u0000${c.identity.externalId}\u0000${c.fingerprint}`;
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, { ...c, locations: [...(c.locations ?? [])] });
      continue;
    }
    const seen = new Set((prev.locations ?? []).map(locationId));
    for (const l of c.locations ?? []) if (!seen.has(locationId(l))) prev.locations!.push(l);
    prev.attributes = { ...(c.attributes ?? {}), ...(prev.attributes ?? {}) };
  }
  return [...byKey.values()];
}

function locationId(l: LocationInput): string {
  return `${l.kind}\u0000${l.path}\u0000${l.line ?? ''}\u0000${l.key ?? ''}`;
}

const ENVIRONMENT_WORDS: Record<string, string> = {
  prod: 'production',
  production: 'production',
  prd: 'production',
  live: 'production',
  staging: 'staging',
  stage: 'staging',
  stg: 'staging',
  preprod: 'staging',
  'pre-prod': 'staging',
  dev: 'development',
  develop: 'development',
  development: 'development',
  test: 'test',
  testing: 'test',
  qa: 'test',
  sandbox: 'sandbox',
};

/** Normalises an environment value from a tag or label: known words become production/staging/development/test. */
export function normaliseEnvironment(value: string | null | undefined): string | null {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return null;
  return ENVIRONMENT_WORDS[v] ?? v;
}

/** Guesses the environment from a name such as `payments-prod` or `.env.staging`; null when no word says. */
export function environmentFromName(name: string): string | null {
  for (const word of name.toLowerCase().split(/[^a-z0-9]+/)) {
    if (word === 'live' || word === 'sandbox') continue;
    const env = ENVIRONMENT_WORDS[word];
    if (env) return env;
  }
  return null;
}

/** Looks a key up in a string map case-insensitively, trying the candidates in order. */
export function pickCaseInsensitive(
  map: Record<string, string> | null | undefined,
  candidates: readonly string[],
): string | null {
  if (!map) return null;
  const lower = new Map(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));
  for (const c of candidates) {
    const v = lower.get(c.toLowerCase());
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
  }
  return null;
}

/** A credential an importer found in a file, before fingerprinting: what it is, what it is called and where it sits. */
export interface FoundCredential {
  detected: DetectedCredential;
  /** The variable, header, flag or data key it sits under. */
  name: string;
  location: LocationInput;
  /** Further places the same credential sits (the key id of a paired AWS access key). */
  alsoAt?: LocationInput[];
}

/**
 * Pairs AWS access key ids with the secret access keys found beside them (same file or same server), in order,
 * so one key pair becomes one credential: fingerprinted by its secret, known by its key id, seen in both places.
 */
export function pairAwsAccessKeys(found: readonly FoundCredential[]): FoundCredential[] {
  const isId = (f: FoundCredential): boolean =>
    f.detected.provider === 'aws' &&
    f.detected.type === 'access-key' &&
    f.detected.fingerprintSource === 'reference';
  const isSecret = (f: FoundCredential): boolean =>
    f.detected.provider === 'aws' &&
    f.detected.type === 'access-key' &&
    f.detected.fingerprintSource === 'value';
  const ids = found.filter(isId);
  const secrets = found.filter(isSecret);
  const partner = new Map<FoundCredential, FoundCredential>();
  for (let i = 0; i < Math.min(ids.length, secrets.length); i++) partner.set(secrets[i]!, ids[i]!);
  const absorbed = new Set(partner.values());
  return found
    .filter((f) => !absorbed.has(f))
    .map((f) => {
      const id = partner.get(f);
      if (!id) return f;
      return {
        ...f,
        detected: {
          ...f.detected,
          externalId: id.detected.externalId,
          attributes: { ...id.detected.attributes, ...f.detected.attributes },
        },
        alsoAt: [...(f.alsoAt ?? []), id.location],
      };
    });
}

/** Turns found credentials into credential inputs of one identity: fingerprints the secrets, merges repeats. */
export function credentialInputsFrom(
  found: FoundCredential[],
  identity: IdentityRef,
  fingerprinter: Fingerprinter,
): CredentialInput[] {
  const inputs = pairAwsAccessKeys(found).map((f): CredentialInput => {
    const d = f.detected;
    const { fingerprint, preview } = fingerprinter.describe(d.secret);
    const locations = [f.location, ...(f.alsoAt ?? [])].sort(compareLocations);
    return {
      identity,
      type: d.type,
      provider: d.provider,
      fingerprint,
      fingerprintSource: d.fingerprintSource,
      preview,
      externalId: d.externalId,
      name: f.name,
      status: 'active',
      expiresAt: d.expiresAt,
      attributes: { ...d.attributes, detectedBy: d.reason },
      locations,
    };
  });
  return mergeCredentials(inputs);
}

function compareLocations(a: LocationInput, b: LocationInput): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.key ?? '').localeCompare(b.key ?? '');
}

/** True when a string is one of the identity kinds. */
export function isIdentityKind(v: string): v is IdentityKind {
  return (IDENTITY_KINDS as readonly string[]).includes(v);
}
