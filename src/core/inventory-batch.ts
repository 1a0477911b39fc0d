import type {
  Credential,
  CredentialLocation,
  CredentialType,
  Finding,
  Grant,
  Identity,
  IdentityKind,
  Person,
  PersonStatus,
  Resource,
} from './types.js';

/** Points at an identity by its natural key, before it has a stored id. */
export interface IdentityRef {
  provider: string;
  externalId: string;
}

/** An identity as an importer or the API describes it. */
export interface IdentityInput {
  provider: string;
  externalId: string;
  name: string;
  kind: IdentityKind;
  /** True when the importer could only guess the kind (weak evidence): an identity already stored keeps its kind. */
  kindIsGuess?: boolean;
  environment?: string | null;
  owner?: string | null;
  sponsor?: string | null;
  description?: string | null;
  tags?: string[];
  attributes?: Record<string, unknown>;
  /** When the identity was created at the provider, if the export says. */
  createdAt?: string | null;
  lastSeenAt?: string | null;
}

/** Where a credential was seen, as an importer reports it. */
export type LocationInput = Pick<CredentialLocation, 'kind' | 'path' | 'line' | 'key'>;

/** A credential as an importer describes it: already fingerprinted, never the value. */
export interface CredentialInput {
  identity: IdentityRef;
  type: CredentialType;
  provider: string;
  fingerprint: string;
  fingerprintSource: 'value' | 'reference';
  preview: string;
  externalId?: string | null;
  name?: string | null;
  scopes?: string[];
  status?: 'active' | 'inactive';
  createdAt?: string | null;
  expiresAt?: string | null;
  lastUsedAt?: string | null;
  lastRotatedAt?: string | null;
  attributes?: Record<string, unknown>;
  locations?: LocationInput[];
}

/** A grant as an importer describes it. */
export interface GrantInput {
  identity: IdentityRef;
  key: string;
  effect?: 'allow' | 'deny';
  actions: string[];
  resources: string[];
  source: string;
  admin?: boolean;
  attributes?: Record<string, unknown>;
}

/** A resource as an importer describes it; unique by provider + name. */
export interface ResourceInput {
  provider: string;
  type: string;
  name: string;
  environment?: string | null;
  attributes?: Record<string, unknown>;
}

/** A directory entry; unique by email (case-insensitive). */
export interface PersonInput {
  email: string;
  name?: string | null;
  status: PersonStatus;
  department?: string | null;
  manager?: string | null;
  leftAt?: string | null;
}

/** Everything one import (or one API write) adds or updates, applied atomically. */
export interface InventoryBatch {
  identities: IdentityInput[];
  credentials: CredentialInput[];
  grants: GrantInput[];
  resources: ResourceInput[];
  people: PersonInput[];
}

/** An empty batch to fill. */
export function emptyBatch(): InventoryBatch {
  return { identities: [], credentials: [], grants: [], resources: [], people: [] };
}

/** Who applies a batch and why; recorded in the event log. */
export interface BatchContext {
  time: string;
  actor: string;
  /** Free-form facts about the source (importer kind, file name, file sha256, record counts). */
  source: Record<string, unknown>;
}

/** How many records a batch created, changed, or left as they were. */
export interface ChangeCounts {
  created: number;
  updated: number;
  unchanged: number;
}

/** The outcome of applying a batch. */
export interface BatchResult {
  identities: ChangeCounts;
  credentials: ChangeCounts;
  grants: ChangeCounts;
  resources: ChangeCounts;
  people: ChangeCounts;
  /** Sequence number of the summary event appended for this batch. */
  eventSeq: number;
}

/** Everything the posture rules and the graph read, loaded at once. */
export interface InventorySnapshot {
  identities: Identity[];
  credentials: Credential[];
  grants: Grant[];
  resources: Resource[];
  people: Person[];
}

/** Findings of one posture run, with counts of what changed since the last run. */
export interface FindingsRunResult {
  open: number;
  created: number;
  resolved: number;
  findings?: Finding[];
}
