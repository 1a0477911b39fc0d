/** NHI1 Improper Offboarding: identities whose owner is missing, gone or unknown, and identities nobody uses. */
import type { Identity, Person } from '../../core/types.js';
import { CREDENTIAL_FLAG, normaliseName, timeMs, wholeDays, type PostureContext } from './posture-context.js';
import { definePostureRule, type FindingDraft, type PostureRule } from './posture-rule.js';

/** How an identity's owner field resolves against the imported directory. */
export type OwnerResolution =
  | { state: 'missing' }
  | { state: 'no-directory'; owner: string }
  | { state: 'not-found'; owner: string }
  | { state: 'found'; owner: string; person: Person };

const STATUS_PREFERENCE: Record<Person['status'], number> = { active: 0, suspended: 1, left: 2 };

const ownerCache = new WeakMap<PostureContext, OwnerResolution[]>();

/** Visits every identity with its owner resolution; resolutions are computed once per run and shared by the NHI1 rules. */
export function eachOwner(
  ctx: PostureContext,
  visit: (identity: Identity, owner: OwnerResolution) => void,
): void {
  const identities = ctx.snapshot.identities;
  let owners = ownerCache.get(ctx);
  if (!owners) {
    owners = identities.map((identity) => resolveOwner(ctx, identity));
    ownerCache.set(ctx, owners);
  }
  for (let i = 0; i < identities.length; i++) visit(identities[i]!, owners[i]!);
}

/**
 * Resolves an owner (email, `Name <email>`, or a name) against the directory: email case-insensitively,
 * a name case-insensitively; when several people share the name, the most favourable status wins so an
 * ambiguous name never raises a false alarm.
 */
export function resolveOwner(ctx: PostureContext, identity: Identity): OwnerResolution {
  const owner = identity.owner?.trim() ?? '';
  if (owner === '') return { state: 'missing' };
  if (ctx.peopleByEmail.size === 0) return { state: 'no-directory', owner };
  if (owner.includes('@')) {
    const bracketed = /<([^<>\s]+@[^<>\s]+)>/.exec(owner);
    const email = (bracketed?.[1] ?? owner).toLowerCase();
    const person = ctx.peopleByEmail.get(email);
    return person ? { state: 'found', owner, person } : { state: 'not-found', owner };
  }
  const named = ctx.peopleByName.get(normaliseName(owner));
  if (!named || named.length === 0) return { state: 'not-found', owner };
  let best = named[0]!;
  for (const p of named) if (STATUS_PREFERENCE[p.status] < STATUS_PREFERENCE[best.status]) best = p;
  return { state: 'found', owner, person: best };
}

/** NHI1: the identity has no owner at all. */
export const ownerMissingRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi1-owner-missing',
    title: 'Identity has no owner',
    owasp: 'NHI1',
    severity: 'medium',
    tags: ['ownership', 'offboarding'],
    docs: 'Nobody is accountable for this identity, so nobody will rotate, review or retire it. Assign an owner.',
  },
  remediation: 'Assign an accountable owner (a person in the directory) to the identity.',
  check(ctx, report) {
    eachOwner(ctx, (identity, r) => {
      if (r.state !== 'missing') return;
      report({
        identityId: identity.id,
        message: `Identity "${identity.name}" has no owner.`,
        evidence: { identity: identity.name, owner: null, sponsor: identity.sponsor },
      });
    });
  },
});

/** Reports identities whose owner resolves to a person with the given directory status. */
function checkOwnerStatus(
  ctx: PostureContext,
  status: 'left' | 'suspended',
  report: (draft: FindingDraft) => void,
): void {
  eachOwner(ctx, (identity, r) => {
    if (r.state !== 'found' || r.person.status !== status) return;
    const since = r.person.leftAt ? ` on ${r.person.leftAt.slice(0, 10)}` : '';
    report({
      identityId: identity.id,
      message:
        status === 'left'
          ? `Identity "${identity.name}" is owned by ${r.person.email}, who left the organisation${since}.`
          : `Identity "${identity.name}" is owned by ${r.person.email}, whose account is suspended.`,
      evidence: {
        identity: identity.name,
        owner: r.owner,
        personEmail: r.person.email,
        status: r.person.status,
        leftAt: r.person.leftAt,
      },
    });
  });
}

/** NHI1: the owner has left the organisation. */
export const ownerLeftRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi1-owner-left',
    title: 'Owner has left the organisation',
    owasp: 'NHI1',
    severity: 'high',
    tags: ['ownership', 'offboarding', 'directory'],
    docs:
      'The directory marks the owner as left: the identity outlived the person accountable for it, and that ' +
      'person may still know its credentials. Hand it over or retire it.',
  },
  remediation:
    'Hand the identity to an active owner and rotate every credential the former owner could know, or retire it.',
  check: (ctx, report) => checkOwnerStatus(ctx, 'left', report),
});

/** NHI1: the owner's account is suspended. */
export const ownerSuspendedRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi1-owner-suspended',
    title: 'Owner is suspended',
    owasp: 'NHI1',
    severity: 'medium',
    tags: ['ownership', 'offboarding', 'directory'],
    docs:
      'The directory marks the owner as suspended: nobody currently accountable can review or rotate the ' +
      'identity, and a suspension often precedes a departure.',
  },
  remediation:
    'Assign an active owner (at least temporarily) and review whether the identity is still needed.',
  check: (ctx, report) => checkOwnerStatus(ctx, 'suspended', report),
});

/** NHI1: a directory was imported but the owner is not in it. */
export const ownerUnknownRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi1-owner-unknown',
    title: 'Owner not found in the directory',
    owasp: 'NHI1',
    severity: 'medium',
    tags: ['ownership', 'offboarding', 'directory'],
    docs:
      'The owner named on the identity matches no person in the imported directory (by email, or by name): ' +
      'a typo, a renamed team alias, or someone already removed. Only reported once a directory is imported.',
  },
  remediation: 'Correct the owner to the email of a person in the directory, or assign a new owner.',
  check(ctx, report) {
    eachOwner(ctx, (identity, r) => {
      if (r.state !== 'not-found') return;
      report({
        identityId: identity.id,
        message: `Identity "${identity.name}" names owner "${r.owner}", who is not in the directory.`,
        evidence: { identity: identity.name, owner: r.owner, directorySize: ctx.snapshot.people.length },
      });
    });
  },
});

/** NHI1: no activity (identity last seen, any credential last used) for `unusedDays` or more. */
export const identityUnusedRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi1-identity-unused',
    title: 'Identity unused',
    owasp: 'NHI1',
    severity: 'medium',
    tags: ['offboarding', 'stale'],
    docs:
      'Neither the identity nor any of its credentials has been used for `unusedDays` days (or, never used, it ' +
      'was created that long ago). Unused identities keep their access for an attacker to find. Medium; low ' +
      'when the identity holds no active credential.',
  },
  remediation:
    'Confirm with the owner that the identity is no longer needed, then revoke its credentials and delete it.',
  check(ctx, report) {
    const threshold = ctx.config.unusedDays;
    const identities = ctx.snapshot.identities;
    // One pass over the credentials: latest use and number of active credentials per identity.
    const lastUsed = new Float64Array(identities.length).fill(-Infinity);
    const activeCount = new Int32Array(identities.length);
    const { owner, flags, lastUsedAt } = ctx.credentialFacts;
    for (let k = 0; k < owner.length; k++) {
      const i = owner[k]!;
      if (i < 0) continue;
      if (flags[k]! & CREDENTIAL_FLAG.active) activeCount[i]!++;
      // NaN (never used) compares false and leaves the latest use as it is.
      if (lastUsedAt[k]! > lastUsed[i]!) lastUsed[i] = lastUsedAt[k]!;
    }
    for (let i = 0; i < identities.length; i++) {
      const identity = identities[i]!;
      const latest = Math.max(timeMs(identity.lastSeenAt) ?? -Infinity, lastUsed[i]!);
      const last = latest === -Infinity ? null : latest;
      const activeCredentials = activeCount[i]!;
      const severity = activeCredentials === 0 ? 'low' : 'medium';
      if (last !== null) {
        const idleDays = wholeDays(last, ctx.nowMs);
        if (idleDays < threshold) continue;
        const lastActivityAt = new Date(last).toISOString();
        report({
          identityId: identity.id,
          severity,
          message: `Identity "${identity.name}" has not been used for ${idleDays} days (last activity ${lastActivityAt.slice(0, 10)}).`,
          evidence: {
            identity: identity.name,
            lastActivityAt,
            idleDays,
            thresholdDays: threshold,
            activeCredentials,
          },
        });
        continue;
      }
      const createdMs = timeMs(identity.createdAt);
      if (createdMs === null) continue;
      const ageDays = wholeDays(createdMs, ctx.nowMs);
      if (ageDays < threshold) continue;
      report({
        identityId: identity.id,
        severity,
        message: `Identity "${identity.name}" has never been seen in use since it was created ${ageDays} days ago.`,
        evidence: {
          identity: identity.name,
          lastActivityAt: null,
          createdAt: identity.createdAt,
          ageDays,
          thresholdDays: threshold,
          activeCredentials,
        },
      });
    }
  },
});

/** The NHI1 rules, in evaluation order. */
export const NHI1_RULES: readonly PostureRule[] = [
  ownerMissingRule,
  ownerLeftRule,
  ownerSuspendedRule,
  ownerUnknownRule,
  identityUnusedRule,
];
