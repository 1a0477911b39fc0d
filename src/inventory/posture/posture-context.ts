import { DAY_MS } from '../../core/time.js';
import type { InventorySnapshot } from '../../core/inventory-batch.js';
import type { Credential, Grant, Identity, Person } from '../../core/types.js';
import type { PostureConfig } from './posture-types.js';

/** The snapshot indexed once (by identity id, fingerprint, owner) so every rule runs in linear time. */
export interface PostureContext {
  snapshot: InventorySnapshot;
  config: PostureConfig;
  now: Date;
  nowMs: number;
  nowIso: string;
  identityById: ReadonlyMap<string, Identity>;
  /** Every identity's credentials in snapshot order (an empty array when it has none). */
  credentialsOf(identityId: string): readonly Credential[];
  /** Every identity's grants in snapshot order (an empty array when it has none). */
  grantsOf(identityId: string): readonly Grant[];
  /** Fingerprints held by two or more credentials of known identities, with those credentials. */
  sharedFingerprints: ReadonlyMap<string, Credential[]>;
  /** Directory entries by lower-cased email. */
  peopleByEmail: ReadonlyMap<string, Person>;
  /** Directory entries by normalised name (lower case, single spaces); names are not unique. */
  peopleByName: ReadonlyMap<string, Person[]>;
  /** Active credentials of known identities with their parsed expiry (computed once, shared by the NHI7 rules). */
  activeCredentials(): readonly ActiveCredential[];
}

/** An active credential, its identity, and its expiry in epoch milliseconds (null when it never expires). */
export interface ActiveCredential {
  credential: Credential;
  identity: Identity;
  expiresMs: number | null;
}

const EMPTY: readonly never[] = Object.freeze([]);

/** Groups items by a key, keeping snapshot order inside each group. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Indexes a snapshot for the posture rules; one pass over each table. */
export function buildPostureContext(
  snapshot: InventorySnapshot,
  config: PostureConfig,
  now: Date,
): PostureContext {
  const identityById = new Map<string, Identity>();
  for (const i of snapshot.identities) identityById.set(i.id, i);
  const credentialsByIdentity = groupBy(snapshot.credentials, (c) => c.identityId);
  const grantsByIdentity = groupBy(snapshot.grants, (g) => g.identityId);

  // Most fingerprints are unique: remember the first holder and only allocate a list on a repeat.
  const first = new Map<string, Credential>();
  const sharedFingerprints = new Map<string, Credential[]>();
  for (const c of snapshot.credentials) {
    if (!identityById.has(c.identityId)) continue;
    const seen = first.get(c.fingerprint);
    if (seen === undefined) {
      first.set(c.fingerprint, c);
      continue;
    }
    const list = sharedFingerprints.get(c.fingerprint);
    if (list) list.push(c);
    else sharedFingerprints.set(c.fingerprint, [seen, c]);
  }

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

  let active: ActiveCredential[] | null = null;
  const activeCredentials = (): readonly ActiveCredential[] => {
    if (active) return active;
    active = [];
    for (const credential of snapshot.credentials) {
      if (credential.status !== 'active') continue;
      const identity = identityById.get(credential.identityId);
      if (identity) active.push({ credential, identity, expiresMs: timeMs(credential.expiresAt) });
    }
    return active;
  };

  return {
    snapshot,
    config,
    now,
    nowMs: now.getTime(),
    nowIso: now.toISOString(),
    identityById,
    credentialsOf: (id) => credentialsByIdentity.get(id) ?? EMPTY,
    grantsOf: (id) => grantsByIdentity.get(id) ?? EMPTY,
    sharedFingerprints,
    peopleByEmail,
    peopleByName,
    activeCredentials,
  };
}

/** Lower case with runs of whitespace collapsed, for case-insensitive name comparison. */
export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

const PRODUCTION_TOKENS = new Set(['prod', 'production', 'prd']);

/** True when an environment name looks like production: a token `prod`, `production` or `prd` (`prod-eu`, `us-prd`). */
export function isProductionEnvironment(environment: string | null | undefined): boolean {
  if (!environment) return false;
  for (const token of environment.toLowerCase().split(/[^a-z0-9]+/)) {
    if (PRODUCTION_TOKENS.has(token)) return true;
  }
  return false;
}

/** Milliseconds since the epoch of an ISO timestamp, or null when absent or unparseable. */
export function timeMs(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** Whole days from `fromMs` to `toMs` (negative when `toMs` is earlier). */
export function wholeDays(fromMs: number, toMs: number): number {
  return Math.floor((toMs - fromMs) / DAY_MS);
}

/** The first 12 hex characters of a fingerprint: enough to correlate, never the whole keyed hash. */
export function fingerprintPrefix(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

/** How a credential is named in messages: its name (or type) and redacted preview, never the secret. */
export function describeCredential(c: Credential): string {
  return `${c.name ?? c.type} (${c.preview})`;
}
