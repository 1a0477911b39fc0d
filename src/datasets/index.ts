/** The dataset-integrity capability's public surface: signed manifests, verification, scanning, redaction, records. */
export {
  buildManifest,
  rootDigest,
  serializeStatement,
  toStatement,
  type BuildManifestOptions,
} from './manifest.js';
export { envelopeText, signManifest } from './manifest-sign.js';
export type { DatasetStatement, Manifest, ManifestFile } from './manifest-types.js';
export { pae, parseEnvelope } from './dsse.js';
export {
  generateSigningKey,
  keyIdOf,
  loadSigningKey,
  parseSigningKey,
  privateKeyPem,
  publicKeyPem,
  toTrustedKeys,
} from './dataset-keys.js';
export { managedDatasetKey, DATASET_KEY_SETTING } from './dataset-managed-key.js';
export { verifyDataset, type DatasetVerification } from './dataset-verify.js';
export { hashFile, hashFiles } from './dataset-hash.js';
export { scanDataset, type DatasetScanOptions } from './scan.js';
export type { DatasetScanReport, DatasetFileReport, DatasetTypeCount } from './scan-types.js';
export { redactDataset, placeholder, type RedactResult } from './redact.js';
export { detectPii, PII_TYPES, type PiiType } from './pii-detectors.js';
export {
  datasetBatch,
  datasetEvent,
  recordDatasetRun,
  verificationRun,
  DATASET_RESOURCE,
  type DatasetRun,
  type DatasetRecorder,
} from './dataset-record.js';
