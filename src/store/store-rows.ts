/** Maps rows (the same column names in both dialects) to domain records and back. */
import type {
  Credential,
  CredentialLocation,
  EventRecord,
  Finding,
  Grant,
  Identity,
  Person,
  Resource,
} from '../core/types.js';
import { severityRank } from '../core/types.js';

export type Row = Record<string, unknown>;

const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
// Most JSON columns hold an empty array or object: skip the parser for those (a snapshot parses ~2M values).
const json = <T>(v: unknown, fallback: T): T => {
  if (v === '[]') return [] as T;
  if (v === '{}') return {} as T;
  return typeof v === 'string' && v !== '' ? (JSON.parse(v) as T) : fallback;
};

export function rowToIdentity(r: Row): Identity {
  return {
    id: str(r.id),
    name: str(r.name),
    kind: str(r.kind) as Identity['kind'],
    provider: str(r.provider),
    externalId: str(r.external_id),
    environment: strOrNull(r.environment),
    owner: strOrNull(r.owner),
    sponsor: strOrNull(r.sponsor),
    description: strOrNull(r.description),
    tags: json(r.tags, []),
    attributes: json(r.attributes, {}),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    lastSeenAt: strOrNull(r.last_seen_at),
    riskScore: r.risk_score === null || r.risk_score === undefined ? null : Number(r.risk_score),
  };
}

/** Column values for an identity row, in the order of IDENTITY_COLUMNS. */
export const IDENTITY_COLUMNS = [
  'id',
  'provider',
  'external_id',
  'name',
  'kind',
  'environment',
  'owner',
  'sponsor',
  'description',
  'tags',
  'attributes',
  'created_at',
  'updated_at',
  'last_seen_at',
  'content_hash',
] as const;
export function identityValues(i: Identity, contentHash: string): unknown[] {
  return [
    i.id,
    i.provider,
    i.externalId,
    i.name,
    i.kind,
    i.environment,
    i.owner,
    i.sponsor,
    i.description,
    JSON.stringify(i.tags),
    JSON.stringify(i.attributes),
    i.createdAt,
    i.updatedAt,
    i.lastSeenAt,
    contentHash,
  ];
}

export function rowToCredential(r: Row, locations: CredentialLocation[]): Credential {
  return {
    id: str(r.id),
    identityId: str(r.identity_id),
    type: str(r.type) as Credential['type'],
    provider: str(r.provider),
    fingerprint: str(r.fingerprint),
    fingerprintSource: str(r.fingerprint_source) as Credential['fingerprintSource'],
    preview: str(r.preview),
    externalId: strOrNull(r.external_id),
    name: strOrNull(r.name),
    scopes: json(r.scopes, []),
    status: str(r.status) as Credential['status'],
    createdAt: strOrNull(r.created_at),
    expiresAt: strOrNull(r.expires_at),
    lastUsedAt: strOrNull(r.last_used_at),
    lastRotatedAt: strOrNull(r.last_rotated_at),
    attributes: json(r.attributes, {}),
    locations,
    recordedAt: str(r.recorded_at),
    updatedAt: str(r.updated_at),
  };
}

export const CREDENTIAL_COLUMNS = [
  'id',
  'identity_id',
  'type',
  'provider',
  'fingerprint',
  'fingerprint_source',
  'preview',
  'external_id',
  'name',
  'scopes',
  'status',
  'created_at',
  'expires_at',
  'last_used_at',
  'last_rotated_at',
  'attributes',
  'recorded_at',
  'updated_at',
  'content_hash',
] as const;
export function credentialValues(c: Credential, contentHash: string): unknown[] {
  return [
    c.id,
    c.identityId,
    c.type,
    c.provider,
    c.fingerprint,
    c.fingerprintSource,
    c.preview,
    c.externalId,
    c.name,
    JSON.stringify(c.scopes),
    c.status,
    c.createdAt,
    c.expiresAt,
    c.lastUsedAt,
    c.lastRotatedAt,
    JSON.stringify(c.attributes),
    c.recordedAt,
    c.updatedAt,
    contentHash,
  ];
}

export function rowToLocation(r: Row): CredentialLocation {
  return {
    kind: str(r.kind) as CredentialLocation['kind'],
    path: str(r.path),
    line: r.line === null || r.line === undefined ? null : Number(r.line),
    key: strOrNull(r.key),
    firstSeenAt: str(r.first_seen_at),
    lastSeenAt: str(r.last_seen_at),
  };
}

export function rowToGrant(r: Row): Grant {
  return {
    id: str(r.id),
    identityId: str(r.identity_id),
    effect: str(r.effect) as Grant['effect'],
    actions: json(r.actions, []),
    resources: json(r.resources, []),
    source: str(r.source),
    key: str(r.grant_key),
    admin: Number(r.admin) === 1,
    attributes: json(r.attributes, {}),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

export const GRANT_COLUMNS = [
  'id',
  'identity_id',
  'grant_key',
  'effect',
  'actions',
  'resources',
  'source',
  'admin',
  'attributes',
  'created_at',
  'updated_at',
  'content_hash',
] as const;
export function grantValues(g: Grant, contentHash: string): unknown[] {
  return [
    g.id,
    g.identityId,
    g.key,
    g.effect,
    JSON.stringify(g.actions),
    JSON.stringify(g.resources),
    g.source,
    g.admin ? 1 : 0,
    JSON.stringify(g.attributes),
    g.createdAt,
    g.updatedAt,
    contentHash,
  ];
}

export function rowToResource(r: Row): Resource {
  return {
    id: str(r.id),
    provider: str(r.provider),
    type: str(r.type),
    name: str(r.name),
    environment: strOrNull(r.environment),
    attributes: json(r.attributes, {}),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

export const RESOURCE_COLUMNS = [
  'id',
  'provider',
  'type',
  'name',
  'environment',
  'attributes',
  'created_at',
  'updated_at',
  'content_hash',
] as const;
export function resourceValues(r: Resource, contentHash: string): unknown[] {
  return [
    r.id,
    r.provider,
    r.type,
    r.name,
    r.environment,
    JSON.stringify(r.attributes),
    r.createdAt,
    r.updatedAt,
    contentHash,
  ];
}

export function rowToPerson(r: Row): Person {
  return {
    id: str(r.id),
    email: str(r.email),
    name: strOrNull(r.name),
    status: str(r.status) as Person['status'],
    department: strOrNull(r.department),
    manager: strOrNull(r.manager),
    leftAt: strOrNull(r.left_at),
    updatedAt: str(r.updated_at),
  };
}

export const PERSON_COLUMNS = [
  'id',
  'email',
  'name',
  'status',
  'department',
  'manager',
  'left_at',
  'updated_at',
  'content_hash',
] as const;
export function personValues(p: Person, contentHash: string): unknown[] {
  return [p.id, p.email, p.name, p.status, p.department, p.manager, p.leftAt, p.updatedAt, contentHash];
}

export function rowToFinding(r: Row): Finding {
  return {
    id: str(r.id),
    ruleId: str(r.rule_id),
    owasp: str(r.owasp) as Finding['owasp'],
    severity: str(r.severity) as Finding['severity'],
    title: str(r.title),
    message: str(r.message),
    remediation: str(r.remediation),
    identityId: str(r.identity_id),
    credentialId: strOrNull(r.credential_id),
    evidence: json(r.evidence, {}),
    firstSeenAt: str(r.first_seen_at),
    lastSeenAt: str(r.last_seen_at),
  };
}

export const FINDING_COLUMNS = [
  'id',
  'rule_id',
  'owasp',
  'severity',
  'severity_rank',
  'title',
  'message',
  'remediation',
  'identity_id',
  'credential_id',
  'evidence',
  'first_seen_at',
  'last_seen_at',
] as const;
export function findingValues(f: Finding): unknown[] {
  return [
    f.id,
    f.ruleId,
    f.owasp,
    f.severity,
    severityRank(f.severity),
    f.title,
    f.message,
    f.remediation,
    f.identityId,
    f.credentialId,
    JSON.stringify(f.evidence),
    f.firstSeenAt,
    f.lastSeenAt,
  ];
}

/** Event data as stored; text that is not a JSON object (only tampering produces it) is kept, wrapped, so
 * that verification reports the record as changed instead of failing to read the log. */
function eventData(v: unknown): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(str(v));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { unreadable: str(v) };
}

export function rowToEvent(r: Row): EventRecord {
  return {
    seq: Number(r.seq),
    id: str(r.id),
    time: str(r.time),
    type: str(r.type),
    actor: str(r.actor),
    subject: strOrNull(r.subject),
    data: eventData(r.data),
    prevHash: str(r.prev_hash),
    hash: str(r.hash),
  };
}

export const EVENT_COLUMNS = [
  'seq',
  'id',
  'time',
  'type',
  'actor',
  'subject',
  'data',
  'prev_hash',
  'hash',
] as const;
export function eventValues(e: EventRecord): unknown[] {
  return [e.seq, e.id, e.time, e.type, e.actor, e.subject, JSON.stringify(e.data), e.prevHash, e.hash];
}
