/**
 * The IAM credential report (`aws iam generate-credential-report` then `get-credential-report`): one identity per
 * user (same externalId, the ARN, as the authorization details, so the two merge) with its access keys, signing
 * certificates and console password as credentials. The report holds no key ids or secrets, so each credential
 * is fingerprinted from a stable reference (`aws-access-key:<arn>:<n>`).
 */
import {
  emptyBatch,
  type CredentialInput,
  type IdentityInput,
  type InventoryBatch,
} from '../../core/inventory-batch.js';
import type { Fingerprinter } from '../../core/fingerprint.js';
import { kindFromIamPath, parseIamArn } from './aws-identities.js';
import { readCsv, type CsvRow } from './importer-csv.js';
import {
  createIssueCollector,
  describeReference,
  importError,
  type IssueCollector,
} from './importer-support.js';

/** Columns every credential report has; the report is rejected when one is missing. */
export const CREDENTIAL_REPORT_REQUIRED_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_2_active',
  'access_key_2_last_rotated',
] as const;

const NULL_MARKERS = new Set(['n/a', 'no_information', 'not_supported', '']);
const ROOT_USER = '<root_account>';

interface RowReader {
  bool(column: string): boolean | null;
  date(column: string): string | null;
  text(column: string): string | null;
}

function rowReader(fileName: string, row: CsvRow, issues: IssueCollector): RowReader {
  const raw = (column: string): string | null => {
    const v = row.fields.get(column);
    if (v === undefined) return null;
    const t = v.trim();
    return NULL_MARKERS.has(t.toLowerCase()) ? null : t;
  };
  const where = (column: string): string => `${fileName}:${row.line} column ${column}`;
  return {
    bool(column) {
      const v = raw(column);
      if (v === null) return null;
      if (/^true$/i.test(v)) return true;
      if (/^false$/i.test(v)) return false;
      issues.add(where(column), 'expected true, false, N/A or not_supported');
      return null;
    },
    date(column) {
      const v = raw(column);
      if (v === null) return null;
      const t = Date.parse(v);
      if (Number.isNaN(t)) {
        issues.add(where(column), 'expected an ISO-8601 date, N/A, no_information or not_supported');
        return null;
      }
      return new Date(t).toISOString();
    },
    text: raw,
  };
}

function latest(...dates: Array<string | null>): string | null {
  return dates.reduce<string | null>((a, b) => (a === null ? b : b === null ? a : a > b ? a : b), null);
}

/**
 * Parses a credential report CSV into identities and credentials.
 * @example parseCredentialReport('report.csv', text, fingerprinter)
 */
export function parseCredentialReport(
  fileName: string,
  text: string,
  fingerprinter: Fingerprinter,
): InventoryBatch {
  const issues = createIssueCollector(fileName);
  const batch = emptyBatch();
  readCsv(
    fileName,
    text,
    (header) => {
      const lower = header.map((h) => h.toLowerCase());
      const missing = CREDENTIAL_REPORT_REQUIRED_COLUMNS.filter((c) => !lower.includes(c));
      if (missing.length > 0) {
        throw importError(
          `${fileName}:1`,
          `not an IAM credential report: missing column(s) ${missing.join(', ')} (expected the CSV of \`aws iam get-credential-report\`)`,
        );
      }
    },
    (row) => {
      const r = rowReader(fileName, row, issues);
      const user = r.text('user');
      const arnText = r.text('arn');
      if (user === null) issues.add(`${fileName}:${row.line} column user`, 'required user name is missing');
      const arn = arnText === null ? null : parseIamArn(arnText);
      const isRoot = user === ROOT_USER;
      if (!arn || (isRoot ? arn.resourceType !== 'root' : arn.resourceType !== 'user')) {
        issues.add(
          `${fileName}:${row.line} column arn`,
          isRoot
            ? 'expected the account root ARN (arn:aws:iam::<account>:root)'
            : 'expected an IAM user ARN (arn:aws:iam::<account>:user/…)',
        );
      }
      const created = r.date('user_creation_time');
      const passwordEnabled = r.bool('password_enabled');
      const passwordLastUsed = r.date('password_last_used');
      const passwordLastChanged = r.date('password_last_changed');
      const passwordNextRotation = r.date('password_next_rotation');
      const mfaActive = r.bool('mfa_active');
      const keys = [1, 2].map((n) => ({
        n,
        active: r.bool(`access_key_${n}_active`),
        lastRotated: r.date(`access_key_${n}_last_rotated`),
        lastUsed: r.date(`access_key_${n}_last_used_date`),
        region: r.text(`access_key_${n}_last_used_region`),
        service: r.text(`access_key_${n}_last_used_service`),
      }));
      const certs = [1, 2].map((n) => ({
        n,
        active: r.bool(`cert_${n}_active`),
        lastRotated: r.date(`cert_${n}_last_rotated`),
      }));
      if (user === null || arnText === null || !arn) return;
      const identity: IdentityInput = {
        provider: 'aws',
        externalId: arnText,
        name: user,
        kind: isRoot ? 'other' : (kindFromIamPath(arn.path) ?? 'service-account'),
        // The report has no tags: without a telling path the kind is a guess and must not overwrite one
        // set from the authorization details' tags.
        ...(!isRoot && kindFromIamPath(arn.path) === null ? { kindIsGuess: true } : {}),
        createdAt: created,
        lastSeenAt: latest(passwordLastUsed, ...keys.map((k) => k.lastUsed)),
        attributes: {
          accountId: arn.accountId,
          ...(isRoot ? { root: true } : { iamType: 'user', path: arn.path }),
          ...(mfaActive !== null ? { mfaActive } : {}),
        },
      };
      batch.identities.push(identity);
      const ref = { provider: 'aws', externalId: arnText };
      const credential = (
        c: Omit<CredentialInput, 'identity' | 'provider' | 'fingerprint' | 'preview' | 'fingerprintSource'>,
        reference: string,
      ): CredentialInput => ({
        identity: ref,
        provider: 'aws',
        ...describeReference(fingerprinter, reference),
        ...c,
      });
      for (const k of keys) {
        // A slot that never held a key reads active=false and last_rotated=N/A.
        if (k.active !== true && k.lastRotated === null) continue;
        batch.credentials.push(
          credential(
            {
              type: 'access-key',
              externalId: null,
              name: `access_key_${k.n}`,
              status: k.active === true ? 'active' : 'inactive',
              createdAt: k.lastRotated,
              lastRotatedAt: k.lastRotated,
              lastUsedAt: k.lastUsed,
              attributes: {
                slot: k.n,
                ...(k.region ? { lastUsedRegion: k.region } : {}),
                ...(k.service ? { lastUsedService: k.service } : {}),
                ...(isRoot ? { root: true } : {}),
              },
              locations: [{ kind: 'system', path: 'aws-iam', line: null, key: `access_key_${k.n}` }],
            },
            `aws-access-key:${arnText}:${k.n}`,
          ),
        );
      }
      for (const c of certs) {
        if (c.active !== true && c.lastRotated === null) continue;
        batch.credentials.push(
          credential(
            {
              type: 'certificate',
              externalId: null,
              name: `cert_${c.n}`,
              status: c.active === true ? 'active' : 'inactive',
              createdAt: c.lastRotated,
              lastRotatedAt: c.lastRotated,
              attributes: { slot: c.n, signingCertificate: true },
              locations: [{ kind: 'system', path: 'aws-iam', line: null, key: `cert_${c.n}` }],
            },
            `aws-signing-certificate:${arnText}:${c.n}`,
          ),
        );
      }
      if (passwordEnabled === true) {
        batch.credentials.push(
          credential(
            {
              type: 'password',
              externalId: null,
              name: 'console password',
              status: 'active',
              lastUsedAt: passwordLastUsed,
              lastRotatedAt: passwordLastChanged,
              expiresAt: passwordNextRotation,
              attributes: mfaActive !== null ? { mfaActive } : {},
              locations: [{ kind: 'system', path: 'aws-console', line: null, key: null }],
            },
            `aws-console-password:${arnText}`,
          ),
        );
      }
    },
  );
  issues.throwIfAny();
  return batch;
}
