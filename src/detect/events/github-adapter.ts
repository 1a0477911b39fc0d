/**
 * GitHub audit log entries (organization or enterprise audit log: the REST API, the JSON export or the audit
 * log stream) to DetectEvents. Mapping in docs/events.md.
 */
import type { BrokenRecord, DetectEvent, LogSource } from '../detect-types.js';
import {
  broken,
  buildEvent,
  endpointFields,
  idText,
  isRecord,
  kindOf,
  objectAt,
  recordTime,
  text,
  type FieldValues,
  type RecordSource,
} from './event-common.js';

/** The log source of GitHub audit rules. */
export const GITHUB_LOGSOURCE: LogSource = Object.freeze({ product: 'github', service: 'audit' });

/** Timestamp fields, in order: `@timestamp` (stream and API), `created_at` (both, and older exports). */
const TIME_FIELDS = ['@timestamp', 'created_at'] as const;

/** True when a record looks like a GitHub audit log entry (for format detection). */
export function looksLikeGitHubAudit(record: Record<string, unknown>): boolean {
  return (
    typeof record.action === 'string' &&
    (Object.hasOwn(record, '_document_id') || TIME_FIELDS.some((f) => Object.hasOwn(record, f)))
  );
}

/** What the entry is about: the repository, else the team, else the user, else the organization. */
function resourceFields(record: Record<string, unknown>): FieldValues {
  const candidates: Array<[string, unknown]> = [
    ['repository', record.repo ?? record.repository],
    ['team', record.team],
    ['user', record.user],
    ['organization', record.org],
  ];
  for (const [type, value] of candidates) {
    const name = text(value);
    if (name !== null) return { 'resource.uid': name, 'resource.type': type, 'resource.name': name };
  }
  return {};
}

/** Normalizes one GitHub audit log entry. */
export function githubAdapter(record: unknown, source: RecordSource): DetectEvent | BrokenRecord {
  if (!isRecord(record)) return broken(source, `not an object (${kindOf(record)})`);
  const time = recordTime(record, TIME_FIELDS, source);
  if (typeof time !== 'number') return time;
  const action = text(record.action);
  const actor = text(record.actor);
  const isBot = record.actor_is_bot === true || (actor?.endsWith('[bot]') ?? false);
  const dot = action?.indexOf('.') ?? -1;
  return buildEvent({
    adapter: 'github',
    record,
    source,
    id: idText(record._document_id),
    time,
    logsource: GITHUB_LOGSOURCE,
    fields: {
      activity_name: action,
      // The audit log records what was done; it has no failed-action entries to tell apart.
      status: 'success',
      'actor.user.uid': idText(record.actor_id) ?? actor,
      'actor.user.name': actor,
      'actor.user.type': actor === null ? null : isBot ? 'bot' : 'user',
      ...endpointFields(record.actor_ip),
      'src_endpoint.location.country': text(objectAt(record, 'actor_location')?.country_code),
      'http_request.user_agent': text(record.user_agent),
      'cloud.provider': 'github',
      'cloud.account.uid': text(record.org) ?? text(record.business),
      'api.operation': action,
      'api.service.name': action !== null && dot > 0 ? action.slice(0, dot) : action,
      'api.request.uid': text(record.request_id),
      ...resourceFields(record),
      'credential.uid': idText(record.token_id) ?? text(record.hashed_token),
    } satisfies FieldValues,
  });
}
