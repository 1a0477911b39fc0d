import { describe, expect, it } from 'vitest';
import { overprivilegedRule, privilegeEscalationRule } from './nhi5-overprivileged.js';
import { isOverprivilegedGrant, isWildcardAction } from './grant-privilege.js';
import { findingId } from './posture-rule.js';
import { grant, identity, NOW, runRule, snapshot } from './test-support/posture-fixtures.js';

describe('nhi5-overprivileged', () => {
  it('reports one finding per identity listing every admin or wildcard grant', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'deployer', environment: 'staging' })],
      grants: [
        grant({
          id: 'g1',
          identityId: 'i1',
          admin: true,
          source: 'arn:aws:iam::aws:policy/AdministratorAccess',
          actions: ['*'],
          resources: ['*'],
        }),
        grant({ id: 'g2', identityId: 'i1', source: 'inline/s3-all', actions: ['s3:*'], resources: ['*'] }),
        grant({
          id: 'g3',
          identityId: 'i1',
          source: 'inline/narrow',
          actions: ['s3:GetObject'],
          resources: ['*'],
        }),
        grant({
          id: 'g4',
          identityId: 'i1',
          source: 'inline/bucket',
          actions: ['s3:*'],
          resources: ['arn:aws:s3:::logs/*'],
        }),
        grant({
          id: 'g5',
          identityId: 'i1',
          source: 'inline/deny',
          effect: 'deny',
          actions: ['*'],
          resources: ['*'],
        }),
      ],
    });
    expect(runRule(overprivilegedRule, snap)).toEqual([
      {
        id: findingId('nhi5-overprivileged', ['i1']),
        ruleId: 'nhi5-overprivileged',
        owasp: 'NHI5',
        severity: 'high',
        title: 'Admin or wildcard permissions',
        message:
          'Identity "deployer" has admin or wildcard permissions from arn:aws:iam::aws:policy/AdministratorAccess, inline/s3-all.',
        remediation:
          'Replace the admin and wildcard grants with policies listing the actions and resources the workload uses (start from its access logs).',
        identityId: 'i1',
        credentialId: null,
        evidence: {
          identity: 'deployer',
          environment: 'staging',
          production: false,
          sources: ['arn:aws:iam::aws:policy/AdministratorAccess', 'inline/s3-all'],
          grants: [
            {
              source: 'arn:aws:iam::aws:policy/AdministratorAccess',
              admin: true,
              actions: ['*'],
              resources: ['*'],
            },
            { source: 'inline/s3-all', admin: false, actions: ['s3:*'], resources: ['*'] },
          ],
        },
        firstSeenAt: NOW.toISOString(),
        lastSeenAt: NOW.toISOString(),
      },
    ]);
  });

  it('is critical in production', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'prod-admin', environment: 'production' })],
      grants: [grant({ id: 'g1', identityId: 'i1', actions: ['*'], resources: ['*'] })],
    });
    expect(runRule(overprivilegedRule, snap).map((f) => f.severity)).toEqual(['critical']);
  });

  it('does not report scoped grants, wildcards on specific resources, or deny grants', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'reader', environment: 'prod' })],
      grants: [
        grant({ id: 'g1', identityId: 'i1', actions: ['s3:GetObject'], resources: ['*'] }),
        grant({ id: 'g2', identityId: 'i1', actions: ['*'], resources: ['arn:aws:s3:::logs'] }),
        grant({ id: 'g3', identityId: 'i1', effect: 'deny', admin: true, actions: ['*'], resources: ['*'] }),
        grant({ id: 'g4', identityId: 'i1', actions: ['s3:Get*'], resources: ['*'] }),
      ],
    });
    expect(runRule(overprivilegedRule, snap)).toEqual([]);
  });
});

describe('nhi5-privilege-escalation', () => {
  it('reports iam:* and iam:PassRole on * as high', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'builder' })],
      grants: [
        grant({
          id: 'g1',
          identityId: 'i1',
          source: 'inline/pass',
          actions: ['iam:PassRole', 'ec2:RunInstances'],
          resources: ['*'],
        }),
        grant({ id: 'g2', identityId: 'i1', source: 'inline/iam', actions: ['IAM:*'], resources: ['*'] }),
      ],
    });
    const findings = runRule(privilegeEscalationRule, snap);
    expect(findings.map((f) => [f.ruleId, f.owasp, f.identityId, f.severity])).toEqual([
      ['nhi5-privilege-escalation', 'NHI5', 'i1', 'high'],
    ]);
    expect(findings[0]!.message).toBe(
      'Identity "builder" can escalate its privileges: IAM:*, iam:PassRole on * from inline/iam, inline/pass.',
    );
    expect(findings[0]!.evidence).toEqual({
      identity: 'builder',
      environment: null,
      sources: ['inline/iam', 'inline/pass'],
      actions: ['IAM:*', 'iam:PassRole'],
    });
  });

  it('does not report PassRole restricted to a role ARN', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'builder' })],
      grants: [
        grant({
          id: 'g1',
          identityId: 'i1',
          actions: ['iam:PassRole'],
          resources: ['arn:aws:iam::123456789012:role/app'],
        }),
        grant({ id: 'g2', identityId: 'i1', actions: ['iam:GetRole'], resources: ['*'] }),
      ],
    });
    expect(runRule(privilegeEscalationRule, snap)).toEqual([]);
  });
});

describe('grant predicates', () => {
  it('recognises wildcard actions', () => {
    expect(['*', 's3:*', 'iam:*', '*:*'].map(isWildcardAction)).toEqual([true, true, true, true]);
    expect(['s3:Get*', 's3:GetObject', '', ':*'].map(isWildcardAction)).toEqual([false, false, false, false]);
  });

  it('treats an admin-flagged allow grant as overprivileged whatever its patterns', () => {
    expect(isOverprivilegedGrant(grant({ id: 'g', identityId: 'i', admin: true }))).toBe(true);
  });
});
