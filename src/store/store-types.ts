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
  Grant,
  Identity,
  IdentityKind,
  NewEvent,
  OwaspNhiId,
  Person,
  Resource,
  Severity,
} from '../core/types.js';

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

/**
 * The persistence contract. Two adapters implement it over one schema (SQLite and PostgreSQL) and one
 * conformance suite (`runStoreConformance`) holds them to the same behaviour.
 */
export interface Store {
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
   * Replaces the open findings with this run's: a finding whose id was already open keeps its firstSeenAt;
   * ones no longer reported are removed. Sets every identity's risk score from `riskScores` (0 when absent).
   * Returns counts.
   */
  replaceFindings(
    findings: Finding[],
    riskScores: ReadonlyMap<string, number>,
    time: string,
  ): Promise<{ open: number; created: number; resolved: number }>;
  listFindings(filter?: FindingFilter): Promise<Page<Finding>>;

  /** Appends events to the hash-chained log in order; returns them with seq and hashes. */
  appendEvents(events: NewEvent[]): Promise<EventRecord[]>;
  /** Events with seq greater than `afterSeq`, in order, at most `limit`. */
  readEvents(afterSeq: number, limit: number): Promise<EventRecord[]>;

  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
  /** Sets the value only when the key is absent; returns the value now stored. */
  setSettingIfAbsent(key: string, value: string): Promise<string>;

  stats(): Promise<StoreStats>;
}
