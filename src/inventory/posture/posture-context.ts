import type { InventorySnapshot } from '../../core/inventory-batch.js';
import type { Credential, CredentialType, Grant, Identity, Person } from '../../core/types.js';
import { CREDENTIAL_TYPES } from '../../core/types.js';
import { repeatedKeys } from './string-groups.js';
import { timeMs } from './posture-time.js';
import { indexIdentities, ownerPositions } from './snapshot-index.js';
import type { PostureConfig } from './posture-types.js';

export { timeMs, wholeDays } from './posture-time.js';

/**
 * The facts about every credential that rules filter on, one typed-array slot per credential position, read in
 * one pass. Rules scan these and touch a credential record only when it is a candidate, so a run over 300k
 * credentials makes one pass over the records instead of one per rule.
 */
export interface CredentialFacts {
  /** Position of the credential's identity in `snapshot.identities`; -1 when the identity is not in the snapshot. */
  owner: Int32Array;
  /** `CREDENTIAL_FLAG` bits. */
  flags: Uint8Array;
  /** `CREDENTIAL_TYPE_CODE` of the credential's type (255 for a type Keyward does not know). */
  type: Uint8Array;
  /** Epoch milliseconds, NaN when absent or unparseable. */
  expiresAt: Float64Array;
  /** Epoch milliseconds, NaN when absent or unparseable. */
  lastUsedAt: Float64Array;
}

/** Bits of `CredentialFacts.flags`. */
export const CREDENTIAL_FLAG = Object.freeze({
  active: 1,
  /** The fingerprint was taken from the secret value itself. */
  valueFingerprint: 2,
  /** Seen in a file, config or environment variable. */
  plaintextLocation: 4,
});

/** Small integer codes of the credential types, for `CredentialFacts.type`. */
export const CREDENTIAL_TYPE_CODE: Readonly<Record<CredentialType, number>> = Object.freeze(
  Object.fromEntries(CREDENTIAL_TYPES.map((t, i) => [t, i])) as Record<CredentialType, number>,
);
const TYPE_CODES: ReadonlyMap<string, number> = new Map(CREDENTIAL_TYPES.map((t, i) => [t, i]));

/**
 * The snapshot indexed once, so that every rule is one linear scan. Records are addressed by their position in
 * the snapshot's arrays; nothing here is quadratic or keyed by more than one map lookup per record.
 */
export interface PostureContext {
  snapshot: InventorySnapshot;
  config: PostureConfig;
  now: Date;
  nowMs: number;
  nowIso: string;
  /** Position of every identity id in `snapshot.identities`. */
  identityIndex: ReadonlyMap<string, number>;
  credentialFacts: CredentialFacts;
  /**
   * Visits, in snapshot order, the credentials of known identities whose facts pass `select` (a test on the
   * typed arrays that never touches the record), with their identity and position.
   */
  selectCredentials(
    select: (facts: CredentialFacts, position: number) => boolean,
    visit: (credential: Credential, identity: Identity, position: number) => void,
  ): void;
  /** For each grant (by position), the position of its identity; -1 when the identity is not in the snapshot. */
  grantOwner: Int32Array;
  /** The grants of the identity at position `i`, in snapshot order. */
  grantsOf(i: number): Grant[];
  /**
   * Credentials of known identities grouped by fingerprint, only fingerprints held by two or more credentials,
   * each group in snapshot order, groups in order of first appearance; computed on first use.
   */
  sharedFingerprints(): readonly (readonly Credential[])[];
  /** Directory entries by lower-cased email. */
  peopleByEmail: ReadonlyMap<string, Person>;
  /** Directory entries by normalised name (lower case, single spaces); names are not unique. */
  peopleByName: ReadonlyMap<string, Person[]>;
}

/** Reads the facts of every credential in one pass. */
function readCredentialFacts(credentials: readonly Credential[], owner: Int32Array): CredentialFacts {
  const n = credentials.length;
  const flags = new Uint8Array(n);
  const type = new Uint8Array(n);
  const expiresAt = new Float64Array(n);
  const lastUsedAt = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const c = credentials[k]!;
    let f = c.status === 'active' ? CREDENTIAL_FLAG.active : 0;
    if (c.fingerprintSource === 'value') f |= CREDENTIAL_FLAG.valueFingerprint;
    for (const l of c.locations) {
      if (l.kind === 'file' || l.kind === 'config' || l.kind === 'env') {
        f |= CREDENTIAL_FLAG.plaintextLocation;
        break;
      }
    }
    flags[k] = f;
    type[k] = TYPE_CODES.get(c.type) ?? 255;
    expiresAt[k] = timeMs(c.expiresAt) ?? Number.NaN;
    lastUsedAt[k] = timeMs(c.lastUsedAt) ?? Number.NaN;
  }
  return { owner, flags, type, expiresAt, lastUsedAt };
}

/** Counting sort of record positions by owner (records with owner -1 left out); stable. */
function groupByOwner(owner: Int32Array, owners: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(owners + 1);
  for (let k = 0; k < owner.length; k++) {
    const o = owner[k]!;
    if (o >= 0) start[o + 1]!++;
  }
  for (let i = 0; i < owners; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, owners);
  const order = new Int32Array(start[owners]!);
  for (let k = 0; k < owner.length; k++) {
    const o = owner[k]!;
    if (o >= 0) order[fill[o]!++] = k;
  }
  return { start, order };
}

/** Indexes a snapshot for the posture rules: a few linear passes, nothing quadratic. */
export function buildPostureContext(
  snapshot: InventorySnapshot,
  config: PostureConfig,
  now: Date,
): PostureContext {
  const { identities, credentials, grants } = snapshot;
  const identityIndex = indexIdentities(identities);
  const credentialFacts = readCredentialFacts(credentials, ownerPositions(credentials, identities));
  const grantOwner = ownerPositions(grants, identities);
  let grantGroups: ReturnType<typeof groupByOwner> | null = null;

  const peopleByEmail = new Map<string, Person>();
  const peopleByName = new Map<string, Person[]>();
  for (const p of snapshot.people) {
    peopleByEmail.set(p.email.trim().toLowerCase(), p);
    if (p.name) {
      const k = normaliseName(p.name);
      const list = peopleByName.get(k);
      if (list) list.push(p);
      else peopleByName.set(k, [p]);
    }
  }

  let shared: Credential[][] | null = null;

  return {
    snapshot,
    config,
    now,
    nowMs: now.getTime(),
    nowIso: now.toISOString(),
    identityIndex,
    credentialFacts,
    selectCredentials(select, visit) {
      const { owner } = credentialFacts;
      for (let k = 0; k < credentials.length; k++) {
        if (owner[k]! >= 0 && select(credentialFacts, k)) visit(credentials[k]!, identities[owner[k]!]!, k);
      }
    },
    grantOwner,
    grantsOf(i) {
      grantGroups ??= groupByOwner(grantOwner, identities.length);
      const out: Grant[] = [];
      for (let k = grantGroups.start[i]!; k < grantGroups.start[i + 1]!; k++) {
        out.push(grants[grantGroups.order[k]!]!);
      }
      return out;
    },
    sharedFingerprints() {
      if (shared) return shared;
      const { owner } = credentialFacts;
      shared = [];
      for (const group of repeatedKeys(credentials.length, (k) => credentials[k]!.fingerprint)) {
        const known = group.filter((k) => owner[k]! >= 0);
        if (known.length > 1) shared.push(known.map((k) => credentials[k]!));
      }
      return shared;
    },
    peopleByEmail,
    peopleByName,
  };
}

/** Lower case with runs of whitespace collapsed, for case-insensitive name comparison. */
export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

const PRODUCTION_TOKENS = new Set(['prod', 'production', 'prd']);
// Inventories have a handful of environment names; remember the answer instead of splitting every time.
const productionCache = new Map<string, boolean>();

/** True when an environment name looks like production: a token `prod`, `production` or `prd` (`prod-eu`, `us-prd`). */
export function isProductionEnvironment(environment: string | null | undefined): boolean {
  if (!environment) return false;
  let production = productionCache.get(environment);
  if (production === undefined) {
    production = environment
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .some((token) => PRODUCTION_TOKENS.has(token));
    if (productionCache.size >= 1024) productionCache.clear();
    productionCache.set(environment, production);
  }
  return production;
}

/** The first 12 hex characters of a fingerprint: enough to correlate, never the whole keyed hash. */
export function fingerprintPrefix(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

/** How a credential is named in messages: its name (or type) and redacted preview, never the secret. */
export function describeCredential(c: Credential): string {
  return `${c.name ?? c.type} (${c.preview})`;
}
