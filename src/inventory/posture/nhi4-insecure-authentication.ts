/** NHI4 Insecure Authentication: passwords, basic auth, classic GitHub PATs and AWS console passwords. */
import type { Credential, CredentialType } from '../../core/types.js';
import {
  CREDENTIAL_TYPE_CODE,
  describeCredential,
  fingerprintPrefix,
  type PostureContext,
} from './posture-context.js';
import { definePostureRule, type FindingDraft, type PostureRule } from './posture-rule.js';

/** Reports every credential (of a known identity) of one of `types` that `matches`, one message per credential. */
function checkCredentials(
  ctx: PostureContext,
  report: (draft: FindingDraft) => void,
  types: readonly CredentialType[],
  matches: (c: Credential) => boolean,
  message: (c: Credential, identityName: string) => string,
): void {
  const codes = types.map((t) => CREDENTIAL_TYPE_CODE[t]);
  ctx.selectCredentials(
    (f, k) => codes.includes(f.type[k]!),
    (c, identity) => {
      if (!matches(c)) return;
      report({
        identityId: identity.id,
        credentialId: c.id,
        message: message(c, identity.name),
        evidence: {
          identity: identity.name,
          type: c.type,
          provider: c.provider,
          status: c.status,
          fingerprint: fingerprintPrefix(c.fingerprint),
        },
      });
    },
  );
}

const isAws = (c: Credential): boolean => c.provider.toLowerCase() === 'aws';

/** NHI4: a static password or HTTP basic-auth credential (AWS console passwords have their own rule). */
export const staticPasswordRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi4-static-password',
    title: 'Static password or basic auth',
    owasp: 'NHI4',
    severity: 'high',
    tags: ['authentication', 'password'],
    docs:
      'The identity authenticates with a password or HTTP basic auth: a long-lived shared secret that is ' +
      'replayable from anywhere, rarely rotated, and usually not bound to the workload.',
  },
  remediation:
    'Replace the password with federated or short-lived credentials (OIDC, workload identity, a role), or a scoped, rotated key.',
  check: (ctx, report) =>
    checkCredentials(
      ctx,
      report,
      ['password', 'basic-auth'],
      (c) => c.type === 'basic-auth' || !isAws(c),
      (c, name) =>
        `Identity "${name}" authenticates with a static ${c.type === 'basic-auth' ? 'basic-auth credential' : 'password'} ${describeCredential(c)}.`,
    ),
});

/** True for a classic (not fine-grained) GitHub personal access token. */
export function isClassicPat(c: Credential): boolean {
  return c.type === 'pat' && (c.attributes.classic === true || c.preview.startsWith('ghp_'));
}

/** NHI4: a classic GitHub personal access token. */
export const classicPatRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi4-classic-pat',
    title: 'Classic GitHub personal access token',
    owasp: 'NHI4',
    severity: 'medium',
    tags: ['authentication', 'github'],
    docs:
      'Classic PATs carry coarse scopes over every repository the user can reach, are tied to a human ' +
      'account, and often never expire. Fine-grained tokens or a GitHub App are scoped to repositories.',
  },
  remediation:
    'Replace the classic PAT with a GitHub App installation token or a fine-grained PAT with an expiry.',
  check: (ctx, report) =>
    checkCredentials(
      ctx,
      report,
      ['pat'],
      isClassicPat,
      (c, name) =>
        `Identity "${name}" uses the classic GitHub personal access token ${describeCredential(c)}.`,
    ),
});

/** NHI4: an AWS console (login profile) password on a machine user. */
export const awsConsolePasswordRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi4-aws-console-password',
    title: 'AWS console password on a machine user',
    owasp: 'NHI4',
    severity: 'high',
    tags: ['authentication', 'aws', 'password'],
    docs:
      'A machine IAM user has a console password (login profile): nothing automated needs one, and it lets ' +
      'a person log in interactively as the machine identity.',
  },
  remediation:
    'Delete the IAM user’s login profile; machine access should use roles or short-lived keys only.',
  check: (ctx, report) =>
    checkCredentials(
      ctx,
      report,
      ['password'],
      isAws,
      (c, name) => `Machine identity "${name}" has an AWS console password ${describeCredential(c)}.`,
    ),
});

/** The NHI4 rules, in evaluation order. */
export const NHI4_RULES: readonly PostureRule[] = [
  staticPasswordRule,
  classicPatRule,
  awsConsolePasswordRule,
];
