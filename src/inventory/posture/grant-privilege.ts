/** Predicates over grants shared by the NHI5 rules and the risk score. */
import type { Grant } from '../../core/types.js';

/** True for `*` and a service-wide wildcard such as `s3:*`, `iam:*` or `*:*`. */
export function isWildcardAction(action: string): boolean {
  if (action === '*') return true;
  const colon = action.indexOf(':');
  return colon > 0 && action.slice(colon + 1) === '*';
}

/** True when the grant applies to every resource (`*`). */
export function hasWildcardResource(grant: Grant): boolean {
  return grant.resources.includes('*');
}

/** True for an allow grant from a known admin policy, or `*` actions on `*` resources. */
export function isAdminGrant(grant: Grant): boolean {
  return (
    grant.effect === 'allow' && (grant.admin || (grant.actions.includes('*') && hasWildcardResource(grant)))
  );
}

/** True for an allow grant that is admin, or allows a wildcard action (`*`, `s3:*`) on every resource. */
export function isOverprivilegedGrant(grant: Grant): boolean {
  if (grant.effect !== 'allow') return false;
  if (grant.admin) return true;
  return hasWildcardResource(grant) && grant.actions.some(isWildcardAction);
}

const ESCALATION_ACTIONS = new Set(['iam:*', 'iam:passrole']);

/** True for an allow grant on `*` with `iam:*` or `iam:PassRole` (no allocation: used once per grant per run). */
export function canEscalate(grant: Grant): boolean {
  if (grant.effect !== 'allow' || !hasWildcardResource(grant)) return false;
  for (const a of grant.actions) if (ESCALATION_ACTIONS.has(a.toLowerCase())) return true;
  return false;
}

/** The actions of an allow grant on `*` that let the holder escalate (`iam:*`, `iam:PassRole`); empty when none. */
export function escalationActions(grant: Grant): string[] {
  if (grant.effect !== 'allow' || !hasWildcardResource(grant)) return [];
  // IAM action names are case-insensitive.
  return grant.actions.filter((a) => ESCALATION_ACTIONS.has(a.toLowerCase()));
}
