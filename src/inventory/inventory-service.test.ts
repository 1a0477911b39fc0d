import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFingerprinter } from '../core/fingerprint.js';
import { fixedClock } from '../core/time.js';
import { createSqliteStore } from '../store/index.js';
import { createInventoryService } from './inventory-service.js';
import { DEFAULT_POSTURE_CONFIG } from './posture/posture-types.js';

const k8s = readFileSync(new URL('./importers/fixtures/kubernetes/cluster.json', import.meta.url));

async function service() {
  const store = createSqliteStore({ filename: ':memory:' });
  await store.migrate();
  const inventory = createInventoryService({
    store,
    fingerprinter: createFingerprinter(Buffer.alloc(32, 5)),
    clock: fixedClock('2026-06-01T00:00:00.000Z'),
    posture: DEFAULT_POSTURE_CONFIG,
    maxImportBytes: 1 << 20,
  });
  return { store, inventory };
}

describe('inventory service imports', () => {
  it('keeps two clusters with the same namespaces apart when each import names its cluster', async () => {
    const { store, inventory } = await service();
    const a = await inventory.importFile({
      kind: 'kubernetes',
      fileName: 'a.json',
      content: k8s,
      actor: 't',
      options: { cluster: 'eu' },
    });
    const b = await inventory.importFile({
      kind: 'kubernetes',
      fileName: 'b.json',
      content: k8s,
      actor: 't',
      options: { cluster: 'us' },
    });
    expect(b.changes.identities.created).toBe(a.changes.identities.created);
    const all = await store.listIdentities({ provider: 'kubernetes', limit: 1000 });
    expect(all.total).toBe(2 * a.changes.identities.created);
    expect(new Set(all.items.map((i) => i.externalId.split('/')[0]))).toEqual(new Set(['eu', 'us']));
    // Without a cluster the same file merges into neither.
    const c = await inventory.importFile({
      kind: 'kubernetes',
      fileName: 'c.json',
      content: k8s,
      actor: 't',
    });
    expect(c.changes.identities.created).toBe(a.changes.identities.created);
    await store.close();
  });

  it('rejects an option the importer does not take, and a malformed cluster name, storing nothing', async () => {
    const { store, inventory } = await service();
    await expect(
      inventory.importFile({
        kind: 'dotenv',
        fileName: '.env',
        content: Buffer.from('A=1\n'),
        actor: 't',
        options: { cluster: 'eu' },
      }),
    ).rejects.toMatchObject({
      code: 'KW_VALIDATION',
      message: 'the dotenv importer does not take the option "cluster"',
    });
    await expect(
      inventory.importFile({
        kind: 'kubernetes',
        fileName: 'a.json',
        content: k8s,
        actor: 't',
        options: { cluster: 'EU West' },
      }),
    ).rejects.toMatchObject({
      code: 'KW_VALIDATION',
      details: [{ path: 'cluster', message: 'invalid cluster name' }],
    });
    expect((await store.stats()).identities).toBe(0);
    expect((await store.stats()).events).toBe(0);
    await store.close();
  });

  it('rejects a file over the import limit before parsing it', async () => {
    const { store, inventory } = await service();
    await expect(
      inventory.importFile({
        kind: 'dotenv',
        fileName: 'big.env',
        content: Buffer.alloc((1 << 20) + 1, 65),
        actor: 't',
      }),
    ).rejects.toMatchObject({
      code: 'KW_INVALID_IMPORT',
      message: 'big.env: the file is 1.0 MiB, over the import limit of 1 MiB',
    });
    await store.close();
  });
});
