/**
 * The `directory` importer: an HR or IdP export of people, as CSV (header row) or JSON (an array, `{ users }`,
 * Okta's `/api/v1/users`, Microsoft Graph's `{ value }`, SCIM's `{ Resources }`). Columns and fields are matched
 * case-insensitively with common synonyms. Produces only people; owners of identities resolve against them.
 */
import { emptyBatch, type InventoryBatch, type PersonInput } from '../../core/inventory-batch.js';
import type { PersonStatus } from '../../core/types.js';
import { readCsv } from './importer-csv.js';
import { parseJsonText } from './importer-json.js';
import {
  createIssueCollector,
  decodeText,
  describeJsonType,
  documentPath,
  importError,
  type IssueCollector,
  type PathSegment,
} from './importer-support.js';
import type { Importer, ImporterContext, ImportSource } from './importer-types.js';

/** Accepted column/field names per person field, compared lower-case without spaces, `_` or `-`. */
export const DIRECTORY_FIELDS = {
  email: [
    'email',
    'mail',
    'work_email',
    'email_address',
    'primary_email',
    'user_email',
    'userPrincipalName',
    'upn',
    'login',
  ],
  name: ['name', 'display_name', 'full_name', 'employee_name'],
  firstName: ['first_name', 'given_name', 'firstName', 'givenName'],
  lastName: ['last_name', 'surname', 'family_name', 'lastName', 'familyName'],
  status: [
    'status',
    'employment_status',
    'active',
    'user_status',
    'state',
    'account_status',
    'accountEnabled',
    'enabled',
  ],
  department: ['department', 'dept', 'team', 'org_unit', 'division'],
  manager: ['manager', 'manager_email', 'manager_name', 'reports_to', 'supervisor'],
  leftAt: [
    'termination_date',
    'terminated_at',
    'left_at',
    'end_date',
    'leave_date',
    'last_day',
    'offboarded_at',
    'deprovisioned_at',
    'employeeLeaveDateTime',
    'separation_date',
  ],
} as const;
type Field = keyof typeof DIRECTORY_FIELDS;

const norm = (s: string): string => s.toLowerCase().replace(/[\s_-]+/g, '');

const ACTIVE = new Set([
  'active',
  'true',
  'yes',
  'y',
  '1',
  'employed',
  'current',
  'enabled',
  'staged',
  'provisioned',
  'recovery',
  'passwordexpired',
  'lockedout',
  'onboarding',
  'hired',
]);
const SUSPENDED = new Set(['suspended', 'onleave', 'leave', 'loa', 'paused', 'disabled', 'locked']);
const LEFT = new Set([
  'terminated',
  'deprovisioned',
  'inactive',
  'false',
  'no',
  'n',
  '0',
  'left',
  'former',
  'departed',
  'offboarded',
  'deleted',
  'removed',
  'resigned',
  'retired',
  'separated',
]);

/** Normalises a status value: active | suspended | left (terminated, deprovisioned, inactive, false → left); null when unknown. */
export function normaliseStatus(value: unknown): PersonStatus | null {
  if (typeof value === 'boolean') return value ? 'active' : 'left';
  if (typeof value === 'number') return value === 1 ? 'active' : value === 0 ? 'left' : null;
  if (typeof value !== 'string') return null;
  const v = norm(value);
  if (ACTIVE.has(v)) return 'active';
  if (SUSPENDED.has(v)) return 'suspended';
  if (LEFT.has(v)) return 'left';
  return null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads one field of a record: its value and where it is (a CSV column or a JSON path). */
interface FieldReader {
  get(field: Field): { value: unknown; where: string } | null;
  /** Where a missing field would be reported. */
  whereMissing(field: Field): string;
}

function toPerson(
  r: FieldReader,
  issues: IssueCollector,
  now: string,
  leftAtFallback: unknown,
): PersonInput | null {
  const text = (field: Field): string | null => {
    const f = r.get(field);
    if (!f || f.value === null || f.value === undefined) return null;
    const v =
      typeof f.value === 'string'
        ? f.value.trim()
        : typeof f.value === 'number' || typeof f.value === 'boolean'
          ? String(f.value)
          : null;
    return v === '' ? null : v;
  };
  const email = text('email');
  const emailField = r.get('email');
  if (email === null) {
    issues.add(emailField?.where ?? r.whereMissing('email'), 'required email is missing');
    return null;
  }
  if (!EMAIL.test(email)) {
    issues.add(emailField!.where, 'not an email address');
    return null;
  }
  const statusField = r.get('status');
  let status: PersonStatus | null = 'active';
  if (
    statusField &&
    statusField.value !== null &&
    statusField.value !== '' &&
    statusField.value !== undefined
  ) {
    status = normaliseStatus(statusField.value);
    if (status === null) {
      issues.add(
        statusField.where,
        'unknown status; expected active, suspended, terminated, deprovisioned, inactive, true or false',
      );
      return null;
    }
  }
  const leftField = r.get('leftAt');
  const leftRaw = leftField?.value ?? leftAtFallback;
  let leftAt: string | null = null;
  if (leftRaw !== null && leftRaw !== undefined && leftRaw !== '') {
    const t = typeof leftRaw === 'string' ? Date.parse(leftRaw.trim()) : NaN;
    if (Number.isNaN(t)) {
      if (leftField) {
        issues.add(leftField.where, 'expected a date (YYYY-MM-DD or ISO-8601)');
        return null;
      }
    } else leftAt = new Date(t).toISOString();
  }
  // A termination date that has passed means the person left, whatever the status column still says.
  if (status === 'active' && leftAt !== null && leftAt <= now) status = 'left';
  const first = text('firstName');
  const last = text('lastName');
  return {
    email: email.toLowerCase(),
    name: text('name') ?? ([first, last].filter(Boolean).join(' ') || null),
    status,
    department: text('department'),
    manager: text('manager'),
    leftAt: status === 'active' ? null : leftAt,
  };
}

function parseCsvDirectory(
  fileName: string,
  text: string,
  now: string,
  issues: IssueCollector,
): PersonInput[] {
  const people: PersonInput[] = [];
  let columns = new Map<Field, string>();
  readCsv(
    fileName,
    text,
    (header) => {
      columns = new Map();
      for (const field of Object.keys(DIRECTORY_FIELDS) as Field[]) {
        const wanted = DIRECTORY_FIELDS[field].map(norm);
        for (const w of wanted) {
          const col = header.find((h) => norm(h) === w);
          if (col !== undefined) {
            columns.set(field, col);
            break;
          }
        }
      }
      if (!columns.has('email')) {
        throw importError(
          `${fileName}:1`,
          `no email column in the header row (looked for ${DIRECTORY_FIELDS.email.join(', ')})`,
        );
      }
    },
    (row) => {
      const reader: FieldReader = {
        get(field) {
          const col = columns.get(field);
          if (col === undefined) return null;
          return {
            value: row.fields.get(col.toLowerCase()) ?? '',
            where: `${fileName}:${row.line} column ${col}`,
          };
        },
        whereMissing: (field) => `${fileName}:${row.line} column ${columns.get(field) ?? field}`,
      };
      const p = toPerson(reader, issues, now, undefined);
      if (p) people.push(p);
    },
  );
  return people;
}

function objectReader(fileName: string, record: Record<string, unknown>, path: PathSegment[]): FieldReader {
  // Okta keeps the person's fields under "profile"; SCIM under "name", "emails" and the enterprise extension.
  const sources: Array<{ obj: Record<string, unknown>; path: PathSegment[] }> = [];
  const profile = record.profile;
  if (profile && typeof profile === 'object' && !Array.isArray(profile)) {
    sources.push({ obj: profile as Record<string, unknown>, path: [...path, 'profile'] });
  }
  sources.push({ obj: record, path });
  const enterprise = record['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'];
  if (enterprise && typeof enterprise === 'object' && !Array.isArray(enterprise)) {
    sources.push({
      obj: enterprise as Record<string, unknown>,
      path: [...path, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    });
  }
  const where = (p: PathSegment[]): string => documentPath(fileName, p);
  const find = (field: Field): { value: unknown; where: string } | null => {
    const wanted = DIRECTORY_FIELDS[field].map(norm);
    for (const src of sources) {
      for (const w of wanted) {
        const key = Object.keys(src.obj).find((k) => norm(k) === w);
        if (key === undefined) continue;
        let value = src.obj[key];
        if (value === null || value === undefined || value === '') continue;
        // SCIM: "name": { "formatted": … }, "manager": { "displayName": … }, "emails": [{ "value", "primary" }].
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          const o = value as Record<string, unknown>;
          value = o.formatted ?? o.displayName ?? o.value ?? null;
        }
        if (field === 'email' && key === 'login' && typeof value === 'string' && !value.includes('@'))
          continue;
        return { value, where: where([...src.path, key]) };
      }
    }
    if (field === 'email' && Array.isArray(record.emails)) {
      const emails = record.emails as unknown[];
      const i = Math.max(
        0,
        emails.findIndex(
          (e) => e && typeof e === 'object' && (e as Record<string, unknown>).primary === true,
        ),
      );
      const e = emails[i];
      if (e && typeof e === 'object')
        return { value: (e as Record<string, unknown>).value, where: where([...path, 'emails', i, 'value']) };
    }
    return null;
  };
  return {
    get: find,
    whereMissing: (field) => where([...(sources[0]?.path ?? path), field === 'email' ? 'email' : field]),
  };
}

function parseJsonDirectory(
  fileName: string,
  doc: unknown,
  now: string,
  issues: IssueCollector,
): PersonInput[] {
  let list: unknown;
  let base: PathSegment[] = [];
  if (Array.isArray(doc)) list = doc;
  else if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    const key = ['users', 'people', 'employees', 'value', 'Resources', 'members'].find((k) =>
      Array.isArray(o[k]),
    );
    if (key === undefined) {
      throw importError(
        fileName,
        'expected an array of people, or an object with a "users" (or "value", "Resources") array',
      );
    }
    list = o[key];
    base = [key];
  } else {
    throw importError(
      fileName,
      `expected an array of people or { "users": [...] }, got ${describeJsonType(doc)}`,
    );
  }
  const people: PersonInput[] = [];
  (list as unknown[]).forEach((record, i) => {
    const path = [...base, i];
    if (!record || typeof record !== 'object' || Array.isArray(record)) {
      issues.addAt(path, `expected an object, got ${describeJsonType(record)}`);
      return;
    }
    const r = record as Record<string, unknown>;
    // Okta: DEPROVISIONED users carry the time of deprovisioning in statusChanged.
    const oktaLeft =
      typeof r.status === 'string' && r.status.toUpperCase() === 'DEPROVISIONED'
        ? r.statusChanged
        : undefined;
    const p = toPerson(objectReader(fileName, r, path), issues, now, oktaLeft);
    if (p) people.push(p);
  });
  return people;
}

function parse(source: ImportSource, ctx: ImporterContext): InventoryBatch {
  const { fileName } = source;
  const text = decodeText(source, 'a directory export (CSV with a header row, or JSON)');
  const issues = createIssueCollector(fileName);
  const first = text.trimStart()[0];
  const people =
    first === '[' || first === '{'
      ? parseJsonDirectory(fileName, parseJsonText(fileName, text), ctx.now, issues)
      : parseCsvDirectory(fileName, text, ctx.now, issues);
  issues.throwIfAny();
  const batch = emptyBatch();
  batch.people.push(...people);
  return batch;
}

/** Imports an HR or IdP directory export. */
export const directoryImporter: Importer = {
  kind: 'directory',
  description:
    'HR/IdP directory export (CSV, JSON array, { users }, Okta /api/v1/users): people who own identities',
  parse,
};
