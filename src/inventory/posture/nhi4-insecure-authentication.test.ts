import { describe, expect, it } from 'vitest';
import {
  awsConsolePasswordRule,
  classicPatRule,
  staticPasswordRule,
} from './nhi4-insecure-authentication.js';
import { findingId } from './posture-rule.js';
import { credential, identity, NOW, runRule, snapshot } from './test-support/posture-fixtures.js';

const identities = [identity({ id: 'i1', name: 'legacy-etl' })];

describe('nhi4-static-password', () => {
  it('reports passwords and basic auth as high', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({
          id: 'c1',
          identityId: 'i1',
          type: 'password',
          provider: 'postgres',
          name: 'DB_PASSWORD',
          preview: 'hu…r2',
          fingerprint: 'f'.repeat(64),
        }),
        credential({
          id: 'c2',
          identityId: 'i1',
          type: 'basic-auth',
          provider: 'jenkins',
          name: 'JENKINS_AUTH',
          preview: 'adm…xyz',
        }),
      ],
    });
    const findings = runRule(staticPasswordRule, snap);
    expect(findings).toEqual([
      {
        id: findingId('nhi4-static-password', ['i1', 'c1']),
        ruleId: 'nhi4-static-password',
        owasp: 'NHI4',
        severity: 'high',
        title: 'Static password or basic auth',
        message: 'Identity "legacy-etl" authenticates with a static password DB_PASSWORD (hu…r2).',
        remediation:
          'Replace the password with federated or short-lived credentials (OIDC, workload identity, a role), or a scoped, rotated key.',
        identityId: 'i1',
        credentialId: 'c1',
        evidence: {
          identity: 'legacy-etl',
          type: 'password',
          provider: 'postgres',
          status: 'active',
          fingerprint: 'ffffffffffff',
        },
        firstSeenAt: NOW.toISOString(),
        lastSeenAt: NOW.toISOString(),
      },
      expect.objectContaining({
        credentialId: 'c2',
        severity: 'high',
        message:
          'Identity "legacy-etl" authenticates with a static basic-auth credential JENKINS_AUTH (adm…xyz).',
      }),
    ]);
  });

  it('does not report keys, tokens or AWS console passwords (their own rule)', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', type: 'api-key' }),
        credential({ id: 'c2', identityId: 'i1', type: 'oauth-token' }),
        credential({ id: 'c3', identityId: 'i1', type: 'password', provider: 'aws' }),
      ],
    });
    expect(runRule(staticPasswordRule, snap)).toEqual([]);
  });
});

describe('nhi4-classic-pat', () => {
  it('reports classic PATs by attribute or ghp_ prefix, as medium', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({
          id: 'c1',
          identityId: 'i1',
          type: 'pat',
          provider: 'github',
          preview: 'ghp_…a1B2',
          name: 'GH_TOKEN',
        }),
        credential({
          id: 'c2',
          identityId: 'i1',
          type: 'pat',
          provider: 'github',
          preview: 'abcd…wxyz',
          attributes: { classic: true },
        }),
      ],
    });
    const findings = runRule(classicPatRule, snap);
    expect(findings.map((f) => [f.ruleId, f.owasp, f.credentialId, f.severity])).toEqual([
      ['nhi4-classic-pat', 'NHI4', 'c1', 'medium'],
      ['nhi4-classic-pat', 'NHI4', 'c2', 'medium'],
    ]);
    expect(findings[0]!.message).toBe(
      'Identity "legacy-etl" uses the classic GitHub personal access token GH_TOKEN (ghp_…a1B2).',
    );
  });

  it('does not report fine-grained PATs or ghp_-looking non-PATs', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', type: 'pat', provider: 'github', preview: 'gith…9xYz' }),
        credential({ id: 'c2', identityId: 'i1', type: 'api-key', preview: 'ghp_…a1B2' }),
        credential({
          id: 'c3',
          identityId: 'i1',
          type: 'pat',
          preview: 'gith…9xYz',
          attributes: { classic: false },
        }),
      ],
    });
    expect(runRule(classicPatRule, snap)).toEqual([]);
  });
});

describe('nhi4-aws-console-password', () => {
  it('reports an AWS console password on a machine user as high', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({
          id: 'c1',
          identityId: 'i1',
          type: 'password',
          provider: 'aws',
          name: 'console',
          preview: '…',
        }),
      ],
    });
    const findings = runRule(awsConsolePasswordRule, snap);
    expect(findings.map((f) => [f.ruleId, f.owasp, f.credentialId, f.severity, f.message])).toEqual([
      [
        'nhi4-aws-console-password',
        'NHI4',
        'c1',
        'high',
        'Machine identity "legacy-etl" has an AWS console password console (…).',
      ],
    ]);
  });

  it('does not report AWS access keys or non-AWS passwords', () => {
    const snap = snapshot({
      identities,
      credentials: [
        credential({ id: 'c1', identityId: 'i1', type: 'access-key', provider: 'aws' }),
        credential({ id: 'c2', identityId: 'i1', type: 'password', provider: 'mysql' }),
      ],
    });
    expect(runRule(awsConsolePasswordRule, snap)).toEqual([]);
  });
});
