import { describe, expect, it } from 'vitest';
import { crossEnvironmentSecretRule } from './nhi8-environment-isolation.js';
import { findingId } from './posture-rule.js';
import {
  credential,
  identity,
  NOW,
  runRule,
  SHARED,
  sharedSecretSnapshot,
  snapshot,
} from './test-support/posture-fixtures.js';

const snap = sharedSecretSnapshot();

describe('nhi8-cross-environment-secret', () => {
  it('reports every identity holding a secret used in two environments; critical when one is production', () => {
    const findings = runRule(crossEnvironmentSecretRule, snap);
    expect(findings.map((f) => [f.identityId, f.credentialId, f.severity])).toEqual([
      ['i1', 'c1', 'critical'],
      ['i2', 'c2', 'critical'],
      ['i3', 'c3', 'critical'],
    ]);
    expect(findings[0]).toEqual({
      id: findingId('nhi8-cross-environment-secret', ['i1', 'c1']),
      ruleId: 'nhi8-cross-environment-secret',
      owasp: 'NHI8',
      severity: 'critical',
      title: 'Secret used across environments',
      message:
        'Secret OPENAI_API_KEY (sk-p…Zz9A) of identity "api-prod" is used in environments prod, staging (also held by "api-staging", "laptop-script").',
      remediation:
        'Issue a separate credential per environment, store each in that environment’s secret store, and revoke the shared one.',
      identityId: 'i1',
      credentialId: 'c1',
      evidence: {
        identity: 'api-prod',
        environment: 'prod',
        fingerprint: 'deadbeefcafe',
        environments: ['prod', 'staging'],
        otherIdentities: ['api-staging', 'laptop-script'],
        otherIdentityCount: 2,
      },
      firstSeenAt: NOW.toISOString(),
      lastSeenAt: NOW.toISOString(),
    });
  });

  it('is high when no environment is production', () => {
    const s = snapshot({
      identities: [
        identity({ id: 'i1', name: 'a', environment: 'dev' }),
        identity({ id: 'i2', name: 'b', environment: 'staging' }),
      ],
      credentials: [
        credential({ id: 'c1', identityId: 'i1', fingerprint: SHARED }),
        credential({ id: 'c2', identityId: 'i2', fingerprint: SHARED }),
      ],
    });
    expect(runRule(crossEnvironmentSecretRule, s).map((f) => f.severity)).toEqual(['high', 'high']);
  });

  it('does not report a secret shared within one environment (null is not an environment)', () => {
    const s = snapshot({
      identities: [
        identity({ id: 'i1', name: 'a', environment: 'staging' }),
        identity({ id: 'i2', name: 'b', environment: 'STAGING ' }),
        identity({ id: 'i3', name: 'c', environment: null }),
      ],
      credentials: [
        credential({ id: 'c1', identityId: 'i1', fingerprint: SHARED }),
        credential({ id: 'c2', identityId: 'i2', fingerprint: SHARED }),
        credential({ id: 'c3', identityId: 'i3', fingerprint: SHARED }),
      ],
    });
    expect(runRule(crossEnvironmentSecretRule, s)).toEqual([]);
  });
});
