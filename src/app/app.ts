/** The composition root: opens the store and builds one service per capability. */
import { ValidationError } from '../core/errors.js';
import { createFingerprinter, keyCheckValue, type Fingerprinter } from '../core/fingerprint.js';
import { systemClock, type Clock } from '../core/time.js';
import { openStore, type Store } from '../store/index.js';
import { createInventoryService, type InventoryService } from '../inventory/index.js';
import { createBrokerService, type BrokerService } from '../broker/index.js';
import type { AppConfig } from './app-config.js';
import { loadMasterKey } from './keys.js';

/** A running Keyward: its config, store and services. */
export interface App {
  config: AppConfig;
  store: Store;
  clock: Clock;
  fingerprinter: Fingerprinter;
  inventory: InventoryService;
  /** The credential broker; `serve` calls `broker.start()` (keys, revocation polling, approval expiry). */
  broker: BrokerService;
  /** Where the master key came from (a file path or the env variable name), never the key. */
  masterKeySource: string;
  close(): Promise<void>;
}

/**
 * Opens the store, checks the master key against it, and wires the services. `startBroker` starts the broker's
 * background work (the server does; one-shot CLI commands do not need it).
 */
export async function openApp(
  config: AppConfig,
  options: { clock?: Clock; startBroker?: boolean; onError?: (err: unknown) => void } = {},
): Promise<App> {
  const master = loadMasterKey(config.dataDir, config.masterKey);
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const check = keyCheckValue(master.key);
    const stored = await store.setSettingIfAbsent('master_key_check', check);
    if (stored !== check) {
      throw new ValidationError(
        `the master key from ${master.source} is not the one this store was created with; fingerprints would not match. ` +
          'Use the original key (KEYWARD_MASTER_KEY or <data-dir>/master.key).',
        { code: 'KW_INVALID_CONFIG' },
      );
    }
  } catch (err) {
    await store.close();
    throw err;
  }
  const clock = options.clock ?? systemClock;
  const fingerprinter = createFingerprinter(master.key);
  const inventory = createInventoryService({
    store,
    fingerprinter,
    clock,
    posture: config.posture,
    maxImportBytes: config.maxImportBytes,
  });
  const broker = createBrokerService({
    store,
    masterKey: master.key,
    fingerprinter,
    clock,
    config: config.broker,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  if (options.startBroker) {
    try {
      await broker.start();
    } catch (err) {
      await broker.close().catch(() => undefined);
      await store.close();
      throw err;
    }
  }
  return {
    config,
    store,
    clock,
    fingerprinter,
    inventory,
    broker,
    masterKeySource: master.source,
    close: async () => {
      try {
        await broker.close();
      } finally {
        await store.close();
      }
    },
  };
}
