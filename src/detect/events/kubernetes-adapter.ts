/**
 * Kubernetes audit events (`audit.k8s.io/v1` `Event`, one per line as the API server's log backend writes
 * them) to DetectEvents. Mapping in docs/events.md.
 */
import type { BrokenRecord, DetectEvent, LogSource } from '../detect-types.js';
import {
  broken,
  buildEvent,
  endpointFields,
  integer,
  isRecord,
  kindOf,
  objectAt,
  recordTime,
  text,
  textList,
  type FieldValues,
  type RecordSource,
} from './event-common.js';

/** The log source of SigmaHQ's Kubernetes audit rules. */
export const KUBERNETES_LOGSOURCE: LogSource = Object.freeze({ product: 'kubernetes', service: 'audit' });

/** True when a record looks like a Kubernetes audit event (for format detection). */
export function looksLikeKubernetesAudit(record: Record<string, unknown>): boolean {
  if (typeof record.apiVersion === 'string' && record.apiVersion.startsWith('audit.k8s.io/')) return true;
  return typeof record.auditID === 'string' && typeof record.verb === 'string';
}

/** `ServiceAccount` for `system:serviceaccount:…`, `Node` for `system:node:…`, else `User`. */
function userType(username: string): string {
  if (username.startsWith('system:serviceaccount:')) return 'ServiceAccount';
  if (username.startsWith('system:node:')) return 'Node';
  return 'User';
}

/** The object acted on: `resource.type` (`secrets`, `pods/exec`), `resource.name`, `resource.uid`. */
function resourceFields(ref: Record<string, unknown> | null): FieldValues {
  if (ref === null) return {};
  const resource = text(ref.resource);
  const sub = text(ref.subresource);
  const type = resource === null ? null : sub === null ? resource : `${resource}/${sub}`;
  const name = text(ref.name);
  const namespace = text(ref.namespace);
  const group = text(ref.apiGroup);
  // `<apiGroup>/<namespace>/<resource>/<name>`, each part there only when known.
  const uid = [group, namespace, resource, name].filter((p) => p !== null).join('/');
  return {
    'resource.type': type,
    'resource.name': name,
    'resource.uid': uid === '' ? null : uid,
    'api.service.name': resource === null ? null : (group ?? 'core'),
  };
}

/** The event id: `auditID`, with `:<stage>` for every stage but ResponseComplete (one request logs several). */
function eventId(record: Record<string, unknown>): string | null {
  const id = text(record.auditID);
  if (id === null) return null;
  const stage = text(record.stage);
  return stage === null || stage === 'ResponseComplete' ? id : `${id}:${stage}`;
}

/** Normalizes one Kubernetes audit event. */
export function kubernetesAdapter(record: unknown, source: RecordSource): DetectEvent | BrokenRecord {
  if (!isRecord(record)) return broken(source, `not an object (${kindOf(record)})`);
  const time = recordTime(record, ['requestReceivedTimestamp', 'stageTimestamp'], source, 'iso8601');
  if (typeof time !== 'number') return time;
  const user = objectAt(record, 'user');
  const username = text(user?.username);
  const response = objectAt(record, 'responseStatus');
  const code = integer(response?.code);
  const failed = code !== null && code >= 400;
  return buildEvent({
    adapter: 'kubernetes',
    record,
    source,
    id: eventId(record),
    time,
    logsource: KUBERNETES_LOGSOURCE,
    fields: {
      activity_name: text(record.verb),
      status: code === null ? null : failed ? 'failure' : 'success',
      'actor.user.uid': text(user?.uid) ?? username,
      'actor.user.name': username,
      'actor.user.type': username === null ? null : userType(username),
      ...endpointFields(textList(record.sourceIPs)?.[0]),
      'http_request.user_agent': text(record.userAgent),
      'http_request.url.path': text(record.requestURI),
      'http_response.code': code,
      'cloud.provider': 'kubernetes',
      'api.operation': text(record.verb),
      ...resourceFields(objectAt(record, 'objectRef')),
      'error.code': failed ? (text(response?.reason) ?? String(code)) : null,
      'error.message': failed ? text(response?.message) : null,
    } satisfies FieldValues,
  });
}
