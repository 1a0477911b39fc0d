/** NHI6 Insecure Cloud Deployment Configurations: CI pipelines holding static cloud keys instead of OIDC. */
import type { Credential } from '../../core/types.js';
import {
  CREDENTIAL_FLAG,
  CREDENTIAL_TYPE_CODE,
  describeCredential,
  fingerprintPrefix,
  type CredentialFacts,
} from './posture-context.js';
import { definePostureRule, type PostureRule } from './posture-rule.js';

const CLOUD_PROVIDERS: ReadonlySet<string> = new Set(['aws', 'gcp', 'google', 'azure']);
const CLOUD_KEY_TYPES: ReadonlySet<Credential['type']> = new Set([
  'api-key',
  'private-key',
  'service-account-token',
]);

/** Every type a static cloud key can have. */
const CANDIDATE_TYPES: ReadonlySet<Credential['type']> = new Set(['access-key', ...CLOUD_KEY_TYPES]);

/** True for a static cloud key: any access key, or an API key / service-account key issued by AWS, GCP or Azure. */
export function isStaticCloudKey(c: Credential): boolean {
  if (c.type === 'access-key') return true;
  return CLOUD_PROVIDERS.has(c.provider.toLowerCase()) && CLOUD_KEY_TYPES.has(c.type);
}

/** NHI6: a CI pipeline holds an active static cloud key; one finding per key. */
export const ciStaticCloudKeyRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi6-ci-static-cloud-key',
    title: 'CI pipeline uses a static cloud key',
    owasp: 'NHI6',
    severity: 'high',
    tags: ['ci', 'cloud', 'oidc'],
    docs:
      'A CI pipeline holds a long-lived cloud key (an AWS access key, a GCP service-account key, an Azure ' +
      'secret) stored as a CI secret. Any job, fork or leaked log can use it from anywhere. CI providers ' +
      'federate to every major cloud with OIDC, issuing credentials that live for one job.',
  },
  remediation:
    'Configure OIDC federation between the CI provider and the cloud (a role trusted for this repository and branch), then delete the static key.',
  check(ctx, report) {
    const candidates = [...CANDIDATE_TYPES].map((t) => CREDENTIAL_TYPE_CODE[t]);
    const select = (f: CredentialFacts, k: number): boolean =>
      (f.flags[k]! & CREDENTIAL_FLAG.active) !== 0 && candidates.includes(f.type[k]!);
    ctx.selectCredentials(select, (c, identity) => {
      if (identity.kind !== 'ci-pipeline' || !isStaticCloudKey(c)) return;
      report({
        identityId: identity.id,
        credentialId: c.id,
        message: `CI pipeline "${identity.name}" holds the static ${c.provider} key ${describeCredential(c)} instead of using OIDC federation.`,
        evidence: {
          identity: identity.name,
          type: c.type,
          provider: c.provider,
          fingerprint: fingerprintPrefix(c.fingerprint),
        },
      });
    });
  },
});

/** The NHI6 rules, in evaluation order. */
export const NHI6_RULES: readonly PostureRule[] = [ciStaticCloudKeyRule];
