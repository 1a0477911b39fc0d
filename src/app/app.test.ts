import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './app-config.js';
import { openApp } from './app.js';

describe('openApp', () => {
  it('refuses to open a store with a different master key than it was created with', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-app-'));
    const app = await openApp(loadConfig({ env: {}, flags: { dataDir: dir, masterKey: 'aa'.repeat(32) } }));
    expect(app.store.dialect).toBe('sqlite');
    await app.close();
    await expect(
      openApp(loadConfig({ env: {}, flags: { dataDir: dir, masterKey: 'bb'.repeat(32) } })),
    ).rejects.toThrow(/master key from KEYWARD_MASTER_KEY is not the one this store was created with/);
    const again = await openApp(loadConfig({ env: {}, flags: { dataDir: dir, masterKey: 'aa'.repeat(32) } }));
    await again.close();
  });

  it('rejects an unsupported database URL scheme', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-app-'));
    await expect(
      openApp(loadConfig({ env: {}, flags: { dataDir: dir, databaseUrl: 'mysql://x' } })),
    ).rejects.toThrow(/must start with postgres:\/\/, postgresql:\/\/ or sqlite:/);
  });

  it('wires the broker: started on request, closed with the app', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-app-'));
    const config = loadConfig({ env: {}, flags: { dataDir: dir, masterKey: 'aa'.repeat(32), port: 7301 } });
    const app = await openApp(config, { startBroker: true });
    expect(app.broker.issuer).toBe('http://127.0.0.1:7301');
    expect((await app.broker.jwks()).keys).toHaveLength(1);
    expect(await app.store.listSigningKeys()).toHaveLength(1);
    await app.close();
  });
});
