import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createFingerprinter } from '../../core/fingerprint.js';
import type { InventoryBatch } from '../../core/inventory-batch.js';
import { fixedClock } from '../../core/time.js';
import type { IdentityKind, OwaspNhiId } from '../../core/types.js';
import { createSqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { Store } from '../../store/store-types.js';
import { createInventoryService } from '../inventory-service.js';
import { DEFAULT_POSTURE_CONFIG } from '../posture/posture-types.js';
import { POSTURE_RULES } from '../posture/index.js';
import { DEMO_IDENTITIES, DEMO_PEOPLE } from './demo-company.js';
import { buildDemoBatches, demoAnchor, listDemoSecretValues } from './demo-data.js';

const NOW = new Date('2026-03-14T15:09:26.535Z');
const fingerprinter = createFingerprinter(Buffer.alloc(32, 7));

const allOf = <K extends keyof InventoryBatch>(
  batches: ReturnType<typeof buildDemoBatches>,
  key: K,
): Array<InventoryBatch[K][number]> => batches.flatMap<InventoryBatch[K][number]>((b) => b.batch[key]);

describe('buildDemoBatches', () => {
  const batches = buildDemoBatches(fingerprinter, NOW);

  it('arrives as the five named batches, directory first', () => {
    expect(batches.map((b) => b.name)).toEqual([
      'directory',
      'aws',
      'kubernetes',
      'github',
      'agents-and-mcp',
    ]);
    expect(batches[0]!.batch.people).toHaveLength(20);
    expect(batches[0]!.batch.identities).toHaveLength(0);
  });

  it('describes about 50 identities of every main kind across prod, staging and dev', () => {
    const identities = allOf(batches, 'identities');
    expect(identities.length).toBeGreaterThanOrEqual(45);
    expect(identities.length).toBeLessThanOrEqual(55);
    const kinds = new Set(identities.map((i) => i.kind));
    const main: IdentityKind[] = [
      'ai-agent',
      'service-account',
      'ci-pipeline',
      'bot',
      'mcp-server',
      'workload',
    ];
    for (const k of main) expect(kinds, k).toContain(k);
    expect(new Set(identities.map((i) => i.environment))).toEqual(new Set(['prod', 'staging', 'dev']));
    const keys = identities.map((i) => `${i.provider}:${i.externalId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(allOf(batches, 'credentials').length).toBeGreaterThanOrEqual(30);
    expect(allOf(batches, 'grants').length).toBeGreaterThanOrEqual(40);
    expect(allOf(batches, 'resources').length).toBeGreaterThanOrEqual(20);
  });

  it('has a directory with people who left and one who is suspended', () => {
    const people = allOf(batches, 'people');
    expect(people.filter((p) => p.status === 'left')).toHaveLength(3);
    expect(people.filter((p) => p.status === 'suspended')).toHaveLength(1);
    for (const p of people.filter((x) => x.status !== 'active')) expect(p.leftAt).toMatch(/^\d{4}-/);
  });

  it('is deterministic: the same day gives the same batches, whatever the time of day', () => {
    expect(buildDemoBatches(fingerprinter, NOW)).toEqual(batches);
    const laterSameDay = new Date(demoAnchor(NOW).getTime() + 23 * 3600_000);
    expect(buildDemoBatches(fingerprinter, laterSameDay)).toEqual(batches);
    const nextWeek = buildDemoBatches(fingerprinter, new Date(NOW.getTime() + 7 * 86_400_000));
    expect(allOf(nextWeek, 'credentials').map((c) => c.fingerprint)).toEqual(
      allOf(batches, 'credentials').map((c) => c.fingerprint),
    );
    expect(allOf(nextWeek, 'identities')[0]!.lastSeenAt).not.toBe(
      allOf(batches, 'identities')[0]!.lastSeenAt,
    );
  });

  it('computes every time relative to now: nothing was created or seen in the future', () => {
    const t = NOW.toISOString();
    for (const i of allOf(batches, 'identities')) {
      expect(i.createdAt! < t).toBe(true);
      expect(i.lastSeenAt! < t).toBe(true);
    }
    for (const c of allOf(batches, 'credentials')) {
      expect(c.createdAt! < t).toBe(true);
      if (c.lastUsedAt) expect(c.lastUsedAt < t).toBe(true);
      if (c.lastRotatedAt) expect(c.lastRotatedAt < t).toBe(true);
    }
  });

  it('never reveals more than 8 characters of a secret in a preview', () => {
    for (const c of allOf(batches, 'credentials')) {
      expect(c.preview.replace('…', '').length, c.preview).toBeLessThanOrEqual(8);
      expect(c.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('contains no fake secret value, nor the random part of one, anywhere in its JSON', () => {
    const json = JSON.stringify(batches);
    const secrets = listDemoSecretValues();
    expect(secrets.length).toBeGreaterThanOrEqual(20);
    for (const s of secrets) {
      const plain = s.value.startsWith('Basic ')
        ? Buffer.from(s.value.slice(6), 'base64').toString('utf8')
        : s.value;
      expect(plain).toMatch(/FAKE|EXAMPLE/);
      expect(json.includes(s.value), s.value.slice(0, 6)).toBe(false);
      expect(json.includes(s.core), s.value.slice(0, 6)).toBe(false);
    }
  });

  it('fingerprints with the installation key: another key gives other fingerprints', () => {
    const other = buildDemoBatches(createFingerprinter(Buffer.alloc(32, 9)), NOW);
    const a = allOf(batches, 'credentials').map((c) => c.fingerprint);
    const b = new Set(allOf(other, 'credentials').map((c) => c.fingerprint));
    expect(a.some((f) => b.has(f))).toBe(false);
  });

  it('lists every planted problem in docs/demo-data.md', () => {
    const doc = readFileSync(new URL('../../../docs/demo-data.md', import.meta.url), 'utf8');
    for (const i of DEMO_IDENTITIES) {
      if (i.planted.length === 0) continue;
      const row = doc.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${i.externalId}\``));
      expect(row, i.externalId).toBeDefined();
      for (const id of i.planted) expect(row, `${i.externalId} ${id}`).toContain(id);
    }
    for (const p of DEMO_PEOPLE) expect(doc, p.email).toContain(p.name);
  });
});

describe('the demo in a store', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  const open = async (): Promise<Store> => {
    store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    return store;
  };

  it('applies cleanly, and applying it again changes nothing', async () => {
    const s = await open();
    const batches = buildDemoBatches(fingerprinter, NOW);
    for (const { name, batch } of batches) {
      await s.applyInventoryBatch(batch, { time: NOW.toISOString(), actor: 'test', source: { file: name } });
    }
    const stats = await s.stats();
    expect(stats.identities).toBe(DEMO_IDENTITIES.length);
    expect(stats.people).toBe(20);
    const later = new Date(NOW.getTime() + 3600_000);
    for (const { name, batch } of buildDemoBatches(fingerprinter, later)) {
      const r = await s.applyInventoryBatch(batch, {
        time: later.toISOString(),
        actor: 'test',
        source: { file: name },
      });
      for (const counts of [r.identities, r.credentials, r.grants, r.resources, r.people]) {
        expect(counts.created + counts.updated, name).toBe(0);
      }
    }
    expect((await s.stats()).identities).toBe(DEMO_IDENTITIES.length);
  });

  it('produces every planted finding, and none on the healthy identities', async () => {
    expect(POSTURE_RULES.length).toBeGreaterThan(0);
    const s = await open();
    const inventory = createInventoryService({
      store: s,
      fingerprinter,
      clock: fixedClock(NOW),
      posture: DEFAULT_POSTURE_CONFIG,
      maxImportBytes: 1 << 20,
    });
    const { findings } = await inventory.loadDemo('test');
    expect(findings.open).toBeGreaterThan(0);
    const all = (await s.listFindings({ limit: 1000 })).items;
    const byIdentity = new Map<string, Set<OwaspNhiId>>();
    for (const f of all) {
      let set = byIdentity.get(f.identityId);
      if (!set) byIdentity.set(f.identityId, (set = new Set()));
      set.add(f.owasp);
    }
    const owasp = new Set(all.map((f) => f.owasp));
    for (const id of ['NHI1', 'NHI2', 'NHI4', 'NHI5', 'NHI6', 'NHI7', 'NHI8', 'NHI9'] as const) {
      expect(owasp, id).toContain(id);
    }
    const identities = (await s.listIdentities({ limit: 1000 })).items;
    const idOf = (externalId: string): string => identities.find((i) => i.externalId === externalId)!.id;
    for (const demo of DEMO_IDENTITIES) {
      const got = [...(byIdentity.get(idOf(demo.externalId)) ?? [])].sort();
      // Exactly what docs/demo-data.md promises: the planted findings, and nothing on a healthy identity.
      expect(got, demo.externalId).toEqual([...new Set(demo.planted)].sort());
    }
    // Loading the demo again (same day) leaves the findings as they were.
    const healthy = DEMO_IDENTITIES.filter((d) => d.planted.length === 0).map((d) => d.name);
    expect(healthy).toEqual(expect.arrayContaining(['code-review-agent', 'orders-api', 'billing-service']));
    expect(healthy.length).toBeGreaterThanOrEqual(20);
    const again = await inventory.loadDemo('test');
    expect(again.findings).toEqual({ open: findings.open, created: 0, resolved: 0 });
  });
});
