import { describe, expect, it } from 'vitest';
import { sharedSecretRule } from './nhi9-reuse.js';
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

describe('nhi9-shared-secret', () => {
  it('reports every identity holding a secret another identity also holds, as high', () => {
    const findings = runRule(sharedSecretRule, snap);
    expect(findings.map((f) => [f.ruleId, f.owasp, f.identityId, f.credentialId, f.severity])).toEqual([
      ['nhi9-shared-secret', 'NHI9', 'i1', 'c1', 'high'],
      ['nhi9-shared-secret', 'NHI9', 'i2', 'c2', 'high'],
      ['nhi9-shared-secret', 'NHI9', 'i3', 'c3', 'high'],
    ]);
    expect(findings[0]).toEqual({
      id: findingId('nhi9-shared-secret', ['i1', 'c1']),
      ruleId: 'nhi9-shared-secret',
      owasp: 'NHI9',
      severity: 'high',
      title: 'Secret shared by several identities',
      message:
        'Secret OPENAI_API_KEY (sk-p…Zz9A) of identity "api-prod" is also held by "api-staging", "laptop-script".',
      remediation:
        'Issue each identity its own credential with only the access it needs, then revoke the shared one.',
      identityId: 'i1',
      credentialId: 'c1',
      evidence: {
        identity: 'api-prod',
        fingerprint: 'deadbeefcafe',
        otherIdentities: ['api-staging', 'laptop-script'],
        otherIdentityCount: 2,
      },
      firstSeenAt: NOW.toISOString(),
      lastSeenAt: NOW.toISOString(),
    });
    expect(findings[2]!.message).toBe(
      'Secret OPENAI_API_KEY (sk-p…Zz9A) of identity "laptop-script" is also held by "api-prod", "api-staging".',
    );
    expect(findings[2]!.evidence).toEqual({
      identity: 'laptop-script',
      fingerprint: 'deadbeefcafe',
      otherIdentities: ['api-prod', 'api-staging'],
      otherIdentityCount: 2,
    });
    expect(new Set(findings.map((f) => f.id)).size).toBe(3);
  });

  it('does not report unique secrets, or two credentials of one identity with the same fingerprint', () => {
    const s = snapshot({
      identities: [identity({ id: 'i1', name: 'a' }), identity({ id: 'i2', name: 'b' })],
      credentials: [
        credential({ id: 'c1', identityId: 'i1', fingerprint: SHARED }),
        credential({ id: 'c2', identityId: 'i1', fingerprint: SHARED, provider: 'other' }),
        credential({ id: 'c3', identityId: 'i2' }),
      ],
    });
    expect(runRule(sharedSecretRule, s)).toEqual([]);
  });

  it('names at most 20 other identities but counts them all', () => {
    const ids = Array.from({ length: 25 }, (_, k) => `i${String(k).padStart(2, '0')}`);
    const s = snapshot({
      identities: ids.map((id) => identity({ id, name: `svc-${id}` })),
      credentials: ids.map((id) => credential({ id: `c-${id}`, identityId: id, fingerprint: SHARED })),
    });
    const findings = runRule(sharedSecretRule, s);
    expect(findings).toHaveLength(25);
    expect(findings[0]!.evidence.otherIdentities).toHaveLength(20);
    expect(findings[0]!.evidence.otherIdentityCount).toBe(24);
    expect(findings[0]!.message).toBe(
      'Secret api-key (abcd…wxyz) of identity "svc-i00" is also held by "svc-i01", "svc-i02", "svc-i03" and 21 more.',
    );
  });
});
