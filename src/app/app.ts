/** The composition root: opens the store and builds one service per capability. */
import { ValidationError } from '../core/errors.js';
import { createFingerprinter, deriveKey, keyCheckValue, type Fingerprinter } from '../core/fingerprint.js';
import { systemClock, type Clock } from '../core/time.js';
import { createSecretBox, type SecretBox } from '../core/secret-box.js';
import { openStore, type Store } from '../store/index.js';
import { createInventoryService, type InventoryService } from '../inventory/index.js';
import { createBrokerService, type BrokerService } from '../broker/index.js';
import { createDetectionService, type DetectionService } from '../detect/detect-stream.js';
import type { AppConfig } from './app-config.js';
import { loadMasterKey } from './keys.js';

/** A running Keyward: its config, store and services. */
export interface App {
  config: AppConfig;
  store: Store;
  clock: Clock;
  fingerprinter: Fingerprinter;
  /** The key behind `fingerprinter` (HMAC-SHA-256), for scanners that fingerprint on worker threads. */
  fingerprintKey: Buffer;
  inventory: InventoryService;
  /** The credential broker; `serve` calls `broker.start()` (keys, revocation polling, approval expiry). */
  broker: BrokerService;
  /** Continuous detection; `serve` starts it (rules, the event log tail, webhooks). */
  detection: DetectionService;
  /** Seals signing keys Keyward manages outside the broker (the dataset signing key) under the master key. */
  signingKeyBox: SecretBox;
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
  options: {
    clock?: Clock;
    startBroker?: boolean;
    /** Load the detection rules and start continuous detection (the server does). */
    startDetection?: boolean;
    onError?: (err: unknown) => void;
  } = {},
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
  const detection = createDetectionService({
    store,
    config: config.detect,
    clock,
    onError: options.onError ?? (() => undefined),
  });
  try {
    if (options.startBroker) await broker.start();
    if (options.startDetection) await detection.start();
  } catch (err) {
    await detection.stop().catch(() => undefined);
    await broker.close().catch(() => undefined);
    await store.close();
    throw err;
  }
  return {
    config,
    store,
    clock,
    fingerprinter,
    fingerprintKey: deriveKey(master.key, 'fingerprint'),
    inventory,
    broker,
    detection,
    signingKeyBox: createSecretBox(master.key, 'signing-keys'),
    masterKeySource: master.source,
    close: async () => {
      try {
        await detection.stop();
        await broker.close();
      } finally {
        await store.close();
      }
    },
  };
}
