/** NHI7 Long-Lived Secrets: unrotated secrets without expiry, very long lifetimes, expired and expiring ones. */
import { DAY_MS } from '../../core/time.js';
import type { Credential, Identity } from '../../core/types.js';
import {
  CREDENTIAL_FLAG,
  describeCredential,
  fingerprintPrefix,
  timeMs,
  wholeDays,
  type PostureContext,
} from './posture-context.js';
import { definePostureRule, type PostureRule } from './posture-rule.js';

/**
 * Calls `visit` for every active credential of a known identity whose parsed expiry (NaN when it has none)
 * passes `expiry`; the test runs on the facts table, so records are only read for candidates.
 */
function eachActiveCredential(
  ctx: PostureContext,
  expiry: (expiresMs: number) => boolean,
  visit: (c: Credential, identity: Identity, expiresMs: number) => void,
): void {
  const { flags, expiresAt } = ctx.credentialFacts;
  ctx.selectCredentials(
    (_f, k) => (flags[k]! & CREDENTIAL_FLAG.active) !== 0 && expiry(expiresAt[k]!),
    (c, identity, k) => visit(c, identity, expiresAt[k]!),
  );
}

/** The facts every NHI7 finding carries. */
function baseEvidence(c: Credential, identity: Identity): Record<string, unknown> {
  return {
    identity: identity.name,
    type: c.type,
    fingerprint: fingerprintPrefix(c.fingerprint),
    createdAt: c.createdAt,
    expiresAt: c.expiresAt,
    lastRotatedAt: c.lastRotatedAt,
    neverRotated: c.lastRotatedAt === null,
  };
}

/** NHI7: an active secret with no expiry, older than `maxSecretAgeDays` since it was last rotated or created. */
export const secretNotRotatedRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi7-secret-not-rotated',
    title: 'Secret not rotated',
    owasp: 'NHI7',
    severity: 'medium',
    tags: ['rotation', 'long-lived'],
    docs:
      'An active secret that never expires has not been rotated for more than `maxSecretAgeDays` days (age ' +
      'counted from the last rotation, else creation, else when Keyward first recorded it). Medium; high ' +
      'beyond four times the threshold.',
  },
  remediation:
    'Rotate the secret now and automate rotation (or replace it with short-lived credentials issued on demand).',
  check(ctx, report) {
    const max = ctx.config.maxSecretAgeDays;
    eachActiveCredential(ctx, Number.isNaN, (c, identity) => {
      const since =
        c.lastRotatedAt !== null ? 'lastRotatedAt' : c.createdAt !== null ? 'createdAt' : 'recordedAt';
      // Parsed here rather than as a column: only credentials without an expiry need their age.
      const fromMs = timeMs(c[since]);
      if (fromMs === null) return;
      const ageDays = wholeDays(fromMs, ctx.nowMs);
      if (ageDays <= max) return;
      const history =
        since === 'lastRotatedAt'
          ? `was last rotated ${ageDays} days ago`
          : `was ${since === 'createdAt' ? 'created' : 'first seen'} ${ageDays} days ago and has never been rotated`;
      report({
        identityId: identity.id,
        credentialId: c.id,
        severity: ageDays > 4 * max ? 'high' : 'medium',
        message: `Secret ${describeCredential(c)} of identity "${identity.name}" ${history}; it never expires.`,
        evidence: { ...baseEvidence(c, identity), ageDays, ageSince: since, thresholdDays: max },
      });
    });
  },
});

/** NHI7: an expiry set more than `maxLifetimeDays` after the credential was created. */
export const longLifetimeRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi7-long-lifetime',
    title: 'Credential lifetime too long',
    owasp: 'NHI7',
    severity: 'low',
    tags: ['rotation', 'long-lived', 'expiry'],
    docs:
      'The credential expires, but more than `maxLifetimeDays` days after it was created (or first recorded, ' +
      'when the creation date is unknown), so it stays usable long after a leak.',
  },
  remediation:
    'Reissue the credential with a lifetime under the policy maximum and rotate it before it expires.',
  check(ctx, report) {
    const max = ctx.config.maxLifetimeDays;
    const unexpired = (e: number): boolean => e > ctx.nowMs;
    eachActiveCredential(ctx, unexpired, (c, identity, expiresMs) => {
      const createdMs = timeMs(c.createdAt ?? c.recordedAt);
      if (createdMs === null) return;
      const lifetimeDays = wholeDays(createdMs, expiresMs);
      if (lifetimeDays <= max) return;
      report({
        identityId: identity.id,
        credentialId: c.id,
        message: `Credential ${describeCredential(c)} of identity "${identity.name}" is valid for ${lifetimeDays} days, over the ${max}-day maximum.`,
        evidence: { ...baseEvidence(c, identity), lifetimeDays, thresholdDays: max },
      });
    });
  },
});

/** NHI7: the credential's expiry has passed but it is still recorded as active. */
export const expiredStillActiveRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi7-expired-still-active',
    title: 'Expired credential still active',
    owasp: 'NHI7',
    severity: 'medium',
    tags: ['expiry', 'hygiene'],
    docs:
      'The expiry date has passed but the credential is still marked active: either the provider does not ' +
      'enforce the expiry, or the inventory is stale and a replacement is untracked.',
  },
  remediation: 'Revoke or deactivate the expired credential and make sure its replacement is inventoried.',
  check(ctx, report) {
    const expired = (e: number): boolean => e <= ctx.nowMs;
    eachActiveCredential(ctx, expired, (c, identity, expiresMs) => {
      const expiredDays = wholeDays(expiresMs, ctx.nowMs);
      report({
        identityId: identity.id,
        credentialId: c.id,
        message: `Credential ${describeCredential(c)} of identity "${identity.name}" expired ${expiredDays} days ago but is still active.`,
        evidence: { ...baseEvidence(c, identity), expiredDays },
      });
    });
  },
});

/** NHI7: the credential expires within `expiringSoonDays` days (informational, so a rotation can be planned). */
export const expiringSoonRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi7-expiring-soon',
    title: 'Credential expiring soon',
    owasp: 'NHI7',
    severity: 'info',
    tags: ['expiry', 'rotation'],
    docs: 'The credential expires within `expiringSoonDays` days; plan its rotation before something breaks.',
  },
  remediation: 'Rotate the credential before it expires and update every consumer.',
  check(ctx, report) {
    const windowMs = ctx.config.expiringSoonDays * DAY_MS;
    const soon = (e: number): boolean => e > ctx.nowMs && e - ctx.nowMs <= windowMs;
    eachActiveCredential(ctx, soon, (c, identity, expiresMs) => {
      const daysLeft = wholeDays(ctx.nowMs, expiresMs);
      report({
        identityId: identity.id,
        credentialId: c.id,
        message: `Credential ${describeCredential(c)} of identity "${identity.name}" expires in ${daysLeft} days (${c.expiresAt?.slice(0, 10)}).`,
        evidence: { ...baseEvidence(c, identity), daysLeft, thresholdDays: ctx.config.expiringSoonDays },
      });
    });
  },
});

/** The NHI7 rules, in evaluation order. */
export const NHI7_RULES: readonly PostureRule[] = [
  secretNotRotatedRule,
  longLifetimeRule,
  expiredStillActiveRule,
  expiringSoonRule,
];
