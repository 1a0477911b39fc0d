/** The secrets capability's public surface: the scanner, its rules, outputs, baselines and inventory records. */
export { BUILTIN_SECRET_RULES } from './rules/index.js';
export {
  SECRET_SEVERITIES,
  type SecretSeverity,
  type SecretRule,
  type SecretFinding,
  type ScanOrigin,
} from './secret-types.js';
export { createSecretScanner, type SecretScanner } from './secret-scanner.js';
export {
  createSecretScanService,
  type SecretScanService,
  type ScanReport,
  type ScanStats,
  type PathScanOptions,
} from './secret-scan-service.js';
export {
  ephemeralFingerprintKey,
  installationFingerprintKey,
  hmacFingerprint,
} from './secret-fingerprint.js';
export {
  publicFinding,
  scanReportJson,
  toSarif,
  findingsTable,
  scanEvidence,
  type PublicFinding,
  type ScanEvidence,
} from './secret-output.js';
export { parseBaseline, createBaseline, applyBaseline, type Baseline } from './secret-baseline.js';
export { findingsToInventoryBatch, DISCOVERED_PROVIDER } from './secret-record.js';
export { createCaseGen } from './secret-case-gen.js';
