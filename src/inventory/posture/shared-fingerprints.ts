/** Groups the credentials that share a fingerprint by the identity holding them (NHI8, NHI9). */
import type { Credential, Identity } from '../../core/types.js';
import type { PostureContext } from './posture-context.js';

/** One identity holding a shared fingerprint, through one of its credentials. */
export interface FingerprintHolder {
  identity: Identity;
  /** The identity's first credential (in snapshot order) with the fingerprint. */
  credential: Credential;
}

/** At most this many other identities are named in one finding's evidence; the count is always exact. */
export const MAX_LISTED_IDENTITIES = 20;

/** Calls `visit` for every fingerprint held by two or more different identities, with one holder per identity. */
export function eachSharedFingerprint(
  ctx: PostureContext,
  visit: (fingerprint: string, holders: FingerprintHolder[]) => void,
): void {
  const identities = ctx.snapshot.identities;
  for (const credentials of ctx.sharedFingerprints()) {
    const holders: FingerprintHolder[] = [];
    const seen = new Set<number>();
    for (const c of credentials) {
      const i = ctx.identityIndex.get(c.identityId)!;
      if (seen.has(i)) continue;
      seen.add(i);
      holders.push({ identity: identities[i]!, credential: c });
    }
    if (holders.length >= 2) visit(credentials[0]!.fingerprint, holders);
  }
}

/** The sorted names of the holders other than `self`, capped at MAX_LISTED_IDENTITIES. */
export function otherNames(holders: readonly FingerprintHolder[], self: FingerprintHolder): string[] {
  const names: string[] = [];
  for (const h of holders) if (h !== self) names.push(h.identity.name);
  names.sort();
  return names.slice(0, MAX_LISTED_IDENTITIES);
}

/** Names for a message: up to three, then how many more. */
export function listForMessage(names: readonly string[], total: number): string {
  const shown = names
    .slice(0, 3)
    .map((n) => `"${n}"`)
    .join(', ');
  return total > 3 ? `${shown} and ${total - 3} more` : shown;
}
