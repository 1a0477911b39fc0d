/**
 * The dataset signing key Keyward manages: an Ed25519 key generated on first use, kept in the store as a
 * PKCS#8 PEM sealed under the master key (AES-256-GCM, purpose `signing-keys`), so it never sits in a file in
 * the clear. `keyward dataset sign` uses it when no `--key` is given; its public key is what verifiers trust.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SecretBox } from '../core/secret-box.js';
import type { Store } from '../store/index.js';

/** The store setting that holds the sealed key. */
export const DATASET_KEY_SETTING = 'dataset_signing_key';

/**
 * Returns the managed key, creating it the first time (concurrent first uses agree on one key).
 * @example
 * const key = await managedDatasetKey(app.store, app.signingKeyBox);
 */
export async function managedDatasetKey(
  store: Pick<Store, 'getSetting' | 'setSettingIfAbsent'>,
  box: SecretBox,
): Promise<KeyObject> {
  let sealed = await store.getSetting(DATASET_KEY_SETTING);
  if (sealed === null) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    sealed = await store.setSettingIfAbsent(DATASET_KEY_SETTING, box.seal(pem, DATASET_KEY_SETTING));
  }
  return createPrivateKey(box.openText(sealed, DATASET_KEY_SETTING));
}
