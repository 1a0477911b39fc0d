import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Finding, Severity } from '../../core/types.js';
import { SEVERITIES } from '../../core/types.js';
import { computeIdentityRisk, computeRiskScores } from './risk-score.js';
import { evaluatePosture } from './posture-engine.js';
import { DEFAULT_POSTURE_CONFIG } from './posture-types.js';
import { credential, daysAgo, grant, identity, NOW, snapshot } from './test-support/posture-fixtures.js';

function finding(
  identityId: string,
  ruleId: string,
  severity: Severity,
  credentialId: string | null = null,
): Finding {
  return {
    id: `fnd_${ruleId}_${identityId}_${credentialId ?? ''}`,
    ruleId,
    owasp: 'NHI7',
    severity,
    title: `title of ${ruleId}`,
    message: 'm',
    remediation: 'r',
    identityId,
    credentialId,
    evidence: {},
    firstSeenAt: NOW.toISOString(),
    lastSeenAt: NOW.toISOString(),
  };
}

describe('computeIdentityRisk', () => {
  it('is 0 with no factors when the identity has no findings', () => {
    const agent = identity({ id: 'i1', name: 'a', kind: 'ai-agent', environment: 'prod' });
    expect(computeIdentityRisk(agent, [], [grant({ id: 'g', identityId: 'i1', admin: true })], [])).toEqual({
      identityId: 'i1',
      score: 0,
      factors: [],
    });
  });

  it('weights distinct finding types with diminishing returns, then applies blast-radius multipliers and the cap', () => {
    const agent = identity({ id: 'i1', name: 'support-agent', kind: 'ai-agent', environment: 'prod' });
    const credentials = [
      credential({ id: 'c1', identityId: 'i1' }),
      credential({ id: 'c2', identityId: 'i1' }),
      credential({ id: 'c3', identityId: 'i1' }),
      credential({ id: 'c4', identityId: 'i1', status: 'inactive' }),
    ];
    const grants = [grant({ id: 'g1', identityId: 'i1', admin: true, source: 'AdministratorAccess' })];
    const findings = [
      finding('i1', 'nhi5-overprivileged', 'critical'),
      finding('i1', 'nhi2-secret-in-plaintext', 'critical', 'c1'),
      finding('i1', 'nhi2-secret-in-plaintext', 'high', 'c2'),
      finding('i1', 'nhi7-secret-not-rotated', 'medium', 'c1'),
      finding('i1', 'nhi7-expiring-soon', 'info', 'c3'),
      finding('other', 'nhi9-shared-secret', 'high'),
    ];
    expect(computeIdentityRisk(agent, credentials, grants, findings)).toEqual({
      identityId: 'i1',
      score: 100,
      factors: [
        {
          name: 'nhi2-secret-in-plaintext',
          points: 40,
          detail:
            'critical NHI7: title of nhi2-secret-in-plaintext (1st finding type, full weight, 2 findings)',
        },
        {
          name: 'nhi5-overprivileged',
          points: 20,
          detail: 'critical NHI7: title of nhi5-overprivileged (2nd finding type, ×0.5)',
        },
        {
          name: 'nhi7-secret-not-rotated',
          points: 3,
          detail: 'medium NHI7: title of nhi7-secret-not-rotated (3rd finding type, ×0.25)',
        },
        {
          name: 'nhi7-expiring-soon',
          points: 0,
          detail: 'info NHI7: title of nhi7-expiring-soon (4th finding type, ×0.125)',
        },
        {
          name: 'privileged-grants',
          points: 32,
          detail: '×1.5: admin, wildcard or escalation grants (AdministratorAccess)',
        },
        { name: 'production', points: 29, detail: '×1.3: environment "prod" is production' },
        { name: 'active-credentials', points: 25, detail: '×1.2: 3 active credentials' },
        { name: 'ai-agent', points: 30, detail: '×1.2: autonomous AI agent acting on untrusted input' },
        { name: 'cap', points: -79, detail: 'scores are capped at 100' },
      ],
    });
  });

  it('computes the worked example of docs/posture.md', () => {
    const svc = identity({ id: 'i1', name: 'billing', environment: 'prod', owner: null });
    const creds = [credential({ id: 'c1', identityId: 'i1' }), credential({ id: 'c2', identityId: 'i1' })];
    const risk = computeIdentityRisk(
      svc,
      creds,
      [],
      [finding('i1', 'nhi7-secret-not-rotated', 'high', 'c1'), finding('i1', 'nhi1-owner-missing', 'medium')],
    );
    expect(risk.factors.map((f) => [f.name, f.points])).toEqual([
      ['nhi7-secret-not-rotated', 25],
      ['nhi1-owner-missing', 5],
      ['production', 9],
      ['active-credentials', 4],
    ]);
    expect(risk.score).toBe(43);
    const agent = { ...svc, kind: 'ai-agent' as const };
    const admin = [grant({ id: 'g1', identityId: 'i1', admin: true, source: 'AdministratorAccess' })];
    const capped = computeIdentityRisk(agent, creds, admin, [
      finding('i1', 'nhi5-overprivileged', 'critical'),
      finding('i1', 'nhi7-secret-not-rotated', 'high', 'c1'),
      finding('i1', 'nhi1-owner-missing', 'medium'),
    ]);
    expect(capped.score).toBe(100);
    expect(capped.factors.at(-1)!.name).toBe('cap');
  });

  it('scores a single high finding on a plain identity at 25', () => {
    const svc = identity({ id: 'i1', name: 'svc' });
    const risk = computeIdentityRisk(
      svc,
      [credential({ id: 'c1', identityId: 'i1' })],
      [],
      [finding('i1', 'nhi9-shared-secret', 'high', 'c1')],
    );
    expect(risk.score).toBe(25);
    expect(risk.factors.map((f) => [f.name, f.points])).toEqual([['nhi9-shared-secret', 25]]);
  });

  it('always lies in 0–100 with factor points adding up to the score', () => {
    const severity = fc.constantFrom(...SEVERITIES);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'), severity), { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat({ max: 9 }),
        fc.constantFrom('ai-agent', 'bot', 'ci-pipeline'),
        (fs, admin, prod, nCreds, kind) => {
          const who = identity({ id: 'i1', name: 'x', kind, environment: prod ? 'prod' : 'dev' });
          const creds = Array.from({ length: nCreds }, (_, k) =>
            credential({ id: `c${k}`, identityId: 'i1' }),
          );
          const grants = admin ? [grant({ id: 'g1', identityId: 'i1', admin: true })] : [];
          const risk = computeIdentityRisk(
            who,
            creds,
            grants,
            fs.map(([r, s]) => finding('i1', r, s)),
          );
          const sum = risk.factors.reduce((a, f) => a + f.points, 0);
          return risk.score >= 0 && risk.score <= 100 && sum === risk.score && Number.isInteger(risk.score);
        },
      ),
    );
  });
});

describe('computeRiskScores', () => {
  const snap = snapshot({
    identities: [
      identity({ id: 'i1', name: 'prod-admin', environment: 'production', owner: null }),
      identity({ id: 'i2', name: 'quiet' }),
      identity({ id: 'i3', name: 'sharer', environment: 'dev' }),
    ],
    credentials: [
      credential({ id: 'c1', identityId: 'i1', fingerprint: 'f'.repeat(64), createdAt: daysAgo(400) }),
      credential({ id: 'c2', identityId: 'i3', fingerprint: 'f'.repeat(64) }),
    ],
    grants: [grant({ id: 'g1', identityId: 'i1', actions: ['*'], resources: ['*'] })],
  });

  it('has an entry for every identity, 0 for identities without findings', () => {
    const risks = computeRiskScores(snap, evaluatePosture(snap, DEFAULT_POSTURE_CONFIG, NOW));
    expect([...risks.keys()]).toEqual(['i1', 'i2', 'i3']);
    expect(risks.get('i2')).toEqual({ identityId: 'i2', score: 0, factors: [] });
    // nhi8 critical (the secret reaches production): 40, then nhi9 high at half weight: 12.5 → 13.
    expect(risks.get('i3')!.score).toBe(53);
  });

  it('gives the same breakdown from the identity’s own records alone (as the detail view recomputes it)', () => {
    const findings = evaluatePosture(snap, DEFAULT_POSTURE_CONFIG, NOW);
    const full = computeRiskScores(snap, findings);
    for (const who of snap.identities) {
      const own = snapshot({
        identities: [who],
        credentials: snap.credentials.filter((c) => c.identityId === who.id),
        grants: snap.grants.filter((g) => g.identityId === who.id),
      });
      const alone = computeRiskScores(
        own,
        findings.filter((f) => f.identityId === who.id),
      );
      expect(alone.get(who.id)).toEqual(full.get(who.id));
    }
  });
});
