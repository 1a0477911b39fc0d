import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildManifest,
  envelopeText,
  generateSigningKey,
  managedDatasetKey,
  publicKeyPem,
  signManifest,
  toStatement,
} from '../datasets/index.js';
import { createTestServer, type TestServer } from './test-support/test-server.js';

describe('dataset API', () => {
  let t: TestServer;
  let dir: string;
  let envelope: string;
  beforeAll(async () => {
    t = await createTestServer();
    dir = mkdtempSync(join(tmpdir(), 'kw-ds-api-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'a.jsonl'), '{"x":1}\n');
    writeFileSync(join(dir, 'data', 'b.csv'), 'a,b\n1,2\n');
    const manifest = await buildManifest(join(dir, 'data'), { name: 'train', supplier: 'ACME Labs' });
    const key = await managedDatasetKey(t.app.store, t.app.signingKeyBox);
    envelope = envelopeText(signManifest(toStatement(manifest), key));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = (payload: unknown) =>
    t.server.inject({
      method: 'POST',
      url: '/api/v1/datasets/verify',
      headers: t.auth,
      payload: payload as object,
    });

  it('verifies with the managed key by default and records the verification', async () => {
    const res = await verify({ path: join(dir, 'data'), manifest: envelope });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      ok: true,
      dataset: 'train',
      supplier: 'ACME Labs',
      added: [],
      missing: [],
    });
    const events = await t.app.store.readEvents(0, 1000);
    const last = events.filter((e) => e.type === 'dataset.verified').pop()!;
    expect(last.data).toMatchObject({ dataset: 'train', supplier: 'ACME Labs', result: 'ok' });
    expect(last.actor).toBe('api:admin');
    const resources = await t.app.store.listResources({ provider: 'dataset', type: 'dataset' });
    expect(resources.items.map((r) => [r.name, r.attributes.supplier])).toEqual([
      ['dataset:train', 'ACME Labs'],
    ]);
  });

  it('answers ok false for a changed file and an untrusted signer', async () => {
    writeFileSync(join(dir, 'data', 'b.csv'), 'a,b\n1,3\n');
    const changed = await verify({ path: join(dir, 'data'), manifest: JSON.parse(envelope) as object });
    expect(changed.json()).toMatchObject({ ok: false, modified: ['b.csv'] });
    const other = generateSigningKey();
    const untrusted = await verify({
      path: join(dir, 'data'),
      manifest: envelope,
      trust: [publicKeyPem(other.publicKey)],
    });
    expect(untrusted.json()).toMatchObject({ ok: false, signer: null });
  });

  it('refuses bad input with the field named, and requires the admin token', async () => {
    const relative = await verify({ path: 'data', manifest: envelope });
    expect(relative.statusCode).toBe(400);
    expect(relative.json().details[0].path).toBe('path');
    const missing = await verify({ path: join(dir, 'nope'), manifest: envelope });
    expect(missing.statusCode).toBe(400);
    const truncated = await verify({ path: join(dir, 'data'), manifest: envelope.slice(0, 40) });
    expect(truncated.statusCode).toBe(400);
    const extra = await verify({ path: join(dir, 'data'), manifest: envelope, extra: 1 });
    expect(extra.statusCode).toBe(400);
    const anonymous = await t.server.inject({ method: 'POST', url: '/api/v1/datasets/verify', payload: {} });
    expect(anonymous.statusCode).toBe(401);
  });
});
