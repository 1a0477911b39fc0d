/**
 * The `aws` importer: either the JSON of `aws iam get-account-authorization-details` (identities and grants) or
 * the IAM credential report (credentials), told apart by content. Both key users by ARN, so they merge.
 */
import type { InventoryBatch } from '../../core/inventory-batch.js';
import { AUTHORIZATION_DETAILS_KEYS, parseAuthorizationDetails } from './aws-authorization-details.js';
import { parseCredentialReport } from './aws-credential-report.js';
import { parseJsonText } from './importer-json.js';
import { decodeText, describeJsonType, importError } from './importer-support.js';
import type { Importer, ImporterContext, ImportSource } from './importer-types.js';

/** Which AWS export a text is: `authorization-details` (JSON), `credential-report` (CSV or its JSON envelope), or null. */
export function awsExportShape(
  text: string,
  doc?: unknown,
): 'authorization-details' | 'credential-report' | null {
  const first = text.trimStart()[0];
  if (first === '{') {
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return null;
    if (AUTHORIZATION_DETAILS_KEYS.some((k) => k in doc)) return 'authorization-details';
    if ('Content' in doc && ('ReportFormat' in doc || 'GeneratedTime' in doc)) return 'credential-report';
    return null;
  }
  return /^\s*user,arn,user_creation_time\b/i.test(text) ? 'credential-report' : null;
}

function parse(source: ImportSource, ctx: ImporterContext): InventoryBatch {
  const { fileName } = source;
  const text = decodeText(
    source,
    'the JSON of `aws iam get-account-authorization-details` or the IAM credential report CSV',
  );
  if (text.trimStart()[0] !== '{') {
    if (text.trimStart()[0] === '[') {
      throw importError(
        fileName,
        'expected a JSON object (get-account-authorization-details) or a CSV credential report, got a JSON array',
      );
    }
    return parseCredentialReport(fileName, text, ctx.fingerprinter);
  }
  const doc = parseJsonText(fileName, text);
  const shape = awsExportShape(text, doc);
  if (shape === 'authorization-details')
    return parseAuthorizationDetails(fileName, doc as Record<string, unknown>);
  if (shape === 'credential-report') {
    // `aws iam get-credential-report` without --query: the CSV is base64 in "Content".
    const content = (doc as Record<string, unknown>).Content;
    if (typeof content !== 'string' || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(content)) {
      throw importError(fileName, 'Content: expected the base64-encoded CSV report', [
        { path: `${fileName}: Content`, message: 'expected a base64 string' },
      ]);
    }
    const csv = decodeText(
      { fileName, content: Buffer.from(content, 'base64') },
      'the IAM credential report CSV',
    );
    return parseCredentialReport(fileName, csv, ctx.fingerprinter);
  }
  throw importError(
    fileName,
    `not an AWS IAM export: expected UserDetailList/RoleDetailList/GroupDetailList/Policies (get-account-authorization-details) or Content (get-credential-report), got ${doc !== null && typeof doc === 'object' ? `an object with keys ${Object.keys(doc).slice(0, 5).join(', ') || '(none)'}` : describeJsonType(doc)}`,
  );
}

/** Imports AWS IAM exports. */
export const awsImporter: Importer = {
  kind: 'aws',
  description:
    'AWS IAM: `aws iam get-account-authorization-details` JSON (users, roles, policies → identities and grants) or the credential report CSV (keys, passwords)',
  parse,
};
