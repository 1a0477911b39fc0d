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
    await expect(openApp(loadConfig({ env: {}, flags: { dataDir: dir, masterKey: 'bb'.repeat(32) } }))).rejects.toThrow(
      /master key from KEYWARD_MASTER_KEY is not the one this store was created with/,
    );
    const again = await openApp(loadConfig({ env: {}, flags: { dataDir: dir, masterKey: 'aa'.repeat(32) } }));
    await again.close();
  });

  it('rejects an unsupported database URL scheme', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-app-'));
    await expect(openApp(loadConfig({ env: {}, flags: { dataDir: dir, databaseUrl: 'mysql://x' } }))).rejects.toThrow(
      /must start with postgres:\/\/, postgresql:\/\/ or sqlite:/,
    );
  });
});
