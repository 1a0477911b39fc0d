/**
 * AWS CloudTrail records (one element of a delivery file's `Records`, or a record per line) to DetectEvents.
 * Rules read them by CloudTrail's own field names (`eventName`, `userIdentity.arn`), as SigmaHQ's rules do;
 * the normalized fields are the mapping in docs/events.md.
 */
import type { BrokenRecord, DetectEvent, LogSource } from '../detect-types.js';
import {
  broken,
  buildEvent,
  endpointFields,
  isRecord,
  kindOf,
  objectAt,
  recordTime,
  text,
  type FieldValues,
  type RecordSource,
} from './event-common.js';

/** The log source SigmaHQ's CloudTrail rules are written for. */
export const CLOUDTRAIL_LOGSOURCE: LogSource = Object.freeze({ product: 'aws', service: 'cloudtrail' });

/**
 * The normalized fields this adapter copies unchanged from one raw string field (`api.operation` is
 * `eventName`), so their values occur verbatim in the record's JSON text; the raw-line prefilter
 * (line-prefilter.ts) may read rules on them. The others it sets are derived (`time`, `status`,
 * `cloud.provider`). Keep in step with cloudtrailAdapter (a test checks it).
 */
export const CLOUDTRAIL_VERBATIM_FIELDS: ReadonlySet<string> = new Set([
  'activity_name',
  'actor.user.type',
  'actor.user.uid',
  'actor.user.name',
  'actor.session.issuer',
  'credential.uid',
  'src_endpoint.ip',
  'src_endpoint.domain',
  'http_request.user_agent',
  'cloud.region',
  'cloud.account.uid',
  'api.operation',
  'api.service.name',
  'api.request.uid',
  'resource.uid',
  'resource.type',
  'error.code',
  'error.message',
]);

/** True when a record looks like a CloudTrail record (for format detection). */
export function looksLikeCloudTrail(record: Record<string, unknown>): boolean {
  return (
    typeof record.eventName === 'string' &&
    typeof record.eventSource === 'string' &&
    (typeof record.eventVersion === 'string' || typeof record.eventTime === 'string')
  );
}

/** True for a CloudTrail delivery document: `{"Records": [...]}`. */
export function isCloudTrailDelivery(record: Record<string, unknown>): record is { Records: unknown[] } {
  return Array.isArray(record.Records);
}

/** Who acted: `actor.*` and `credential.uid` from `userIdentity`. */
function actorFields(identity: Record<string, unknown> | null): FieldValues {
  if (identity === null) return {};
  const issuer = objectAt(objectAt(identity, 'sessionContext') ?? {}, 'sessionIssuer');
  return {
    'actor.user.type': text(identity.type),
    'actor.user.uid': text(identity.arn) ?? text(identity.principalId),
    'actor.user.name': text(identity.userName) ?? text(issuer?.userName) ?? text(identity.invokedBy),
    'actor.session.issuer': text(issuer?.arn),
    'credential.uid': text(identity.accessKeyId),
  };
}

/**
 * Whether the call succeeded: a record with `errorCode` failed; so did a ConsoleLogin whose
 * `responseElements.ConsoleLogin` is `Failure` (CloudTrail writes no errorCode for a failed sign-in).
 */
function statusOf(record: Record<string, unknown>): 'success' | 'failure' {
  if (text(record.errorCode) !== null) return 'failure';
  const response = objectAt(record, 'responseElements');
  return response?.ConsoleLogin === 'Failure' ? 'failure' : 'success';
}

/** The first named resource (`resources[0]`): its ARN and type. */
function resourceFields(record: Record<string, unknown>): FieldValues {
  const resources = record.resources;
  const first = Array.isArray(resources) ? resources.find(isRecord) : undefined;
  if (first === undefined) return {};
  return { 'resource.uid': text(first.ARN) ?? text(first.arn), 'resource.type': text(first.type) };
}

/** Normalizes one CloudTrail record. */
export function cloudtrailAdapter(record: unknown, source: RecordSource): DetectEvent | BrokenRecord {
  if (!isRecord(record)) return broken(source, `not an object (${kindOf(record)})`);
  if (isCloudTrailDelivery(record)) {
    return broken(source, 'a CloudTrail delivery document ({"Records": [...]}): give its records one by one');
  }
  const time = recordTime(record, ['eventTime'], source, 'iso8601');
  if (typeof time !== 'number') return time;
  const identity = objectAt(record, 'userIdentity');
  return buildEvent({
    adapter: 'cloudtrail',
    record,
    source,
    id: text(record.eventID),
    time,
    logsource: CLOUDTRAIL_LOGSOURCE,
    fields: {
      activity_name: text(record.eventName),
      status: statusOf(record),
      ...actorFields(identity),
      ...endpointFields(record.sourceIPAddress),
      'http_request.user_agent': text(record.userAgent),
      'cloud.provider': 'aws',
      'cloud.region': text(record.awsRegion),
      'cloud.account.uid': text(record.recipientAccountId) ?? text(identity?.accountId),
      'api.operation': text(record.eventName),
      'api.service.name': text(record.eventSource),
      'api.request.uid': text(record.requestID),
      ...resourceFields(record),
      'error.code': text(record.errorCode),
      'error.message': text(record.errorMessage),
    } satisfies FieldValues,
  });
}
