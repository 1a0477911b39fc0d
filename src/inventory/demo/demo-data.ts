/**
 * Builds the demo company's inventory batches from the declarative description in demo-company.ts.
 * Secret values are generated here, fingerprinted, and dropped: only fingerprints and previews reach a batch.
 */
import type { Fingerprinter } from '../../core/fingerprint.js';
import { emptyBatch, type CredentialInput, type InventoryBatch } from '../../core/inventory-batch.js';
import { DAY_MS } from '../../core/time.js';
import { DEMO_IDENTITIES, DEMO_PEOPLE, DEMO_RESOURCES } from './demo-company.js';
import { fakeSecret, type FakeSecret } from './demo-random.js';
import { DEMO_BATCH_NAMES, type DemoBatchName, type DemoCredential } from './demo-types.js';

/**
 * The start of the UTC day of `now`. Every demo time is an offset from it, so loading the demo twice on the
 * same day yields identical batches (nothing changes), while the demo still looks current on any day.
 */
export function demoAnchor(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** ISO time `days` before the anchor (fractions allowed: 0.25 is six hours before). */
const agoFn =
  (anchor: number) =>
  (days: number): string =>
    new Date(anchor - Math.round(days * DAY_MS)).toISOString();

/** The fake secret behind a demo credential. */
function secretOf(c: DemoCredential): FakeSecret {
  return fakeSecret(c.secret.kind, c.secret.label);
}

/**
 * Every fake secret value the demo generates that is a real secret (not a public id such as an AWS access key
 * id or a certificate thumbprint), for tests that check none of them leaks into a batch.
 */
export function listDemoSecretValues(): FakeSecret[] {
  const out = new Map<string, FakeSecret>();
  for (const i of DEMO_IDENTITIES) {
    for (const c of i.credentials) {
      if ((c.fingerprintSource ?? 'value') !== 'value') continue;
      const s = secretOf(c);
      out.set(s.value, s);
    }
  }
  return [...out.values()];
}

/**
 * The demo company (Kestrel Dynamics, see docs/demo-data.md) as named batches in the order they must be
 * applied: the directory first so owners resolve, then one batch per source.
 * @example
 * for (const { name, batch } of buildDemoBatches(fingerprinter, new Date())) await store.applyInventoryBatch(batch, { time, actor: 'demo', source: { kind: 'demo', file: name } });
 */
export function buildDemoBatches(
  fingerprinter: Fingerprinter,
  now: Date,
): Array<{ name: string; batch: InventoryBatch }> {
  const anchor = demoAnchor(now).getTime();
  const ago = agoFn(anchor);
  const ahead = (days: number): string => ago(-days);
  const batches = new Map<DemoBatchName, InventoryBatch>(DEMO_BATCH_NAMES.map((n) => [n, emptyBatch()]));
  const batchOf = (n: DemoBatchName): InventoryBatch => batches.get(n)!;

  for (const p of DEMO_PEOPLE) {
    batchOf('directory').people.push({
      email: p.email,
      name: p.name,
      status: p.status,
      department: p.department,
      manager: p.manager,
      leftAt: p.leftDaysAgo === undefined ? null : ago(p.leftDaysAgo),
    });
  }

  for (const r of DEMO_RESOURCES) {
    batchOf(r.batch).resources.push({
      provider: r.provider,
      type: r.type,
      name: r.name,
      environment: r.environment,
      attributes: { ...(r.attributes ?? {}) },
    });
  }

  for (const i of DEMO_IDENTITIES) {
    const b = batchOf(i.batch);
    const ref = { provider: i.provider, externalId: i.externalId };
    b.identities.push({
      ...ref,
      name: i.name,
      kind: i.kind,
      environment: i.environment,
      owner: i.owner,
      sponsor: i.sponsor ?? null,
      description: i.description,
      tags: [...i.tags],
      attributes: { ...(i.attributes ?? {}), demo: true },
      createdAt: ago(i.createdDaysAgo),
      lastSeenAt: ago(i.lastSeenDaysAgo),
    });
    for (const c of i.credentials) {
      const secret = secretOf(c);
      const { fingerprint, preview } = fingerprinter.describe(secret.value);
      const credential: CredentialInput = {
        identity: ref,
        type: c.type,
        provider: c.provider,
        fingerprint,
        fingerprintSource: c.fingerprintSource ?? 'value',
        preview,
        externalId: c.valueIsExternalId ? secret.value : null,
        name: c.name,
        scopes: [...(c.scopes ?? [])],
        status: c.status ?? 'active',
        createdAt: ago(c.createdDaysAgo),
        expiresAt: c.expiresInDays === undefined || c.expiresInDays === null ? null : ahead(c.expiresInDays),
        lastUsedAt:
          c.lastUsedDaysAgo === undefined || c.lastUsedDaysAgo === null ? null : ago(c.lastUsedDaysAgo),
        lastRotatedAt:
          c.rotatedDaysAgo === undefined || c.rotatedDaysAgo === null ? null : ago(c.rotatedDaysAgo),
        attributes: { ...(c.attributes ?? {}) },
        locations: c.locations.map((l) => ({ ...l })),
      };
      b.credentials.push(credential);
    }
    for (const g of i.grants) {
      b.grants.push({
        identity: ref,
        key: g.key,
        effect: 'allow',
        actions: [...g.actions],
        resources: [...g.resources],
        source: g.source,
        admin: g.admin ?? false,
      });
    }
  }

  return DEMO_BATCH_NAMES.map((name) => ({ name, batch: batchOf(name) }));
}
