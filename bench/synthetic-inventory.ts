/**
 * A synthetic inventory for benchmarks: any number of identities with a realistic mix of kinds, credentials,
 * grants, resources and people, and a few percent of every problem the posture rules look for. Deterministic:
 * every record is derived from the seed and its index, so any chunk can be regenerated on its own (the
 * re-import measurement relies on that) and two runs import identical data.
 */
import type { Fingerprinter } from '../src/core/fingerprint.js';
import type {
  CredentialInput,
  GrantInput,
  IdentityInput,
  InventoryBatch,
  LocationInput,
  PersonInput,
  ResourceInput,
} from '../src/core/inventory-batch.js';
import { emptyBatch } from '../src/core/inventory-batch.js';
import { DAY_MS } from '../src/core/time.js';
import type { CredentialType, IdentityKind } from '../src/core/types.js';
import { createPrng, type Prng } from '../src/inventory/demo/demo-random.js';

/** What to generate. */
export interface SyntheticOptions {
  identities: number;
  credentialsPerIdentity: number;
  /** Identities per chunk (one chunk = one applyInventoryBatch call). */
  chunkSize: number;
  seed: string;
  now: Date;
  fingerprinter: Fingerprinter;
}

/** Rates of the planted problems, as fractions. */
export const PROBLEM_RATES = {
  ownerMissing: 0.02,
  ownerUnknown: 0.015,
  unusedIdentity: 0.04,
  sharedSecret: 0.02,
  plaintextLocation: 0.05,
  passwordOrBasicAuth: 0.03,
  classicPat: 0.03,
  adminOrWildcardGrant: 0.03,
  ciStaticCloudKey: 0.25,
  noExpiryOld: 0.05,
  expiredActive: 0.01,
  expiringSoon: 0.02,
  longLifetime: 0.01,
  peopleLeft: 0.03,
  peopleSuspended: 0.01,
} as const;

const ENVIRONMENTS = ['prod', 'prod', 'staging', 'staging', 'dev', 'dev', 'prod', 'dev', 'staging', 'prod'];

const KIND_WEIGHTS: Array<[IdentityKind, number]> = [
  ['service-account', 35],
  ['workload', 20],
  ['ci-pipeline', 10],
  ['ai-agent', 10],
  ['mcp-server', 8],
  ['app', 7],
  ['bot', 5],
  ['user-key', 3],
  ['other', 2],
];
const KIND_TOTAL = KIND_WEIGHTS.reduce((n, [, w]) => n + w, 0);

/** Credential types a kind usually holds (a secret of the first type is the most common). */
const TYPES_BY_KIND: Record<IdentityKind, CredentialType[]> = {
  'service-account': ['access-key', 'service-account-token', 'access-key', 'certificate'],
  workload: ['service-account-token', 'certificate', 'connection-string', 'api-key'],
  'ci-pipeline': ['oauth-token', 'jwt', 'deploy-key', 'api-key'],
  'ai-agent': ['api-key', 'api-key', 'oauth-token', 'pat'],
  'mcp-server': ['pat', 'api-key', 'oauth-token', 'connection-string'],
  app: ['oauth-client-secret', 'private-key', 'webhook-secret', 'certificate'],
  bot: ['oauth-token', 'private-key', 'webhook-secret'],
  'user-key': ['pat', 'api-key'],
  other: ['api-key', 'private-key', 'other'],
};

const PROVIDER_BY_KIND: Record<IdentityKind, string> = {
  'service-account': 'aws',
  workload: 'kubernetes',
  'ci-pipeline': 'github',
  'ai-agent': 'keyward',
  'mcp-server': 'mcp',
  app: 'github',
  bot: 'slack',
  'user-key': 'github',
  other: 'dotenv',
};

/** Counts of what the options produce. */
export interface SyntheticSizes {
  identities: number;
  credentials: number;
  grants: number;
  resources: number;
  people: number;
  chunks: number;
}

const GRANTS_PER_IDENTITY = 2;

/** The sizes the options produce (before the store de-duplicates anything). */
export function syntheticSizes(
  o: Pick<SyntheticOptions, 'identities' | 'credentialsPerIdentity' | 'chunkSize'>,
): SyntheticSizes {
  return {
    identities: o.identities,
    credentials: o.identities * o.credentialsPerIdentity,
    grants: o.identities * GRANTS_PER_IDENTITY,
    resources: resourceCount(o.identities),
    people: peopleCount(o.identities),
    chunks: Math.ceil(o.identities / o.chunkSize),
  };
}

const peopleCount = (identities: number): number => Math.max(20, Math.ceil(identities / 50));
const resourceCount = (identities: number): number => Math.max(30, Math.ceil(identities / 20));
const personEmail = (i: number): string => `person-${i}@bench.example`;
const resourceName = (i: number): string => {
  switch (i % 3) {
    case 0:
      return `arn:aws:s3:::bench-bucket-${i}`;
    case 1:
      return `k8s:${ENVIRONMENTS[i % ENVIRONMENTS.length]}/ns-${i}`;
    default:
      return `github:bench-org/repo-${i}`;
  }
};

/** The directory and the resources: the batch applied before the identity chunks. */
export function syntheticDirectoryBatch(o: SyntheticOptions): InventoryBatch {
  const r = createPrng(`${o.seed}:directory`);
  const batch = emptyBatch();
  const iso = isoFrom(o.now);
  const people = peopleCount(o.identities);
  for (let i = 0; i < people; i++) {
    const x = r.next();
    const status: PersonInput['status'] =
      x < PROBLEM_RATES.peopleLeft
        ? 'left'
        : x < PROBLEM_RATES.peopleLeft + PROBLEM_RATES.peopleSuspended
          ? 'suspended'
          : 'active';
    batch.people.push({
      email: personEmail(i),
      name: `Person ${i}`,
      status,
      department: `dept-${i % 40}`,
      manager: i === 0 ? null : personEmail(Math.floor(i / 8)),
      leftAt: status === 'active' ? null : iso(-r.int(5, 400)),
    });
  }
  const resources = resourceCount(o.identities);
  for (let i = 0; i < resources; i++) {
    const name = resourceName(i);
    const resource: ResourceInput = {
      provider: name.startsWith('arn:') ? 'aws' : name.startsWith('k8s:') ? 'kubernetes' : 'github',
      type: name.startsWith('arn:')
        ? 'aws:s3-bucket'
        : name.startsWith('k8s:')
          ? 'k8s:namespace'
          : 'github:repository',
      name,
      environment: ENVIRONMENTS[i % ENVIRONMENTS.length]!,
      attributes: { index: i },
    };
    batch.resources.push(resource);
  }
  return batch;
}

/** ISO time `days` from `now` (negative: in the past). */
function isoFrom(now: Date): (days: number) => string {
  const base = now.getTime();
  return (days) => new Date(base + Math.round(days * DAY_MS)).toISOString();
}

/** The identities of chunk `index` (0-based) with their credentials and grants. */
export function syntheticChunk(o: SyntheticOptions, index: number): InventoryBatch {
  const batch = emptyBatch();
  const from = index * o.chunkSize;
  const to = Math.min(o.identities, from + o.chunkSize);
  const iso = isoFrom(o.now);
  const people = peopleCount(o.identities);
  const resources = resourceCount(o.identities);
  // Shared secrets come from a pool sized so each is held by about three identities.
  const pool = Math.max(
    1,
    Math.floor((o.identities * o.credentialsPerIdentity * PROBLEM_RATES.sharedSecret) / 3),
  );
  for (let n = from; n < to; n++) {
    const r = createPrng(`${o.seed}:identity:${n}`);
    const kind = pickKind(r);
    const provider = PROVIDER_BY_KIND[kind];
    const environment = ENVIRONMENTS[r.int(0, ENVIRONMENTS.length - 1)]!;
    const ref = { provider, externalId: externalIdOf(provider, kind, environment, n) };
    const x = r.next();
    const owner =
      x < PROBLEM_RATES.ownerMissing
        ? null
        : x < PROBLEM_RATES.ownerMissing + PROBLEM_RATES.ownerUnknown
          ? `ghost-${n}@partner.example`
          : personEmail(r.int(0, people - 1));
    const unused = r.chance(PROBLEM_RATES.unusedIdentity);
    const lastSeenDaysAgo = unused ? r.int(95, 600) : r.next() * 20;
    const identity: IdentityInput = {
      ...ref,
      name: `${kind}-${n}`,
      kind,
      environment,
      owner,
      sponsor: null,
      description: `synthetic ${kind} ${n}`,
      tags: [`team:${n % 50}`, environment],
      attributes: { index: n },
      createdAt: iso(-r.int(30, 1500)),
      lastSeenAt: iso(-lastSeenDaysAgo),
    };
    batch.identities.push(identity);
    const usedFingerprints = new Set<string>();
    for (let j = 0; j < o.credentialsPerIdentity; j++) {
      const c = syntheticCredential(o, r, { n, j, kind, ref, unused, lastSeenDaysAgo, pool, iso });
      if (usedFingerprints.has(c.fingerprint)) continue;
      usedFingerprints.add(c.fingerprint);
      batch.credentials.push(c);
    }
    for (let g = 0; g < GRANTS_PER_IDENTITY; g++) batch.grants.push(syntheticGrant(r, ref, n, g, resources));
  }
  return batch;
}

function pickKind(r: Prng): IdentityKind {
  let x = r.next() * KIND_TOTAL;
  for (const [kind, w] of KIND_WEIGHTS) {
    if (x < w) return kind;
    x -= w;
  }
  return 'other';
}

function externalIdOf(provider: string, kind: IdentityKind, env: string, n: number): string {
  switch (provider) {
    case 'aws':
      return `arn:aws:iam::${100000000000 + (n % 50)}:${n % 2 ? 'user' : 'role'}/svc-${n}`;
    case 'kubernetes':
      return `${env}-cluster/ns-${n % 500}/${kind}-${n}`;
    case 'github':
      return `bench-org/repo-${n % 2000}:${kind}-${n}`;
    case 'mcp':
      return `host-${n % 3000}:~/.cursor/mcp.json#server-${n}`;
    default:
      return `${kind}/${env}/${n}`;
  }
}

interface CredentialContext {
  n: number;
  j: number;
  kind: IdentityKind;
  ref: { provider: string; externalId: string };
  unused: boolean;
  lastSeenDaysAgo: number;
  pool: number;
  iso: (days: number) => string;
}

function syntheticCredential(o: SyntheticOptions, r: Prng, c: CredentialContext): CredentialInput {
  let type: CredentialType = r.pick(TYPES_BY_KIND[c.kind]);
  let provider = c.kind === 'service-account' || type === 'access-key' ? 'aws' : c.ref.provider;
  let value: string;
  const attributes: Record<string, unknown> = {};
  const x = r.next();
  if (c.kind === 'ci-pipeline' && c.j === 0 && r.chance(PROBLEM_RATES.ciStaticCloudKey)) {
    type = 'access-key';
    provider = 'aws';
    value = `AKIA${r.chars(9, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}EXAMPLE`;
  } else if (x < PROBLEM_RATES.sharedSecret) {
    // The same secret on several identities (NHI9), often in different environments (NHI8).
    type = 'api-key';
    provider = 'openai';
    value = `sk-proj-FAKE-shared-${r.int(0, c.pool - 1)}`;
  } else if (x < PROBLEM_RATES.sharedSecret + PROBLEM_RATES.passwordOrBasicAuth) {
    type = r.chance(0.5) ? 'password' : 'basic-auth';
    provider = 'postgres';
    value = `FAKE-pw-${c.n}-${c.j}-${r.chars(16)}`;
  } else if (x < PROBLEM_RATES.sharedSecret + PROBLEM_RATES.passwordOrBasicAuth + PROBLEM_RATES.classicPat) {
    type = 'pat';
    provider = 'github';
    attributes.classic = true;
    value = `ghp_FAKE${r.chars(32)}`;
  } else if (type === 'pat') {
    attributes.classic = false;
    value = `github_pat_FAKE${r.chars(40)}`;
  } else {
    value = `FAKE-${type}-${c.n}-${c.j}-${r.chars(24)}`;
  }
  const { fingerprint, preview } = o.fingerprinter.describe(value);

  // Lifetimes: most expire within a year of creation and were made or rotated recently.
  const y = r.next();
  let createdDaysAgo = r.int(1, 80);
  let expiresInDays: number | null = r.int(20, 200);
  let rotatedDaysAgo: number | null = r.chance(0.5) ? createdDaysAgo : null;
  let cut = PROBLEM_RATES.noExpiryOld;
  if (y < cut) {
    createdDaysAgo = r.int(100, 1200);
    expiresInDays = null;
    rotatedDaysAgo = r.chance(0.3) ? r.int(95, createdDaysAgo) : null;
  } else if (y < (cut += PROBLEM_RATES.expiredActive)) {
    createdDaysAgo = r.int(100, 300);
    expiresInDays = -r.int(1, 60);
  } else if (y < (cut += PROBLEM_RATES.expiringSoon)) {
    createdDaysAgo = r.int(60, 300);
    expiresInDays = r.int(1, 13);
  } else if (y < (cut += PROBLEM_RATES.longLifetime)) {
    createdDaysAgo = r.int(10, 60);
    expiresInDays = r.int(400, 900);
  } else if (y < cut + 0.15) {
    // Static secrets without expiry, but rotated on time.
    expiresInDays = null;
    rotatedDaysAgo = r.int(1, 80);
    createdDaysAgo = Math.max(createdDaysAgo, rotatedDaysAgo);
  }
  const lastUsedDaysAgo = c.unused ? c.lastSeenDaysAgo + r.int(0, 30) : r.next() * 10;

  const locations: LocationInput[] = [];
  if (r.chance(PROBLEM_RATES.plaintextLocation)) {
    const where = r.int(0, 2);
    locations.push(
      where === 0
        ? { kind: 'file', path: `services/svc-${c.n % 700}/.env`, line: r.int(1, 40), key: 'API_KEY' }
        : where === 1
          ? {
              kind: 'config',
              path: '~/.cursor/mcp.json',
              line: null,
              key: `mcpServers.server-${c.n}.env.TOKEN`,
            }
          : { kind: 'env', path: `k8s:${c.ref.externalId}`, line: null, key: 'SECRET_TOKEN' },
    );
  } else {
    locations.push({
      kind: 'system',
      path: `vault:secret/${c.kind}/${c.n}`,
      line: null,
      key: `credential_${c.j}`,
    });
  }

  return {
    identity: c.ref,
    type,
    provider,
    fingerprint,
    fingerprintSource: type === 'access-key' ? 'reference' : 'value',
    preview,
    externalId: type === 'access-key' ? value : null,
    name: `credential ${c.j}`,
    scopes: type === 'pat' ? ['repo'] : [],
    status: 'active',
    createdAt: c.iso(-createdDaysAgo),
    expiresAt: expiresInDays === null ? null : c.iso(expiresInDays),
    lastUsedAt: c.iso(-lastUsedDaysAgo),
    lastRotatedAt: rotatedDaysAgo === null ? null : c.iso(-rotatedDaysAgo),
    attributes,
    locations,
  };
}

function syntheticGrant(
  r: Prng,
  ref: { provider: string; externalId: string },
  n: number,
  g: number,
  resources: number,
): GrantInput {
  if (g === 0 && r.chance(PROBLEM_RATES.adminOrWildcardGrant)) {
    const admin = r.chance(0.5);
    return {
      identity: ref,
      key: `grant-${g}`,
      actions: admin ? ['*'] : ['s3:*'],
      resources: ['*'],
      source: admin ? 'arn:aws:iam::aws:policy/AdministratorAccess' : `inline/wildcard-${n}`,
      admin,
    };
  }
  const resource = resourceName(r.int(0, resources - 1));
  return {
    identity: ref,
    key: `grant-${g}`,
    actions: resource.startsWith('arn:')
      ? ['s3:GetObject', 's3:PutObject']
      : resource.startsWith('k8s:')
        ? ['get', 'list']
        : ['contents:read'],
    resources: [resource],
    source: `policy-${n % 1000}`,
    admin: false,
  };
}
