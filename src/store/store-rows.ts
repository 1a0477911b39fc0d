/** Maps rows (the same column names in both dialects) to domain records and back. */
import type {
  Agent,
  AgentType,
  Approval,
  FederatedIssuer,
  JsonWebKeySet,
  Revocation,
  SigningKey,
  Upstream,
} from '../core/broker-types.js';
import type {
  Credential,
  CredentialLocation,
  EventRecord,
  Finding,
  FindingStatus,
  Grant,
  Identity,
  Person,
  Resource,
  StoredFinding,
} from '../core/types.js';
import { severityRank } from '../core/types.js';
import { canonicalDataText } from '../core/event-hash.js';

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

export function rowToFinding(r: Row): StoredFinding {
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
    status: str(r.status) as FindingStatus,
    statusReason: strOrNull(r.status_reason),
    statusBy: strOrNull(r.status_by),
    statusAt: strOrNull(r.status_at),
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
  'status',
  'status_reason',
  'status_by',
  'status_at',
] as const;
export function findingValues(f: StoredFinding): unknown[] {
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
    f.status,
    f.statusReason,
    f.statusBy,
    f.statusAt,
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
  return [e.seq, e.id, e.time, e.type, e.actor, e.subject, canonicalDataText(e.data), e.prevHash, e.hash];
}

// ---------------------------------------------------------------------------------------------------------
// Broker records

const jsonOrNull = <T>(v: unknown): T | null =>
  v === null || v === undefined ? null : (JSON.parse(str(v)) as T);
const jsonTextOrNull = (v: unknown): string | null =>
  v === null || v === undefined ? null : JSON.stringify(v);

export function rowToAgentType(r: Row): AgentType {
  return {
    id: str(r.id),
    name: str(r.name),
    owner: str(r.owner),
    description: strOrNull(r.description),
    policy: json(r.policy, {}),
    policySource: str(r.policy_source),
    policyVersion: Number(r.policy_version),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

/** A stored agent type row with the text its policy was applied from (migration 3; null before). */
export function rowToStoredAgentType(r: Row): { agentType: AgentType; policyText: string | null } {
  return { agentType: rowToAgentType(r), policyText: rowToPolicyText(r) };
}

/** The `policy_text` column of an agent type row. */
export function rowToPolicyText(r: Row): string | null {
  return strOrNull(r.policy_text);
}

export const AGENT_TYPE_COLUMNS = [
  'id',
  'name',
  'owner',
  'description',
  'policy',
  'policy_source',
  'policy_version',
  'created_at',
  'updated_at',
  'policy_text',
] as const;
export function agentTypeValues(t: AgentType, policyText: string | null): unknown[] {
  return [
    t.id,
    t.name,
    t.owner,
    t.description,
    JSON.stringify(t.policy),
    t.policySource,
    t.policyVersion,
    t.createdAt,
    t.updatedAt,
    policyText,
  ];
}

export function rowToAgent(r: Row): Agent {
  return {
    id: str(r.id),
    clientId: str(r.client_id),
    agentTypeId: str(r.agent_type_id),
    name: str(r.name),
    status: str(r.status) as Agent['status'],
    auth: {
      secretHash: strOrNull(r.secret_hash),
      jwks: jsonOrNull<JsonWebKeySet>(r.jwks),
      federated: json(r.federated, []),
    },
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    lastUsedAt: strOrNull(r.last_used_at),
  };
}

export const AGENT_COLUMNS = [
  'id',
  'client_id',
  'agent_type_id',
  'name',
  'status',
  'secret_hash',
  'jwks',
  'federated',
  'created_at',
  'updated_at',
  'last_used_at',
] as const;
export function agentValues(a: Agent): unknown[] {
  return [
    a.id,
    a.clientId,
    a.agentTypeId,
    a.name,
    a.status,
    a.auth.secretHash,
    jsonTextOrNull(a.auth.jwks),
    JSON.stringify(a.auth.federated),
    a.createdAt,
    a.updatedAt,
    a.lastUsedAt,
  ];
}

export function rowToFederatedIssuer(r: Row): FederatedIssuer {
  return {
    id: str(r.id),
    issuer: str(r.issuer),
    jwksUri: strOrNull(r.jwks_uri),
    jwks: jsonOrNull<JsonWebKeySet>(r.jwks),
    audience: str(r.audience),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

export const FEDERATED_ISSUER_COLUMNS = [
  'id',
  'issuer',
  'jwks_uri',
  'jwks',
  'audience',
  'created_at',
  'updated_at',
] as const;
export function federatedIssuerValues(f: FederatedIssuer): unknown[] {
  return [f.id, f.issuer, f.jwksUri, jsonTextOrNull(f.jwks), f.audience, f.createdAt, f.updatedAt];
}

export function rowToSigningKey(r: Row): SigningKey {
  return {
    kid: str(r.kid),
    alg: str(r.alg) as SigningKey['alg'],
    publicJwk: json(r.public_jwk, {}),
    sealedPrivateKey: str(r.sealed_private_key),
    createdAt: str(r.created_at),
    activatesAt: str(r.activates_at),
    retiresAt: strOrNull(r.retires_at),
    expiresAt: strOrNull(r.expires_at),
  };
}

export const SIGNING_KEY_COLUMNS = [
  'kid',
  'alg',
  'public_jwk',
  'sealed_private_key',
  'created_at',
  'activates_at',
  'retires_at',
  'expires_at',
] as const;
export function signingKeyValues(k: SigningKey): unknown[] {
  return [
    k.kid,
    k.alg,
    JSON.stringify(k.publicJwk),
    k.sealedPrivateKey,
    k.createdAt,
    k.activatesAt,
    k.retiresAt,
    k.expiresAt,
  ];
}

export function rowToRevocation(r: Row): Revocation {
  return {
    seq: Number(r.seq),
    kind: str(r.kind) as Revocation['kind'],
    value: str(r.value),
    issuedBefore: strOrNull(r.issued_before),
    expiresAt: str(r.expires_at),
    reason: strOrNull(r.reason),
    actor: str(r.actor),
    createdAt: str(r.created_at),
  };
}

export const REVOCATION_COLUMNS = [
  'seq',
  'kind',
  'value',
  'issued_before',
  'expires_at',
  'reason',
  'actor',
  'created_at',
] as const;
export function revocationValues(r: Revocation): unknown[] {
  return [r.seq, r.kind, r.value, r.issuedBefore, r.expiresAt, r.reason, r.actor, r.createdAt];
}

export function rowToApproval(r: Row): Approval {
  return {
    id: str(r.id),
    agentId: str(r.agent_id),
    agentTypeId: str(r.agent_type_id),
    scopes: json(r.scopes, []),
    resource: strOrNull(r.resource),
    task: strOrNull(r.task),
    purpose: strOrNull(r.purpose),
    status: str(r.status) as Approval['status'],
    requestedAt: str(r.requested_at),
    expiresAt: str(r.expires_at),
    decidedAt: strOrNull(r.decided_at),
    decidedBy: strOrNull(r.decided_by),
    reason: strOrNull(r.reason),
    tokenJti: strOrNull(r.token_jti),
  };
}

export const APPROVAL_COLUMNS = [
  'id',
  'agent_id',
  'agent_type_id',
  'scopes',
  'resource',
  'task',
  'purpose',
  'status',
  'requested_at',
  'expires_at',
  'decided_at',
  'decided_by',
  'reason',
  'token_jti',
] as const;
export function approvalValues(a: Approval): unknown[] {
  return [
    a.id,
    a.agentId,
    a.agentTypeId,
    JSON.stringify(a.scopes),
    a.resource,
    a.task,
    a.purpose,
    a.status,
    a.requestedAt,
    a.expiresAt,
    a.decidedAt,
    a.decidedBy,
    a.reason,
    a.tokenJti,
  ];
}

export function rowToUpstream(r: Row): Upstream {
  return {
    id: str(r.id),
    name: str(r.name),
    baseUrl: str(r.base_url),
    auth: json(r.auth, { kind: 'bearer' }),
    sealedSecret: str(r.sealed_secret),
    secretFingerprint: str(r.secret_fingerprint),
    secretPreview: str(r.secret_preview),
    routes: json(r.routes, []),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

export const UPSTREAM_COLUMNS = [
  'id',
  'name',
  'base_url',
  'auth',
  'sealed_secret',
  'secret_fingerprint',
  'secret_preview',
  'routes',
  'created_at',
  'updated_at',
] as const;
export function upstreamValues(u: Upstream): unknown[] {
  return [
    u.id,
    u.name,
    u.baseUrl,
    JSON.stringify(u.auth),
    u.sealedSecret,
    u.secretFingerprint,
    u.secretPreview,
    JSON.stringify(u.routes),
    u.createdAt,
    u.updatedAt,
  ];
}
