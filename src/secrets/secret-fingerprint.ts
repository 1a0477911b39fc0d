/** Fingerprint functions for scans: keyed HMAC-SHA-256 (the installation's key, or a per-run key). */
import { createHmac, randomBytes } from 'node:crypto';
import { deriveKey } from '../core/fingerprint.js';

/** HMAC-SHA-256 (hex) under `key`. */
export function hmacFingerprint(key: Buffer): (value: string) => string {
  return (value) => createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** The installation's fingerprint key (the same one the inventory uses), from its master key. */
export function installationFingerprintKey(masterKey: Buffer): Buffer {
  return deriveKey(masterKey, 'fingerprint');
}

/** A key for one run, when no installation is at hand: fingerprints compare within the run only. */
export function ephemeralFingerprintKey(): Buffer {
  return randomBytes(32);
}
