import type {
  Agent,
  AgentInput,
  AgentPatch,
  AgentStatus,
  AgentSummary,
  AgentType,
  AgentTypeInput,
  Approval,
  ApprovalDecision,
  ApprovalInput,
  ApprovalStatus,
  FederatedIssuer,
  FederatedIssuerInput,
  Revocation,
  RevocationInput,
  Saved,
  SigningKey,
  SigningKeyInfo,
  Upstream,
  UpstreamInput,
  UpstreamSummary,
} from '../core/broker-types.js';
import type { Alert, Level } from '../detect/detect-types.js';
import type {
  BatchContext,
  BatchResult,
  IdentityInput,
  InventoryBatch,
  InventorySnapshot,
} from '../core/inventory-batch.js';
import type {
  Credential,
  CredentialType,
  EventRecord,
  Finding,
  FindingStatus,
  Grant,
  Identity,
  IdentityKind,
  NewEvent,
  OwaspNhiId,
  Person,
  Resource,
  Severity,
  StoredFinding,
} from '../core/types.js';
import type { FindingStatusChange } from './store-findings.js';
import type { AlertDayCount, CredentialsDueQuery, DueCredential, FindingCount } from './store-dashboard.js';

/** One page of a listing; `total` counts every match, not only this page. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** Paging parameters shared by every listing (limit 1–1000, default 100). */
export interface PageQuery {
  limit?: number;
  offset?: number;
}

export interface IdentityFilter extends PageQuery {
  kind?: IdentityKind;
  provider?: string;
  environment?: string;
  owner?: string;
  tag?: string;
  /** Case-insensitive substring of name or external id. */
  q?: string;
  /** Only identities with a risk score at or above this. */
  minRisk?: number;
  /** `name` (default) or `risk` (highest first). */
  sort?: 'name' | 'risk';
}

export interface CredentialFilter extends PageQuery {
  identityId?: string;
  type?: CredentialType;
  fingerprint?: string;
}

export interface GrantFilter extends PageQuery {
  identityId?: string;
}

export interface ResourceFilter extends PageQuery {
  provider?: string;
  type?: string;
}

export interface PersonFilter extends PageQuery {
  status?: Person['status'];
}

export interface FindingFilter extends PageQuery {
  status?: FindingStatus;
  /** Only findings at or above this severity. */
  minSeverity?: Severity;
  owasp?: OwaspNhiId;
  identityId?: string;
  ruleId?: string;
}

/** Changes an API client may make to an identity; absent fields stay as they are. */
export type IdentityPatch = Partial<
  Pick<
    IdentityInput,
    'name' | 'kind' | 'environment' | 'owner' | 'sponsor' | 'description' | 'tags' | 'attributes'
  >
>;

/** A listing of the event log. */
export interface EventFilter {
  /** Only events with seq greater than this. */
  after?: number;
  /** Only events with seq less than this (paging newest first). */
  before?: number;
  /** Only events about this subject (an identity id, an agent id). */
  subject?: string;
  /** Only events of these types (at most 100). */
  types?: readonly string[];
  /** `asc` (default): oldest first; `desc`: newest first. */
  order?: 'asc' | 'desc';
  limit: number;
}

/** Who makes a single change, for the event log. */
export interface ChangeContext {
  time: string;
  actor: string;
}

/** Row counts per table, for /metrics and the CLI. */
export interface StoreStats {
  identities: number;
  credentials: number;
  grants: number;
  resources: number;
  people: number;
  findings: number;
  events: number;
}

export interface AgentFilter extends PageQuery {
  agentTypeId?: string;
  status?: AgentStatus;
}

export interface ApprovalFilter extends PageQuery {
  status?: ApprovalStatus;
  agentId?: string;
}

/** Changes to a signing key's schedule; absent fields stay as they are. */
export interface SigningKeyPatch {
  retiresAt?: string | null;
  expiresAt?: string | null;
}

/**
 * The broker's half of the persistence contract. Every write that changes broker state appends its event to
 * the hash-chained log in the same transaction: when the event cannot be written, nothing is (fail closed).
 * Event data holds ids, names, fingerprints and previews, never a secret hash or a sealed blob.
 *
 * Only four methods return secret material, because their callers need it and must keep it in the process:
 * `getAgent` and `getAgentByClientId` (the client secret's hash, to verify a client), `listSigningKeys` (the
 * sealed private keys, to sign) and `getUpstream` (the sealed upstream credential, for the proxy). Their
 * output must never be sent over the API as it is: use `toAgentSummary`, `toSigningKeyInfo` and
 * `toUpstreamSummary` from `core/broker-types`. Every other method returns these records without it.
 */
export interface BrokerStore {
  /**
   * Creates or updates an agent type by name. `policyVersion` starts at 1 and grows by one only when the
   * policy changed; nothing is written and no event appended when the input matches what is stored. A new
   * `policyText` (a comment or formatting changed) is a change too, without a new policy version.
   */
  upsertAgentType(input: AgentTypeInput, ctx: ChangeContext): Promise<Saved<'agentType', AgentType>>;
  /** By id (`aty_…`) or by name. */
  getAgentType(idOrName: string): Promise<AgentType | null>;
  /**
   * The text the agent type's current policy was applied from (`AgentTypeInput.policyText`), by id or name;
   * null when it was applied without one (or before migration 3). NotFoundError when there is no such type.
   */
  getAgentTypePolicyText(idOrName: string): Promise<string | null>;
  /** Ordered by name. */
  listAgentTypes(page?: PageQuery): Promise<Page<AgentType>>;

  /**
   * Registers an agent and returns it without the secret hash. NotFoundError when the agent type does not
   * exist; ConflictError when its name is taken within the type or the client id is taken.
   */
  createAgent(input: AgentInput, ctx: ChangeContext): Promise<AgentSummary>;
  /** With `auth.secretHash`: never send the result over the API (see `toAgentSummary`). */
  getAgent(id: string): Promise<Agent | null>;
  /** With `auth.secretHash`, for the token endpoint: never send the result over the API. */
  getAgentByClientId(clientId: string): Promise<Agent | null>;
  /** Ordered by name, then id; without secret hashes. */
  listAgents(filter?: AgentFilter): Promise<Page<AgentSummary>>;
  /**
   * Changes name, status or auth fields. Appends `broker.agent.disabled` / `broker.agent.enabled` when the
   * status changes, else `broker.agent.updated`; a patch that changes nothing writes nothing.
   */
  updateAgent(id: string, patch: AgentPatch, ctx: ChangeContext): Promise<AgentSummary>;
  /** Records that the agent was used at `time` (only ever moves forward); no event; unknown ids are ignored. */
  touchAgentUsed(id: string, time: string): Promise<void>;

  /** Creates or updates a federated issuer by its issuer URL. */
  saveFederatedIssuer(
    input: FederatedIssuerInput,
    ctx: ChangeContext,
  ): Promise<Saved<'federatedIssuer', FederatedIssuer>>;
  getFederatedIssuer(issuer: string): Promise<FederatedIssuer | null>;
  /** Ordered by issuer. */
  listFederatedIssuers(): Promise<FederatedIssuer[]>;

  /** Stores a new signing key; ConflictError when the kid exists. */
  insertSigningKey(key: SigningKey, ctx: ChangeContext): Promise<SigningKeyInfo>;
  /** Every key, newest first (by createdAt, then kid), with the sealed private keys. */
  listSigningKeys(): Promise<SigningKey[]>;
  /** Reschedules a key; `broker.key.retired` when retiresAt is set. NotFoundError when absent. */
  updateSigningKey(kid: string, patch: SigningKeyPatch, ctx: ChangeContext): Promise<SigningKeyInfo>;

  /** Adds a deny-list entry with the next seq (increasing in commit order across processes). */
  addRevocation(input: RevocationInput, ctx: ChangeContext): Promise<Revocation>;
  /** Entries with seq greater than `seq`, in seq order, at most `limit` (1–10,000). */
  listRevocationsSince(seq: number, limit: number): Promise<Revocation[]>;
  /** Drops entries whose expiresAt is at or before `now` (no event; seqs are never reused); returns how many. */
  pruneRevocations(now: string): Promise<number>;

  /** Records a pending approval request. NotFoundError when the agent does not exist. */
  createApproval(input: ApprovalInput, ctx: ChangeContext): Promise<Approval>;
  getApproval(id: string): Promise<Approval | null>;
  /** Newest request first. */
  listApprovals(filter?: ApprovalFilter): Promise<Page<Approval>>;
  /**
   * Approves or denies a pending request. ConflictError when it is not pending or its deadline has passed;
   * NotFoundError when absent.
   */
  decideApproval(id: string, decision: ApprovalDecision): Promise<Approval>;
  /** Marks pending requests whose deadline is at or before `now` as expired, one event each; returns them. */
  expirePendingApprovals(now: string): Promise<Approval[]>;
  /**
   * Records the token issued from an approved request. ConflictError when it is not approved or was used
   * already: an approval yields one token.
   */
  markApprovalUsed(id: string, jti: string, ctx: ChangeContext): Promise<Approval>;
  /**
   * Records a client's poll of a request (RFC 8628 §3.5 pacing, shared by every process): when it comes
   * sooner than the current interval after the previous poll (or the request), the interval grows by
   * `stepSeconds` and `slowDown` is true. Returns the interval the client must keep; null when absent.
   */
  recordApprovalPoll(
    id: string,
    atMs: number,
    pace: { intervalSeconds: number; stepSeconds: number },
  ): Promise<{ slowDown: boolean; intervalSeconds: number } | null>;

  /** Creates or updates an upstream by name. */
  saveUpstream(input: UpstreamInput, ctx: ChangeContext): Promise<Saved<'upstream', UpstreamSummary>>;
  /** With `sealedSecret`, for the proxy: never send the result over the API (see `toUpstreamSummary`). */
  getUpstream(name: string): Promise<Upstream | null>;
  /** Ordered by name; without sealed secrets. */
  listUpstreams(): Promise<UpstreamSummary[]>;

  /**
   * Remembers a jti of a DPoP proof or client assertion: true the first time (per namespace), false for a
   * replay, atomically across processes. An entry expired at `now` no longer counts. Expired entries are
   * pruned at most once a minute per store instance.
   */
  checkAndRecordReplay(namespace: string, jti: string, expiresAt: string, now: string): Promise<boolean>;

  /**
   * Events of the given types at or after `since` with seq greater than `afterSeq`, in seq order, at most
   * `limit` (1–10,000), for usage reports; page by passing the last seq as `afterSeq`.
   */
  readEventsByType(types: string[], since: string, limit: number, afterSeq?: number): Promise<EventRecord[]>;
}

/**
 * The persistence contract. Two adapters implement it over one schema (SQLite and PostgreSQL) and one
 * conformance suite (`runStoreConformance`) holds them to the same behaviour.
 */
/** An alert as stored: what the detection engine raised, with where and when it was stored. */
export interface StoredAlert extends Alert {
  /** `batch` (keyward detect --store) or `stream` (the server's continuous detection). */
  source: 'batch' | 'stream';
  createdAt: string;
  /** When someone acknowledged it (null: not yet), who, and their note. */
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackNote: string | null;
}

/** Filter of alert listings (newest window end first). */
export interface AlertFilter extends PageQuery {
  ruleId?: string;
  level?: Level;
  /** Alerts whose window ended at or after this ISO time. */
  since?: string;
  /** Only acknowledged (true) or only unacknowledged (false) alerts. */
  acknowledged?: boolean;
  /** Alerts stored at or after this ISO time (live updates poll with it). */
  createdSince?: string;
}

/** A webhook delivery of an alert that is due or was claimed. */
export interface AlertDelivery {
  alertId: string;
  target: string;
  /** Attempts made so far, this claim included. */
  attempts: number;
  alert: StoredAlert;
}

/** The detection engine's alerts and their webhook outbox. */
export interface AlertStore {
  /**
   * Stores alerts whose id is new (a replay stores nothing twice) and, for each new one, a pending delivery to
   * every target, in one transaction. Returns the ids stored now.
   */
  saveAlerts(
    alerts: Alert[],
    ctx: { source: 'batch' | 'stream'; time: string; targets: string[] },
  ): Promise<string[]>;
  getAlert(id: string): Promise<StoredAlert | null>;
  listAlerts(filter?: AlertFilter): Promise<Page<StoredAlert>>;
  /**
   * Acknowledges an alert with an optional note (at most 500 characters) and appends `alert.acknowledged` in
   * the same transaction. Idempotent: an acknowledged alert is returned unchanged and nothing is written.
   * NotFoundError when absent.
   */
  acknowledgeAlert(id: string, note: string | null, ctx: ChangeContext): Promise<StoredAlert>;
  /**
   * Claims up to `limit` deliveries to these targets due at `now` (pending, next attempt ≤ now): each is moved
   * `leaseMs` into the future and its attempt counted, so another process does not send it at the same time.
   * Deliveries to targets a process does not know are left to the processes that do.
   */
  claimDeliveries(
    now: string,
    leaseMs: number,
    limit: number,
    targets: readonly string[],
  ): Promise<AlertDelivery[]>;
  /** Records the outcome of an attempt: sent, failed with a retry time, or given up (retryAt null). */
  finishDelivery(
    alertId: string,
    target: string,
    outcome: { ok: true; time: string } | { ok: false; error: string; retryAt: string | null },
  ): Promise<void>;
}

export interface Store extends BrokerStore, AlertStore {
  readonly dialect: 'sqlite' | 'postgres';

  /** Applies pending schema migrations; returns the versions applied now. */
  migrate(): Promise<number[]>;
  /** Round-trips to the database (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Upserts a batch atomically (all or nothing) and appends its events to the log in the same transaction. */
  applyInventoryBatch(batch: InventoryBatch, ctx: BatchContext): Promise<BatchResult>;
  /** Creates one identity; ConflictError when provider + externalId exists. */
  createIdentity(input: IdentityInput, ctx: ChangeContext): Promise<Identity>;
  /** Changes fields of an identity; NotFoundError when absent. */
  updateIdentity(id: string, patch: IdentityPatch, ctx: ChangeContext): Promise<Identity>;
  /** Deletes an identity with its credentials and grants; NotFoundError when absent. */
  deleteIdentity(id: string, ctx: ChangeContext): Promise<void>;

  getIdentity(id: string): Promise<Identity | null>;
  /** Identities whose name is exactly this (names are not unique across providers). */
  findIdentitiesByName(name: string): Promise<Identity[]>;
  listIdentities(filter?: IdentityFilter): Promise<Page<Identity>>;
  getCredential(id: string): Promise<Credential | null>;
  listCredentials(filter?: CredentialFilter): Promise<Page<Credential>>;
  listGrants(filter?: GrantFilter): Promise<Page<Grant>>;
  listResources(filter?: ResourceFilter): Promise<Page<Resource>>;
  listPeople(filter?: PersonFilter): Promise<Page<Person>>;
  /** The whole inventory, for posture rules and graphs. */
  loadSnapshot(): Promise<InventorySnapshot>;

  /**
   * Replaces the findings with this run's: a finding whose id was stored keeps its firstSeenAt and status,
   * except that a resolved one is reopened (`finding.reopened`, actor `posture`, in the same transaction);
   * ones no longer reported are removed whatever their status. Sets every identity's risk score from
   * `riskScores` (0 when absent). Returns counts: `open` the findings left open (not accepted), `created` the
   * new ones, `resolved` the ones removed.
   */
  replaceFindings(
    findings: Finding[],
    riskScores: ReadonlyMap<string, number>,
    time: string,
  ): Promise<{ open: number; created: number; resolved: number }>;
  listFindings(filter?: FindingFilter): Promise<Page<StoredFinding>>;
  /** Finding counts grouped by identity, OWASP category, severity and status (the overview's input). */
  findingCounts(): Promise<FindingCount[]>;
  /** Alert counts per UTC day and level, of alerts whose window ended at or after `sinceMs`, oldest day first. */
  alertCountsByDay(sinceMs: number): Promise<AlertDayCount[]>;
  /**
   * Active credentials that are due: expired, expiring, then rotation-overdue (a credential is only in its
   * most urgent kind), each kind most urgent first and at most `limit` of it.
   */
  listCredentialsDue(q: CredentialsDueQuery): Promise<DueCredential[]>;
  getFinding(id: string): Promise<StoredFinding | null>;
  /**
   * Sets a finding's status with a reason and appends `finding.accepted`, `finding.resolved` or
   * `finding.reopened` (subject the identity) in the same transaction. A finding that already has the status
   * is returned unchanged and nothing is written. NotFoundError when absent; ValidationError for a reason
   * that is blank or longer than 500 characters.
   */
  setFindingStatus(id: string, change: FindingStatusChange, ctx: ChangeContext): Promise<StoredFinding>;

  /** Appends events to the hash-chained log in order; returns them with seq and hashes. */
  appendEvents(events: NewEvent[]): Promise<EventRecord[]>;
  /** Events with seq greater than `afterSeq`, in order, at most `limit`. */
  readEvents(afterSeq: number, limit: number): Promise<EventRecord[]>;
  /**
   * Events matching the filter in seq order (`desc`: newest first), at most `limit` (1–10,000), with the
   * number of events matching the filter's subject and types (ignoring `after`, `before` and `limit`).
   */
  listEvents(filter: EventFilter): Promise<{ items: EventRecord[]; total: number }>;
  /** The events with these ids that are in the log, in seq order (unknown ids are skipped; at most 1,000 ids). */
  getEventsByIds(ids: readonly string[]): Promise<EventRecord[]>;

  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
  /** Sets the value only when the key is absent; returns the value now stored. */
  setSettingIfAbsent(key: string, value: string): Promise<string>;

  stats(): Promise<StoreStats>;
}
