/** Builders for posture tests: small, valid records with quiet defaults that trip no rule on their own. */
import { sha256Hex } from '../../../core/fingerprint.js';
import { DAY_MS } from '../../../core/time.js';
import type { InventorySnapshot } from '../../../core/inventory-batch.js';
import type { Credential, Finding, Grant, Identity, Person, Resource } from '../../../core/types.js';
import { buildPostureContext } from '../posture-context.js';
import type { PostureRule } from '../posture-rule.js';
import { DEFAULT_POSTURE_CONFIG, type PostureConfig } from '../posture-types.js';

/** The fixed "now" of every posture test. */
export const NOW = new Date('2025-06-01T00:00:00.000Z');

/** ISO timestamp `n` days before NOW (negative for the future). */
export function daysAgo(n: number): string {
  return new Date(NOW.getTime() - n * DAY_MS).toISOString();
}

/** A recently active, owned identity with no environment. */
export function identity(over: Partial<Identity> & Pick<Identity, 'id' | 'name'>): Identity {
  return {
    kind: 'service-account',
    provider: 'aws',
    externalId: `ext-${over.id}`,
    environment: null,
    owner: 'alice@acme.test',
    sponsor: null,
    description: null,
    tags: [],
    attributes: {},
    createdAt: daysAgo(30),
    updatedAt: daysAgo(1),
    lastSeenAt: daysAgo(1),
    riskScore: null,
    ...over,
  };
}

/** A fresh, active, recently used API key known by reference, with a fingerprint unique to its id. */
export function credential(over: Partial<Credential> & Pick<Credential, 'id' | 'identityId'>): Credential {
  return {
    type: 'api-key',
    provider: 'acme',
    fingerprint: sha256Hex(`fp:${over.id}`),
    fingerprintSource: 'reference',
    preview: 'abcd…wxyz',
    externalId: null,
    name: null,
    scopes: [],
    status: 'active',
    createdAt: daysAgo(10),
    expiresAt: null,
    lastUsedAt: daysAgo(1),
    lastRotatedAt: null,
    attributes: {},
    locations: [],
    recordedAt: daysAgo(10),
    updatedAt: daysAgo(1),
    ...over,
  };
}

/** A narrow allow grant. */
export function grant(over: Partial<Grant> & Pick<Grant, 'id' | 'identityId'>): Grant {
  return {
    effect: 'allow',
    actions: ['s3:GetObject'],
    resources: ['arn:aws:s3:::reports/*'],
    source: `policy/${over.id}`,
    key: over.id,
    admin: false,
    attributes: {},
    createdAt: daysAgo(10),
    updatedAt: daysAgo(10),
    ...over,
  };
}

/** A resource. */
export function resource(over: Partial<Resource> & Pick<Resource, 'id' | 'name'>): Resource {
  return {
    provider: 'aws',
    type: 'aws:s3-bucket',
    environment: null,
    attributes: {},
    createdAt: daysAgo(10),
    updatedAt: daysAgo(10),
    ...over,
  };
}

/** An active person. */
export function person(over: Partial<Person> & Pick<Person, 'email'>): Person {
  return {
    id: `per_${over.email}`,
    name: null,
    status: 'active',
    department: null,
    manager: null,
    leftAt: null,
    updatedAt: daysAgo(1),
    ...over,
  };
}

/** A snapshot from the given parts (the rest empty). */
export function snapshot(parts: Partial<InventorySnapshot>): InventorySnapshot {
  return { identities: [], credentials: [], grants: [], resources: [], people: [], ...parts };
}

/** Runs one rule over a snapshot at NOW. */
export function runRule(
  rule: PostureRule,
  snap: InventorySnapshot,
  config: Partial<PostureConfig> = {},
): Finding[] {
  return rule.check(buildPostureContext(snap, { ...DEFAULT_POSTURE_CONFIG, ...config }, NOW));
}

/** The fingerprint three identities share in sharedSecretSnapshot(). */
export const SHARED = 'deadbeefcafe'.padEnd(64, '0');

/** Four identities in prod, staging, no environment and staging; the first three hold one secret (SHARED). */
export function sharedSecretSnapshot(): InventorySnapshot {
  return snapshot({
    identities: [
      identity({ id: 'i1', name: 'api-prod', environment: 'prod' }),
      identity({ id: 'i2', name: 'api-staging', environment: 'Staging' }),
      identity({ id: 'i3', name: 'laptop-script', environment: null }),
      identity({ id: 'i4', name: 'worker', environment: 'staging' }),
    ],
    credentials: [
      credential({
        id: 'c1',
        identityId: 'i1',
        fingerprint: SHARED,
        name: 'OPENAI_API_KEY',
        preview: 'sk-p…Zz9A',
      }),
      credential({
        id: 'c2',
        identityId: 'i2',
        fingerprint: SHARED,
        name: 'OPENAI_API_KEY',
        preview: 'sk-p…Zz9A',
      }),
      credential({
        id: 'c3',
        identityId: 'i3',
        fingerprint: SHARED,
        name: 'OPENAI_API_KEY',
        preview: 'sk-p…Zz9A',
      }),
      credential({ id: 'c4', identityId: 'i4' }),
    ],
  });
}
