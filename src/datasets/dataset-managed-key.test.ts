import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../core/secret-box.js';
import { publicKeyPem } from './dataset-keys.js';
import { DATASET_KEY_SETTING, managedDatasetKey } from './dataset-managed-key.js';

function memoryStore() {
  const settings = new Map<string, string>();
  return {
    settings,
    getSetting: async (k: string) => settings.get(k) ?? null,
    setSettingIfAbsent: async (k: string, v: string) => {
      if (!settings.has(k)) settings.set(k, v);
      return settings.get(k)!;
    },
  };
}

describe('managedDatasetKey', () => {
  it('creates one Ed25519 key, stores it sealed, and returns the same key afterwards', async () => {
    const store = memoryStore();
    const box = createSecretBox(randomBytes(32), 'signing-keys');
    const [a, b] = await Promise.all([managedDatasetKey(store, box), managedDatasetKey(store, box)]);
    expect(a.asymmetricKeyType).toBe('ed25519');
    expect(publicKeyPem(a)).toBe(publicKeyPem(b));
    expect(publicKeyPem(await managedDatasetKey(store, box))).toBe(publicKeyPem(a));
    const stored = store.settings.get(DATASET_KEY_SETTING)!;
    expect(stored.startsWith('kw1.')).toBe(true);
    expect(stored).not.toContain('PRIVATE KEY');
  });

  it('refuses to open the key under another master key', async () => {
    const store = memoryStore();
    await managedDatasetKey(store, createSecretBox(randomBytes(32), 'signing-keys'));
    await expect(managedDatasetKey(store, createSecretBox(randomBytes(32), 'signing-keys'))).rejects.toThrow();
  });
});
