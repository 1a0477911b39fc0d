import { describe, expect, it } from 'vitest';
import {
  identityUnusedRule,
  ownerLeftRule,
  ownerMissingRule,
  ownerSuspendedRule,
  ownerUnknownRule,
} from './nhi1-improper-offboarding.js';
import {
  credential,
  daysAgo,
  identity,
  NOW,
  person,
  runRule,
  snapshot,
} from './test-support/posture-fixtures.js';
import { findingId } from './posture-rule.js';

const directory = [
  person({ email: 'alice@acme.test', name: 'Alice Martin' }),
  person({ email: 'bob@acme.test', name: 'Bob Stone', status: 'left', leftAt: '2025-03-31T00:00:00.000Z' }),
  person({ email: 'carol@acme.test', name: 'Carol Diaz', status: 'suspended' }),
];

describe('nhi1-owner-missing', () => {
  it('reports an identity with no owner or a blank one, as medium', () => {
    const snap = snapshot({
      identities: [
        identity({ id: 'i1', name: 'orphan', owner: null }),
        identity({ id: 'i2', name: 'blank', owner: '  ' }),
      ],
    });
    const findings = runRule(ownerMissingRule, snap);
    expect(findings).toEqual([
      {
        id: findingId('nhi1-owner-missing', ['i1']),
        ruleId: 'nhi1-owner-missing',
        owasp: 'NHI1',
        severity: 'medium',
        title: 'Identity has no owner',
        message: 'Identity "orphan" has no owner.',
        remediation: 'Assign an accountable owner (a person in the directory) to the identity.',
        identityId: 'i1',
        credentialId: null,
        evidence: { identity: 'orphan', owner: null, sponsor: null },
        firstSeenAt: NOW.toISOString(),
        lastSeenAt: NOW.toISOString(),
      },
      expect.objectContaining({ identityId: 'i2', ruleId: 'nhi1-owner-missing', severity: 'medium' }),
    ]);
    expect(findings[0]!.id).toMatch(/^fnd_[0-9a-f]{24}$/);
  });

  it('does not report an owned identity', () => {
    expect(runRule(ownerMissingRule, snapshot({ identities: [identity({ id: 'i1', name: 'x' })] }))).toEqual(
      [],
    );
  });
});

describe('nhi1-owner-left and nhi1-owner-suspended', () => {
  const snap = snapshot({
    people: directory,
    identities: [
      identity({ id: 'i1', name: 'bobs-bot', owner: 'BOB@acme.test' }),
      identity({ id: 'i2', name: 'carols-bot', owner: 'Carol Diaz' }),
      identity({ id: 'i3', name: 'alices-bot', owner: 'Alice Martin <alice@acme.test>' }),
      identity({ id: 'i4', name: 'bobs-other-bot', owner: 'bob stone' }),
    ],
  });

  it('reports an owner who left as high, matching email and name case-insensitively', () => {
    const findings = runRule(ownerLeftRule, snap);
    expect(findings.map((f) => [f.identityId, f.severity])).toEqual([
      ['i1', 'high'],
      ['i4', 'high'],
    ]);
    expect(findings[0]!.message).toBe(
      'Identity "bobs-bot" is owned by bob@acme.test, who left the organisation on 2025-03-31.',
    );
    expect(findings[0]!.evidence).toEqual({
      identity: 'bobs-bot',
      owner: 'BOB@acme.test',
      personEmail: 'bob@acme.test',
      status: 'left',
      leftAt: '2025-03-31T00:00:00.000Z',
    });
  });

  it('reports a suspended owner as medium', () => {
    const findings = runRule(ownerSuspendedRule, snap);
    expect(findings.map((f) => [f.ruleId, f.identityId, f.severity, f.owasp])).toEqual([
      ['nhi1-owner-suspended', 'i2', 'medium', 'NHI1'],
    ]);
  });

  it('does not report active owners, or anything when no directory is imported', () => {
    const active = snapshot({ people: directory, identities: [snap.identities[2]!] });
    expect(runRule(ownerLeftRule, active)).toEqual([]);
    expect(runRule(ownerSuspendedRule, active)).toEqual([]);
    const noDirectory = snapshot({ identities: snap.identities });
    expect(runRule(ownerLeftRule, noDirectory)).toEqual([]);
    expect(runRule(ownerSuspendedRule, noDirectory)).toEqual([]);
  });

  it('prefers an active person when a name is ambiguous', () => {
    const people = [
      person({ email: 'sam1@acme.test', name: 'Sam Lee', status: 'left' }),
      person({ email: 'sam2@acme.test', name: 'Sam Lee' }),
    ];
    const s = snapshot({ people, identities: [identity({ id: 'i1', name: 'x', owner: 'Sam Lee' })] });
    expect(runRule(ownerLeftRule, s)).toEqual([]);
  });
});

describe('nhi1-owner-unknown', () => {
  it('reports an owner missing from an imported directory', () => {
    const snap = snapshot({
      people: directory,
      identities: [
        identity({ id: 'i1', name: 'ghost-bot', owner: 'dave@acme.test' }),
        identity({ id: 'i2', name: 'team-bot', owner: 'Platform Team' }),
        identity({ id: 'i3', name: 'ok-bot', owner: 'alice@ACME.test' }),
      ],
    });
    const findings = runRule(ownerUnknownRule, snap);
    expect(findings.map((f) => [f.identityId, f.severity])).toEqual([
      ['i1', 'medium'],
      ['i2', 'medium'],
    ]);
    expect(findings[0]!.message).toBe(
      'Identity "ghost-bot" names owner "dave@acme.test", who is not in the directory.',
    );
    expect(findings[0]!.evidence).toEqual({
      identity: 'ghost-bot',
      owner: 'dave@acme.test',
      directorySize: 3,
    });
  });

  it('does not report anything before a directory is imported', () => {
    const snap = snapshot({ identities: [identity({ id: 'i1', name: 'x', owner: 'dave@acme.test' })] });
    expect(runRule(ownerUnknownRule, snap)).toEqual([]);
  });
});

describe('nhi1-identity-unused', () => {
  it('uses the latest of identity last-seen and credential last-used', () => {
    const snap = snapshot({
      identities: [
        identity({ id: 'i1', name: 'stale', lastSeenAt: daysAgo(200) }),
        identity({ id: 'i2', name: 'used-by-key', lastSeenAt: daysAgo(200) }),
      ],
      credentials: [
        credential({ id: 'c1', identityId: 'i1', lastUsedAt: daysAgo(120) }),
        credential({ id: 'c2', identityId: 'i2', lastUsedAt: daysAgo(3) }),
      ],
    });
    const findings = runRule(identityUnusedRule, snap);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      ruleId: 'nhi1-identity-unused',
      owasp: 'NHI1',
      severity: 'medium',
      identityId: 'i1',
      credentialId: null,
      message: 'Identity "stale" has not been used for 120 days (last activity 2025-02-01).',
      evidence: {
        identity: 'stale',
        lastActivityAt: daysAgo(120),
        idleDays: 120,
        thresholdDays: 90,
        activeCredentials: 1,
      },
    });
  });

  it('reports a never-used identity created long ago, low when it has no active credential', () => {
    const snap = snapshot({
      identities: [
        identity({ id: 'i1', name: 'never', lastSeenAt: null, createdAt: daysAgo(100) }),
        identity({ id: 'i2', name: 'new', lastSeenAt: null, createdAt: daysAgo(10) }),
      ],
      credentials: [credential({ id: 'c1', identityId: 'i1', lastUsedAt: null, status: 'inactive' })],
    });
    const findings = runRule(identityUnusedRule, snap);
    expect(findings.map((f) => [f.identityId, f.severity])).toEqual([['i1', 'low']]);
    expect(findings[0]!.evidence).toEqual({
      identity: 'never',
      lastActivityAt: null,
      createdAt: daysAgo(100),
      ageDays: 100,
      thresholdDays: 90,
      activeCredentials: 0,
    });
  });

  it('honours the unusedDays threshold (inclusive) and does not report recent activity', () => {
    const snap = snapshot({ identities: [identity({ id: 'i1', name: 'x', lastSeenAt: daysAgo(30) })] });
    expect(runRule(identityUnusedRule, snap)).toEqual([]);
    expect(runRule(identityUnusedRule, snap, { unusedDays: 31 })).toEqual([]);
    expect(runRule(identityUnusedRule, snap, { unusedDays: 30 })).toHaveLength(1);
  });
});
