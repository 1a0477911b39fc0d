/**
 * The declarative shape of the demo company: people, identities with their credentials and grants, and
 * resources. Times are offsets in days from the demo's anchor (the start of the UTC day of `now`), so the
 * demo is always "current" whenever it is loaded.
 */
import type { CredentialType, IdentityKind, OwaspNhiId, PersonStatus } from '../../core/types.js';
import type { LocationInput } from '../../core/inventory-batch.js';
import type { FakeSecretKind } from './demo-random.js';

/** The named batches, in the order they are applied (people first, so owners resolve). */
export const DEMO_BATCH_NAMES = ['directory', 'aws', 'kubernetes', 'github', 'agents-and-mcp'] as const;
export type DemoBatchName = (typeof DEMO_BATCH_NAMES)[number];

/** A person in the demo company's directory. */
export interface DemoPerson {
  email: string;
  name: string;
  status: PersonStatus;
  department: string;
  manager: string | null;
  /** Days before the anchor the person left or was suspended. */
  leftDaysAgo?: number;
}

/** A credential held by a demo identity; the value is generated from `secret` and never leaves the builder. */
export interface DemoCredential {
  type: CredentialType;
  provider: string;
  /** How to generate the fake value, and its label: the same label gives the same value (planted reuse). */
  secret: { kind: FakeSecretKind; label: string };
  /** `reference` when only a public id is fingerprinted (AWS key id, certificate thumbprint, SSH key fingerprint). */
  fingerprintSource?: 'value' | 'reference';
  /** Put the generated value in `externalId` too (only for public ids such as AWS access key ids). */
  valueIsExternalId?: boolean;
  name: string;
  scopes?: string[];
  status?: 'active' | 'inactive';
  createdDaysAgo: number;
  /** Days from the anchor to expiry: negative when already expired, null/absent when it never expires. */
  expiresInDays?: number | null;
  lastUsedDaysAgo?: number | null;
  rotatedDaysAgo?: number | null;
  attributes?: Record<string, unknown>;
  locations: LocationInput[];
}

/** A grant held by a demo identity. */
export interface DemoGrant {
  key: string;
  actions: string[];
  resources: string[];
  source: string;
  admin?: boolean;
}

/** A machine identity of the demo company, with the findings it is expected to produce. */
export interface DemoIdentity {
  batch: Exclude<DemoBatchName, 'directory'>;
  provider: string;
  externalId: string;
  name: string;
  kind: IdentityKind;
  environment: 'prod' | 'staging' | 'dev';
  owner: string | null;
  sponsor?: string;
  description: string;
  tags: string[];
  attributes?: Record<string, unknown>;
  createdDaysAgo: number;
  lastSeenDaysAgo: number;
  credentials: DemoCredential[];
  grants: DemoGrant[];
  /** The OWASP NHI findings planted on this identity; empty for a healthy one (no findings at all). */
  planted: OwaspNhiId[];
  /** Why, in a few words, for docs/demo-data.md. */
  plantedWhy?: string;
}

/** A resource of the demo company. */
export interface DemoResource {
  batch: Exclude<DemoBatchName, 'directory'>;
  provider: string;
  type: string;
  name: string;
  environment: 'prod' | 'staging' | 'dev' | null;
  attributes?: Record<string, unknown>;
}
