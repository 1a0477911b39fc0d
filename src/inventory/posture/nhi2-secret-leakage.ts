/** NHI2 Secret Leakage: secret values found in files, configs and environment variables. */
import type { CredentialLocation } from '../../core/types.js';
import { describeCredential, fingerprintPrefix, isProductionEnvironment } from './posture-context.js';
import { isAdminGrant } from './grant-privilege.js';
import { definePostureRule, type PostureRule } from './posture-rule.js';

const LEAK_KINDS: ReadonlySet<CredentialLocation['kind']> = new Set(['file', 'config', 'env']);

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
    for (const c of ctx.snapshot.credentials) {
      if (c.fingerprintSource !== 'value') continue;
      const locations: string[] = [];
      for (const l of c.locations) if (LEAK_KINDS.has(l.kind)) locations.push(formatLocation(l));
      if (locations.length === 0) continue;
      const identity = ctx.identityById.get(c.identityId);
      if (!identity) continue;
      const production = isProductionEnvironment(identity.environment);
      const adminSources = ctx
        .grantsOf(identity.id)
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
    }
  },
});

/** The NHI2 rules, in evaluation order. */
export const NHI2_RULES: readonly PostureRule[] = [secretInPlaintextRule];
