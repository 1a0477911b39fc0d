/**
 * Keyward's own event log (EventRecord: `GET /api/v1/events` items, one per line, or the log fed to the
 * detection engine in process) to DetectEvents. Mapping in docs/events.md.
 */
import type { EventRecord } from '../../core/types.js';
import type { BrokenRecord, DetectEvent, LogSource } from '../detect-types.js';
import {
  broken,
  buildEvent,
  endpointFields,
  integer,
  isBrokenRecord,
  isRecord,
  kindOf,
  objectAt,
  recordTime,
  text,
  textList,
  type FieldValues,
  type RecordSource,
} from './event-common.js';

/** The services of Keyward's log source, by event type prefix. */
export type KeywardService = 'broker' | 'proxy' | 'inventory';

/** `{product: 'keyward', service}`: `broker.*` → broker, `proxy.*` → proxy, anything else → inventory. */
const KEYWARD_LOGSOURCES: Readonly<Record<KeywardService, LogSource>> = {
  broker: Object.freeze({ product: 'keyward', service: 'broker' }),
  proxy: Object.freeze({ product: 'keyward', service: 'proxy' }),
  inventory: Object.freeze({ product: 'keyward', service: 'inventory' }),
};

/** The log source of a Keyward event type (one shared frozen object per service). */
export function keywardLogSource(type: string): LogSource {
  const service: KeywardService = type.startsWith('broker.')
    ? 'broker'
    : type.startsWith('proxy.')
      ? 'proxy'
      : 'inventory';
  return KEYWARD_LOGSOURCES[service];
}

/** True when a record looks like a Keyward event record (for format detection). */
export function looksLikeKeywardEvent(record: Record<string, unknown>): boolean {
  return (
    typeof record.type === 'string' &&
    typeof record.time === 'string' &&
    typeof record.actor === 'string' &&
    isRecord(record.data) &&
    Object.hasOwn(record, 'subject')
  );
}

/**
 * Whether what the event records went through: `*.denied` events, an approval decided `denied` or expired, a
 * proxied call that did not complete or that the upstream answered with 4xx/5xx are failures.
 */
function statusOf(type: string, data: Record<string, unknown>): 'success' | 'failure' {
  if (type.endsWith('.denied') || type === 'broker.approval.expired') return 'failure';
  if (type === 'broker.approval.decided') return data.status === 'approved' ? 'success' : 'failure';
  if (type === 'proxy.call') {
    const status = integer(data.status);
    return data.outcome === 'completed' && status !== null && status < 400 ? 'success' : 'failure';
  }
  return 'success';
}

/** Who acted, by kind: an agent (token and proxy events), an administrator (`cli`, `api:*`), an importer. */
function actorType(type: string, actor: string): string | null {
  if (type.startsWith('broker.token.') || type.startsWith('proxy.')) return 'agent';
  if (actor === 'cli' || actor.startsWith('api:')) return 'admin';
  if (actor.startsWith('importer:')) return 'importer';
  if (actor === 'broker') return 'system';
  return null;
}

/** The resource: the token's `resource`, the proxied upstream, else the record the event is about. */
function resourceFields(type: string, subject: string | null, data: Record<string, unknown>): FieldValues {
  const upstream = text(data.upstream);
  if (upstream !== null) {
    return {
      'resource.uid': `keyward:upstream:${upstream}`,
      'resource.name': upstream,
      'resource.type': 'upstream',
    };
  }
  const resource = text(data.resource);
  if (resource !== null) return { 'resource.uid': resource, 'resource.type': 'resource' };
  if (subject === null) return {};
  const kind = type.slice(0, type.indexOf('.') > 0 ? type.indexOf('.') : type.length);
  return { 'resource.uid': subject, 'resource.type': kind === 'broker' ? 'agent' : kind };
}

/** The OAuth grant type, shortened for the RFC 8693 URN (`token-exchange`). */
function grantType(value: unknown): string | null {
  const g = text(value);
  return g === null ? null : g.replace(/^urn:ietf:params:oauth:grant-type:/, '');
}

/** The normalized fields of a Keyward event. */
function keywardFields(record: Record<string, unknown>, type: string, actor: string): FieldValues {
  const data = objectAt(record, 'data') ?? {};
  const subject = text(record.subject);
  const status = statusOf(type, data);
  const clientId = text(data.clientId);
  const scopes = textList(data.scopes) ?? textList(data.scope);
  const depth = integer(data.actChainDepth);
  return {
    activity_name: type,
    status,
    'actor.user.uid': clientId ?? text(data.agentId) ?? actor,
    'actor.user.name': actor,
    'actor.user.type': actorType(type, actor),
    ...endpointFields(data.sourceIp),
    'http_request.http_method': text(data.method),
    'http_request.url.path': text(data.path),
    'http_response.code': integer(data.status),
    'cloud.provider': 'keyward',
    'api.operation': type,
    'api.service.name': keywardLogSource(type).service,
    ...resourceFields(type, subject, data),
    'credential.uid': text(data.jti),
    'error.code': status === 'failure' ? (text(data.error) ?? text(data.reason) ?? text(data.outcome)) : null,
    'error.message': status === 'failure' ? text(data.description) : null,
    'keyward.agent_id': text(data.agentId),
    'keyward.agent_type_id': text(data.agentTypeId),
    'keyward.client_id': clientId,
    'keyward.grant_type': grantType(data.grantType),
    'keyward.task': text(data.task),
    'keyward.scopes': scopes,
    'keyward.act_chain_depth': depth ?? (type.startsWith('broker.token.') && status === 'success' ? 0 : null),
    'keyward.upstream': text(data.upstream),
    'keyward.outcome': text(data.outcome),
    'keyward.reason': text(data.reason),
  };
}

/** Normalizes one Keyward event record. */
export function keywardAdapter(record: unknown, source: RecordSource): DetectEvent | BrokenRecord {
  if (!isRecord(record)) return broken(source, `not an object (${kindOf(record)})`);
  const type = text(record.type);
  if (type === null) return broken(source, 'no event type (type)');
  const time = recordTime(record, ['time'], source, 'iso8601');
  if (typeof time !== 'number') return time;
  const actor = text(record.actor) ?? 'unknown';
  return buildEvent({
    adapter: 'keyward',
    record,
    source,
    id: text(record.id),
    time,
    logsource: keywardLogSource(type),
    fields: keywardFields(record, type, actor),
  });
}

/**
 * The DetectEvent of a record of Keyward's own log, for the streaming path (the server feeds its log to the
 * engine): `seq` is the log's seq, the source has no file. Throws when the record is not a valid event
 * (the log never holds one).
 */
export function eventFromKeywardRecord(record: EventRecord): DetectEvent {
  const result = keywardAdapter(record, { file: null, line: null, seq: record.seq });
  if (isBrokenRecord(result)) throw new Error(`event ${String(record.seq)}: ${result.reason}`);
  return result;
}
