/**
 * Positions of identities and of each record's identity, shared by evaluatePosture and computeRiskScores.
 * Snapshots are treated as immutable: the index of an array is kept (weakly) while the array lives and reused
 * when the same array is passed again with the same length, so a refresh indexes the snapshot once.
 */
import type { Identity } from '../../core/types.js';

const identityIndexes = new WeakMap<readonly Identity[], { size: number; index: Map<string, number> }>();
const ownerIndexes = new WeakMap<
  readonly { identityId: string }[],
  { identities: readonly Identity[]; size: number; owners: Int32Array }
>();

/** Position of every identity id in the list. */
export function indexIdentities(identities: readonly Identity[]): ReadonlyMap<string, number> {
  const cached = identityIndexes.get(identities);
  if (cached && cached.size === identities.length) return cached.index;
  const index = new Map<string, number>();
  for (let i = 0; i < identities.length; i++) index.set(identities[i]!.id, i);
  identityIndexes.set(identities, { size: identities.length, index });
  return index;
}

/** Position in `identities` of each record's identity (by `identityId`); -1 when it is not there. */
export function ownerPositions(
  records: readonly { identityId: string }[],
  identities: readonly Identity[],
): Int32Array {
  const cached = ownerIndexes.get(records);
  if (cached && cached.identities === identities && cached.size === records.length) return cached.owners;
  const index = indexIdentities(identities);
  const owners = new Int32Array(records.length);
  for (let k = 0; k < records.length; k++) owners[k] = index.get(records[k]!.identityId) ?? -1;
  ownerIndexes.set(records, { identities, size: records.length, owners });
  return owners;
}
