/** NHI9 NHI Reuse: one secret shared by several identities. */
import { describeCredential, fingerprintPrefix } from './posture-context.js';
import { definePostureRule, type PostureRule } from './posture-rule.js';
import { eachSharedFingerprint, listForMessage, otherNames } from './shared-fingerprints.js';

/** NHI9: the same fingerprint is held by two or more identities; one finding per identity involved. */
export const sharedSecretRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi9-shared-secret',
    title: 'Secret shared by several identities',
    owasp: 'NHI9',
    severity: 'high',
    tags: ['reuse', 'secrets', 'attribution'],
    docs:
      'The same secret (same keyed fingerprint) is held by two or more identities: actions cannot be ' +
      'attributed, one compromise is all of them, and rotating it breaks every holder at once. One finding ' +
      'per identity involved.',
  },
  remediation:
    'Issue each identity its own credential with only the access it needs, then revoke the shared one.',
  check(ctx, report) {
    eachSharedFingerprint(ctx, (fingerprint, holders) => {
      for (const self of holders) {
        const others = otherNames(holders, self);
        const otherCount = holders.length - 1;
        report({
          identityId: self.identity.id,
          credentialId: self.credential.id,
          message: `Secret ${describeCredential(self.credential)} of identity "${self.identity.name}" is also held by ${listForMessage(others, otherCount)}.`,
          evidence: {
            identity: self.identity.name,
            fingerprint: fingerprintPrefix(fingerprint),
            otherIdentities: others,
            otherIdentityCount: otherCount,
          },
        });
      }
    });
  },
});

/** The NHI9 rules, in evaluation order. */
export const NHI9_RULES: readonly PostureRule[] = [sharedSecretRule];
