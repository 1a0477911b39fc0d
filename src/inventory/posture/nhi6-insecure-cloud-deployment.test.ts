import { describe, expect, it } from 'vitest';
import { ciStaticCloudKeyRule } from './nhi6-insecure-cloud-deployment.js';
import { findingId } from './posture-rule.js';
import { credential, identity, NOW, runRule, snapshot } from './test-support/posture-fixtures.js';

describe('nhi6-ci-static-cloud-key', () => {
  it('reports every active static cloud key held by a CI pipeline', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'acme/api deploy', kind: 'ci-pipeline', provider: 'github' })],
      credentials: [
        credential({
          id: 'c1',
          identityId: 'i1',
          type: 'access-key',
          provider: 'aws',
          name: 'AWS_ACCESS_KEY_ID',
          preview: 'AKIA…WXYZ',
          fingerprint: '0123456789abcdef'.repeat(4),
        }),
        credential({ id: 'c2', identityId: 'i1', type: 'private-key', provider: 'gcp', name: 'GCP_SA_KEY' }),
        credential({ id: 'c3', identityId: 'i1', type: 'api-key', provider: 'azure', name: 'AZURE_SECRET' }),
        credential({ id: 'c4', identityId: 'i1', type: 'access-key', provider: 'aws', status: 'inactive' }),
        credential({ id: 'c5', identityId: 'i1', type: 'api-key', provider: 'npm', name: 'NPM_TOKEN' }),
      ],
    });
    const findings = runRule(ciStaticCloudKeyRule, snap);
    expect(findings.map((f) => [f.credentialId, f.severity])).toEqual([
      ['c1', 'high'],
      ['c2', 'high'],
      ['c3', 'high'],
    ]);
    expect(findings[0]).toEqual({
      id: findingId('nhi6-ci-static-cloud-key', ['i1', 'c1']),
      ruleId: 'nhi6-ci-static-cloud-key',
      owasp: 'NHI6',
      severity: 'high',
      title: 'CI pipeline uses a static cloud key',
      message:
        'CI pipeline "acme/api deploy" holds the static aws key AWS_ACCESS_KEY_ID (AKIA…WXYZ) instead of using OIDC federation.',
      remediation:
        'Configure OIDC federation between the CI provider and the cloud (a role trusted for this repository and branch), then delete the static key.',
      identityId: 'i1',
      credentialId: 'c1',
      evidence: {
        identity: 'acme/api deploy',
        type: 'access-key',
        provider: 'aws',
        fingerprint: '0123456789ab',
      },
      firstSeenAt: NOW.toISOString(),
      lastSeenAt: NOW.toISOString(),
    });
  });

  it('does not report cloud keys held by other kinds of identity', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'etl', kind: 'service-account' })],
      credentials: [credential({ id: 'c1', identityId: 'i1', type: 'access-key', provider: 'aws' })],
    });
    expect(runRule(ciStaticCloudKeyRule, snap)).toEqual([]);
  });
});
