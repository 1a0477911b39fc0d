/** NHI5 Overprivileged NHI: admin and wildcard grants, and grants that allow privilege escalation. */
import type { Grant, Identity } from '../../core/types.js';
import { isProductionEnvironment, type PostureContext } from './posture-context.js';
import { canEscalate, escalationActions, isOverprivilegedGrant } from './grant-privilege.js';
import { definePostureRule, type PostureRule } from './posture-rule.js';

/** The grants matching `offending`, grouped by identity position, identities in snapshot order. */
function offendingGrantsByIdentity(
  ctx: PostureContext,
  offending: (g: Grant) => boolean,
): Array<[identity: Identity, grants: Grant[]]> {
  const byOwner = new Map<number, Grant[]>();
  const grants = ctx.snapshot.grants;
  for (let k = 0; k < grants.length; k++) {
    const owner = ctx.grantOwner[k]!;
    const g = grants[k]!;
    if (owner < 0 || !offending(g)) continue;
    const list = byOwner.get(owner);
    if (list) list.push(g);
    else byOwner.set(owner, [g]);
  }
  return [...byOwner.keys()].sort((a, b) => a - b).map((i) => [ctx.snapshot.identities[i]!, byOwner.get(i)!]);
}

/** The distinct sources of some grants, sorted. */
function sourcesOf(grants: readonly Grant[]): string[] {
  return [...new Set(grants.map((g) => g.source))].sort();
}

/** NHI5: admin grants, or wildcard actions (`*`, `s3:*`) on every resource; one finding per identity. */
export const overprivilegedRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi5-overprivileged',
    title: 'Admin or wildcard permissions',
    owasp: 'NHI5',
    severity: 'high',
    tags: ['least-privilege', 'permissions'],
    docs:
      'The identity holds an admin/full-access policy or role, or a grant allowing a wildcard action ' +
      '(`*` or a service-wide `s3:*`) on every resource (`*`). A stolen credential then reaches everything. ' +
      'High; critical in production. One finding per identity listing the offending grants.',
  },
  remediation:
    'Replace the admin and wildcard grants with policies listing the actions and resources the workload uses (start from its access logs).',
  check(ctx, report) {
    for (const [identity, offending] of offendingGrantsByIdentity(ctx, isOverprivilegedGrant)) {
      const production = isProductionEnvironment(identity.environment);
      const sources = sourcesOf(offending);
      report({
        identityId: identity.id,
        severity: production ? 'critical' : 'high',
        message: `Identity "${identity.name}" has admin or wildcard permissions from ${sources.join(', ')}.`,
        evidence: {
          identity: identity.name,
          environment: identity.environment,
          production,
          sources,
          grants: offending.map((g) => ({
            source: g.source,
            admin: g.admin,
            actions: g.actions,
            resources: g.resources,
          })),
        },
      });
    }
  },
});

/** NHI5: `iam:*` or `iam:PassRole` on every resource, which lets the identity grant itself more. */
export const privilegeEscalationRule: PostureRule = definePostureRule({
  meta: {
    id: 'nhi5-privilege-escalation',
    title: 'Can escalate its own privileges',
    owasp: 'NHI5',
    severity: 'high',
    tags: ['least-privilege', 'permissions', 'aws', 'iam'],
    docs:
      'A grant allows `iam:*` or `iam:PassRole` on `*`: the identity can create or attach policies, or hand ' +
      'any role to a service it controls, and so become admin whatever its other grants say.',
  },
  remediation:
    'Remove iam:* and restrict iam:PassRole to the specific role ARNs the workload must pass (with an iam:PassedToService condition).',
  check(ctx, report) {
    for (const [identity, offending] of offendingGrantsByIdentity(ctx, canEscalate)) {
      const actions = new Set<string>();
      for (const g of offending) for (const a of escalationActions(g)) actions.add(a);
      const sources = sourcesOf(offending);
      const actionList = [...actions].sort();
      report({
        identityId: identity.id,
        message: `Identity "${identity.name}" can escalate its privileges: ${actionList.join(', ')} on * from ${sources.join(', ')}.`,
        evidence: {
          identity: identity.name,
          environment: identity.environment,
          sources,
          actions: actionList,
        },
      });
    }
  },
});

/** The NHI5 rules, in evaluation order. */
export const NHI5_RULES: readonly PostureRule[] = [overprivilegedRule, privilegeEscalationRule];
