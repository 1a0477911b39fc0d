/**
 * Domain types shared by the store and the capabilities. Timestamps are ISO-8601 UTC strings.
 * No type here ever holds a secret value: credentials carry a keyed fingerprint and a redacted preview.
 */

/** What sort of machine identity this is. */
export const IDENTITY_KINDS = [
  'ai-agent',
  'service-account',
  'ci-pipeline',
  'bot',
  'mcp-server',
  'workload',
  'app',
  'user-key',
  'other',
] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/** A machine (non-human) identity: an agent, service account, CI pipeline, bot, MCP server, workload. */
export interface Identity {
  id: string;
  name: string;
  kind: IdentityKind;
  /** Where it lives: `aws`, `kubernetes`, `github`, `mcp`, `dotenv`, `keyward`, … */
  provider: string;
  /** Stable key inside the provider (an ARN, `namespace/name`, an installation id); unique with provider. */
  externalId: string;
  environment: string | null;
  /** The accountable person (email or name), resolved against the directory when one is imported. */
  owner: string | null;
  /** The business sponsor who asked for the identity. */
  sponsor: string | null;
  description: string | null;
  tags: string[];
  /** Provider-specific facts worth keeping (account id, namespace, app slug, …); never secret values. */
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  lastSeenAt: string | null;
  /** 0–100 from the last posture run (see docs/posture.md); null before the first run. */
  riskScore: number | null;
}

/** Credential types. */
export const CREDENTIAL_TYPES = [
  'api-key',
  'access-key',
  'oauth-token',
  'oauth-client-secret',
  'pat',
  'private-key',
  'password',
  'basic-auth',
  'certificate',
  'jwt',
  'service-account-token',
  'deploy-key',
  'webhook-secret',
  'connection-string',
  'other',
] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** Where a credential was seen. */
export interface CredentialLocation {
  /** `file` (path + line), `env` (variable name), `config` (file + key path), `system` (a provider-side store). */
  kind: 'file' | 'env' | 'config' | 'system';
  /** File path or system name. */
  path: string;
  line: number | null;
  /** Env var name, config key path (`mcpServers.github.env.GITHUB_TOKEN`), or header name. */
  key: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** A credential held by an identity, known by its fingerprint, never by its value. */
export interface Credential {
  id: string;
  identityId: string;
  type: CredentialType;
  provider: string;
  /** HMAC-SHA-256 (hex) under the installation key of the secret value, or of a stable reference when the value is unknown. */
  fingerprint: string;
  /** `value` when the secret itself was fingerprinted; `reference` when only an id was (an AWS access key id, a token id). */
  fingerprintSource: 'value' | 'reference';
  /** Redacted preview: at most the first 4 and last 4 characters (`ghp_…a1B2`). */
  preview: string;
  /** Provider key id when there is one (AWS access key id, GitHub token id); never a secret. */
  externalId: string | null;
  name: string | null;
  scopes: string[];
  status: 'active' | 'inactive';
  createdAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastRotatedAt: string | null;
  attributes: Record<string, unknown>;
  locations: CredentialLocation[];
  /** When Keyward first recorded it. */
  recordedAt: string;
  updatedAt: string;
}

/** What an identity may do: actions on resources, and where that permission came from. */
export interface Grant {
  id: string;
  identityId: string;
  effect: 'allow' | 'deny';
  /** Action patterns (`s3:GetObject`, `*`, `get`, `contents:write`). */
  actions: string[];
  /** Resource patterns (`arn:aws:s3:::bucket/*`, `*`, `k8s:prod/secrets/*`, `github:acme/api`). */
  resources: string[];
  /** Where the grant came from: a policy ARN, a role binding, an app installation. */
  source: string;
  /** Stable key of the grant within its identity (re-imports update it). */
  key: string;
  /** True when the source is a known admin/full-access policy or role. */
  admin: boolean;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** A concrete thing identities can reach: a bucket, a namespace, a repository, an account. */
export interface Resource {
  id: string;
  provider: string;
  /** `aws:s3-bucket`, `k8s:namespace`, `github:repository`, … */
  type: string;
  /** The identifier grants match against (ARN, `k8s:prod`, `github:acme/api`). */
  name: string;
  environment: string | null;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** Employment status of a person in the HR/IdP directory. */
export type PersonStatus = 'active' | 'suspended' | 'left';

/** A person from an HR or IdP directory export; owners of identities resolve against these. */
export interface Person {
  id: string;
  email: string;
  name: string | null;
  status: PersonStatus;
  department: string | null;
  manager: string | null;
  leftAt: string | null;
  updatedAt: string;
}

/** OWASP Non-Human Identities Top 10 (2025) ids. */
export const OWASP_NHI_IDS = [
  'NHI1',
  'NHI2',
  'NHI3',
  'NHI4',
  'NHI5',
  'NHI6',
  'NHI7',
  'NHI8',
  'NHI9',
  'NHI10',
] as const;
export type OwaspNhiId = (typeof OWASP_NHI_IDS)[number];

/** The title of each OWASP NHI Top 10 (2025) risk. */
export const OWASP_NHI_TITLES: Readonly<Record<OwaspNhiId, string>> = Object.freeze({
  NHI1: 'Improper Offboarding',
  NHI2: 'Secret Leakage',
  NHI3: 'Vulnerable Third-Party NHI',
  NHI4: 'Insecure Authentication',
  NHI5: 'Overprivileged NHI',
  NHI6: 'Insecure Cloud Deployment Configurations',
  NHI7: 'Long-Lived Secrets',
  NHI8: 'Environment Isolation',
  NHI9: 'NHI Reuse',
  NHI10: 'Human Use of NHI',
});

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Numeric rank of a severity, for comparisons and `--fail-on`. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** A posture finding: something wrong with an identity or credential, with evidence and a fix. */
export interface Finding {
  /** Deterministic: the same problem on the same subject keeps its id across runs. */
  id: string;
  ruleId: string;
  owasp: OwaspNhiId;
  severity: Severity;
  title: string;
  message: string;
  remediation: string;
  identityId: string;
  credentialId: string | null;
  evidence: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** Where a finding stands: `open` (to fix), `accepted` (a risk someone accepted), `resolved` (marked fixed). */
export const FINDING_STATUSES = ['open', 'accepted', 'resolved'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/**
 * A finding as stored: the posture finding and who last changed its status, why and when. A run's new
 * findings are open with null reason, actor and time; an accepted finding stays accepted across runs, and a
 * resolved one that a run still reports is reopened (docs/posture.md).
 */
export interface StoredFinding extends Finding {
  status: FindingStatus;
  statusReason: string | null;
  statusBy: string | null;
  statusAt: string | null;
}

/** A record in the append-only, hash-chained event log. */
export interface EventRecord {
  /** Position in the log, starting at 1, without gaps. */
  seq: number;
  id: string;
  /** When it happened (ISO-8601). */
  time: string;
  /** Dotted type: `inventory.import.completed`, `identity.created`, `credential.updated`, … */
  type: string;
  /** Who or what caused it: `cli`, `api:admin`, `importer:aws`, an identity id. */
  actor: string;
  /** The identity it concerns, when it concerns one. */
  subject: string | null;
  data: Record<string, unknown>;
  /** Hash of the record before it (64 zeros for the first). */
  prevHash: string;
  /** SHA-256 over the canonical form of this record including prevHash. */
  hash: string;
}

/** An event before it is appended: the log assigns seq, id, hashes. */
export interface NewEvent {
  time: string;
  type: string;
  actor: string;
  subject: string | null;
  data: Record<string, unknown>;
}
