import { describe, expect, it } from 'vitest';
import {
  expiredStillActiveRule,
  expiringSoonRule,
  longLifetimeRule,
  secretNotRotatedRule,
} from './nhi7-long-lived-secrets.js';
import { findingId } from './posture-rule.js';
import { credential, daysAgo, identity, NOW, runRule, snapshot } from './test-support/posture-fixtures.js';

const identities = [identity({ id: 'i1', name: 'billing-svc' })];

describe('nhi7-secret-not-rotated', () => {
  it('reports a non-expiring secret older than maxSecretAgeDays: medium, high beyond 4×', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({
          id: 'c1',
          identityId: 'i1',
          name: 'STRIPE_KEY',
          preview: 'sk_l…9aZ1',
          fingerprint: 'ab'.repeat(32),
          createdAt: daysAgo(100),
        }),
        credential({ id: 'c2', identityId: 'i1', createdAt: daysAgo(500), lastRotatedAt: daysAgo(361) }),
        credential({ id: 'c3', identityId: 'i1', createdAt: null, recordedAt: daysAgo(95) }),
      ],
    });
    const findings = runRule(secretNotRotatedRule, snap);
    expect(findings.map((f) => [f.credentialId, f.severity])).toEqual([
      ['c1', 'medium'],
      ['c2', 'high'],
      ['c3', 'medium'],
    ]);
    expect(findings[0]).toEqual({
      id: findingId('nhi7-secret-not-rotated', ['i1', 'c1']),
      ruleId: 'nhi7-secret-not-rotated',
      owasp: 'NHI7',
      severity: 'medium',
      title: 'Secret not rotated',
      message:
        'Secret STRIPE_KEY (sk_l…9aZ1) of identity "billing-svc" was created 100 days ago and has never been rotated; it never expires.',
      remediation:
        'Rotate the secret now and automate rotation (or replace it with short-lived credentials issued on demand).',
      identityId: 'i1',
      credentialId: 'c1',
      evidence: {
        identity: 'billing-svc',
        type: 'api-key',
        fingerprint: 'abababababab',
        createdAt: daysAgo(100),
        expiresAt: null,
        lastRotatedAt: null,
        neverRotated: true,
        ageDays: 100,
        ageSince: 'createdAt',
        thresholdDays: 90,
      },
      firstSeenAt: NOW.toISOString(),
      lastSeenAt: NOW.toISOString(),
    });
    expect(findings[1]!.evidence).toMatchObject({
      ageDays: 361,
      ageSince: 'lastRotatedAt',
      neverRotated: false,
    });
    expect(findings[1]!.message).toContain('was last rotated 361 days ago; it never expires.');
    expect(findings[2]!.evidence).toMatchObject({ ageDays: 95, ageSince: 'recordedAt' });
  });

  it('does not report recently rotated, expiring or inactive secrets', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', createdAt: daysAgo(400), lastRotatedAt: daysAgo(30) }),
        credential({ id: 'c2', identityId: 'i1', createdAt: daysAgo(400), expiresAt: daysAgo(-30) }),
        credential({ id: 'c3', identityId: 'i1', createdAt: daysAgo(400), status: 'inactive' }),
        credential({ id: 'c4', identityId: 'i1', createdAt: daysAgo(90) }),
      ],
    });
    expect(runRule(secretNotRotatedRule, snap)).toEqual([]);
    expect(runRule(secretNotRotatedRule, snap, { maxSecretAgeDays: 89 }).map((f) => f.credentialId)).toEqual([
      'c4',
    ]);
  });
});

describe('nhi7-long-lifetime', () => {
  it('reports an expiry more than maxLifetimeDays after creation, as low', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', createdAt: daysAgo(10), expiresAt: daysAgo(-400) }),
        credential({
          id: 'c2',
          identityId: 'i1',
          createdAt: null,
          recordedAt: daysAgo(5),
          expiresAt: daysAgo(-3650),
        }),
      ],
    });
    const findings = runRule(longLifetimeRule, snap);
    expect(
      findings.map((f) => [f.ruleId, f.owasp, f.credentialId, f.severity, f.evidence.lifetimeDays]),
    ).toEqual([
      ['nhi7-long-lifetime', 'NHI7', 'c1', 'low', 410],
      ['nhi7-long-lifetime', 'NHI7', 'c2', 'low', 3655],
    ]);
    expect(findings[0]!.message).toBe(
      'Credential api-key (abcd…wxyz) of identity "billing-svc" is valid for 410 days, over the 365-day maximum.',
    );
  });

  it('does not report lifetimes within the maximum, expired or inactive credentials', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', createdAt: daysAgo(10), expiresAt: daysAgo(-355) }),
        credential({ id: 'c2', identityId: 'i1', createdAt: daysAgo(900), expiresAt: daysAgo(1) }),
        credential({
          id: 'c3',
          identityId: 'i1',
          createdAt: daysAgo(10),
          expiresAt: daysAgo(-900),
          status: 'inactive',
        }),
      ],
    });
    expect(runRule(longLifetimeRule, snap)).toEqual([]);
  });
});

describe('nhi7-expired-still-active', () => {
  it('reports an active credential past its expiry, as medium', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', name: 'CERT', preview: '…', expiresAt: daysAgo(12) }),
      ],
    });
    const findings = runRule(expiredStillActiveRule, snap);
    expect(findings.map((f) => [f.ruleId, f.owasp, f.credentialId, f.severity, f.message])).toEqual([
      [
        'nhi7-expired-still-active',
        'NHI7',
        'c1',
        'medium',
        'Credential CERT (…) of identity "billing-svc" expired 12 days ago but is still active.',
      ],
    ]);
    expect(findings[0]!.evidence).toMatchObject({ expiredDays: 12, expiresAt: daysAgo(12) });
  });

  it('does not report inactive expired credentials or future expiries', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', expiresAt: daysAgo(12), status: 'inactive' }),
        credential({ id: 'c2', identityId: 'i1', expiresAt: daysAgo(-1) }),
      ],
    });
    expect(runRule(expiredStillActiveRule, snap)).toEqual([]);
  });
});

describe('nhi7-expiring-soon', () => {
  it('reports credentials expiring within expiringSoonDays, as info', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', expiresAt: '2025-06-08T00:00:00.000Z' }),
        credential({ id: 'c2', identityId: 'i1', expiresAt: daysAgo(-14) }),
      ],
    });
    const findings = runRule(expiringSoonRule, snap);
    expect(findings.map((f) => [f.ruleId, f.owasp, f.credentialId, f.severity, f.evidence.daysLeft])).toEqual(
      [
        ['nhi7-expiring-soon', 'NHI7', 'c1', 'info', 7],
        ['nhi7-expiring-soon', 'NHI7', 'c2', 'info', 14],
      ],
    );
    expect(findings[0]!.message).toBe(
      'Credential api-key (abcd…wxyz) of identity "billing-svc" expires in 7 days (2025-06-08).',
    );
  });

  it('does not report later, past or absent expiries', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', expiresAt: daysAgo(-15) }),
        credential({ id: 'c2', identityId: 'i1', expiresAt: daysAgo(1) }),
        credential({ id: 'c3', identityId: 'i1' }),
      ],
    });
    expect(runRule(expiringSoonRule, snap)).toEqual([]);
    expect(runRule(expiringSoonRule, snap, { expiringSoonDays: 0 })).toEqual([]);
  });
});
