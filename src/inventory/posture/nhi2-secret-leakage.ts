/** NHI2 Secret Leakage: secret values found in files, configs and environment variables. */
import type { CredentialLocation } from '../../core/types.js';
import {
  CREDENTIAL_FLAG,
  describeCredential,
  fingerprintPrefix,
  isProductionEnvironment,
} from './posture-context.js';
import { isAdminGrant } from './grant-privilege.js';
import { definePostureRule, type PostureRule } from './posture-rule.js';

/** True for a location where a secret sits in plain text: a file, a config or an environment variable. */
const isLeakLocation = (l: CredentialLocation): boolean =>
  l.kind === 'file' || l.kind === 'config' || l.kind === 'env';

/** How a location is shown in evidence: `path:line key`, leaving out what is unknown. */
export function formatLocation(l: Pick<CredentialLocation, 'path' | 'line' | 'key'>): string {
  return `${l.path}${l.line === null ? '' : `:${l.line}`}${l.key ? ` ${l.key}` : ''}`;
}

/** NHI2: a secret value (fingerprinted from the value itself) sits in plain text in a file, config or env var. */
export const secretInPlaintextRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi2-secret-in-plaintext',
    title: 'Secret stored in plain text',
    owasp: 'NHI2',
    severity: 'high',
    tags: ['secrets', 'leakage', 'sprawl'],
    docs:
      'The secret value itself was found in a file, a config (such as an MCP client config) or an ' +
      'environment variable, where anyone or anything that reads it can use it. High; critical when the ' +
      'identity is in production or holds admin grants. One finding per credential listing every location.',
  },
  remediation:
    'Rotate the secret, remove it from the listed files and variables, and fetch it at run time from a secrets manager or the Keyward broker.',
  check(ctx, report) {
    const leaked = CREDENTIAL_FLAG.valueFingerprint | CREDENTIAL_FLAG.plaintextLocation;
    ctx.selectCredentials(
      (f, k) => (f.flags[k]! & leaked) === leaked,
      (c, identity, k) => {
        const locations = c.locations.filter(isLeakLocation).map(formatLocation);
        const production = isProductionEnvironment(identity.environment);
        const adminSources = ctx
          .grantsOf(ctx.credentialFacts.owner[k]!)
          .filter(isAdminGrant)
          .map((g) => g.source);
        const shown = locations.slice(0, 3).join(', ');
        const more = locations.length > 3 ? ` and ${locations.length - 3} more` : '';
        report({
          identityId: identity.id,
          credentialId: c.id,
          severity: production || adminSources.length > 0 ? 'critical' : 'high',
          message: `Secret ${describeCredential(c)} of identity "${identity.name}" is stored in plain text at ${shown}${more}.`,
          evidence: {
            identity: identity.name,
            fingerprint: fingerprintPrefix(c.fingerprint),
            locations,
            environment: identity.environment,
            production,
            adminGrants: adminSources,
          },
        });
      },
    );
  },
});

/** The NHI2 rules, in evaluation order. */
export const NHI2_RULES: readonly PostureRule[] = [secretInPlaintextRule];
