/**
 * Turns scan findings into an inventory batch: one credential per fingerprint with every place it was found.
 * A credential the inventory already holds keeps its identity; any other gets a new identity of unknown owner
 * (`discovered:<fingerprint prefix>`), so posture rules (NHI2 plaintext secrets, NHI8/NHI9 reuse) see it.
 */
import { isAbsolute, join } from 'node:path';
import {
  emptyBatch,
  type IdentityRef,
  type InventoryBatch,
  type LocationInput,
} from '../core/inventory-batch.js';
import type { SecretFinding } from './secret-types.js';

/** Provider used for identities a scan creates when a finding's rule has no provider of its own. */
export const DISCOVERED_PROVIDER = 'discovered';

function location(f: SecretFinding, scanRoot: string): LocationInput {
  if (f.origin.kind === 'env') return { kind: 'env', path: 'environment', line: null, key: f.origin.path };
  const base =
    f.origin.kind === 'file' && !isAbsolute(f.origin.path) ? join(scanRoot, f.origin.path) : f.origin.path;
  const path = f.origin.commit ? `${f.origin.commit.sha.slice(0, 12)}:${f.origin.path}` : base;
  return {
    kind: f.keyName && f.origin.kind === 'file' ? 'config' : 'file',
    path,
    line: f.line,
    key: f.keyName,
  };
}

/**
 * Builds the batch; `existingCredential` finds the identity already holding a fingerprint.
 * @example
 * const { batch } = await findingsToInventoryBatch(report.findings, { existingCredential, now, scanRoot });
 */
export async function findingsToInventoryBatch(
  findings: readonly SecretFinding[],
  opts: {
    existingCredential: (fingerprint: string) => Promise<IdentityRef | null>;
    now: string;
    scanRoot: string;
  },
): Promise<{ batch: InventoryBatch; identitiesCreated: number }> {
  const batch = emptyBatch();
  const byFingerprint = new Map<string, SecretFinding[]>();
  for (const f of findings) {
    const list = byFingerprint.get(f.fingerprint) ?? [];
    list.push(f);
    byFingerprint.set(f.fingerprint, list);
  }
  let identitiesCreated = 0;
  for (const [fingerprint, list] of byFingerprint) {
    const f = list[0]!;
    let identity = await opts.existingCredential(fingerprint);
    if (!identity) {
      identity = {
        provider: f.provider === 'generic' ? DISCOVERED_PROVIDER : f.provider,
        externalId: `discovered:${fingerprint.slice(0, 16)}`,
      };
      batch.identities.push({
        ...identity,
        name: `${f.provider === 'generic' ? 'unknown' : f.provider} credential ${f.preview}`,
        kind: 'other',
        kindIsGuess: true,
        owner: null,
        description: `Created by keyward scan: a ${f.title} found in ${list.length} place(s); owner unknown.`,
        tags: ['discovered'],
        lastSeenAt: opts.now,
      });
      identitiesCreated++;
    }
    batch.credentials.push({
      identity,
      type: f.type,
      provider: f.provider,
      fingerprint,
      fingerprintSource: 'value',
      preview: f.preview,
      name: f.keyName,
      status: 'active',
      attributes: { ruleId: f.ruleId, verifiedFormat: f.verifiedFormat, discoveredBy: 'keyward scan' },
      locations: list.map((x) => location(x, opts.scanRoot)),
    });
  }
  return { batch, identitiesCreated };
}
