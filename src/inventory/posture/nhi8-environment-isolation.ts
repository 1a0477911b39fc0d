/** NHI8 Environment Isolation: one secret used across environments (say staging and production). */
import { describeCredential, fingerprintPrefix, isProductionEnvironment } from './posture-context.js';
import { definePostureRule, type PostureRule } from './posture-rule.js';
import { eachSharedFingerprint, listForMessage, otherNames } from './shared-fingerprints.js';

/** The environment as compared across identities: trimmed and lower case; null when unset. */
function environmentKey(environment: string | null): string | null {
  const e = environment?.trim().toLowerCase() ?? '';
  return e === '' ? null : e;
}

/**
 * NHI8: the same fingerprint is held by identities in two or more different environments (identities with no
 * environment do not make one); one finding per identity holding it.
 */
export const crossEnvironmentSecretRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi8-cross-environment-secret',
    title: 'Secret used across environments',
    owasp: 'NHI8',
    severity: 'high',
    tags: ['environment-isolation', 'secrets', 'reuse'],
    docs:
      'The same secret is held by identities in different environments, so a leak from a less protected ' +
      'one (dev, staging, a laptop) opens the others. High; critical when one of them is production.',
  },
  remediation:
    'Issue a separate credential per environment, store each in that environment’s secret store, and revoke the shared one.',
  check(ctx, report) {
    eachSharedFingerprint(ctx, (fingerprint, holders) => {
      const environments = new Set<string>();
      for (const h of holders) {
        const e = environmentKey(h.identity.environment);
        if (e !== null) environments.add(e);
      }
      if (environments.size < 2) return;
      const envList = [...environments].sort();
      const production = envList.some(isProductionEnvironment);
      for (const self of holders) {
        const others = otherNames(holders, self);
        const otherCount = holders.length - 1;
        report({
          identityId: self.identity.id,
          credentialId: self.credential.id,
          severity: production ? 'critical' : 'high',
          message: `Secret ${describeCredential(self.credential)} of identity "${self.identity.name}" is used in environments ${envList.join(', ')} (also held by ${listForMessage(others, otherCount)}).`,
          evidence: {
            identity: self.identity.name,
            environment: self.identity.environment,
            fingerprint: fingerprintPrefix(fingerprint),
            environments: envList,
            otherIdentities: others,
            otherIdentityCount: otherCount,
          },
        });
      }
    });
  },
});

/** The NHI8 rules, in evaluation order. */
export const NHI8_RULES: readonly PostureRule[] = [crossEnvironmentSecretRule];
