/** The dataset scan report: JSON-serialisable, with redacted samples and locations, never a raw value. */
import type { DatasetFormat } from './readers-types.js';

/** Where a finding sits: file plus line, row/column or key path. */
export interface DatasetLocation {
  file: string;
  line?: number;
  row?: number;
  column?: string;
  keyPath?: string;
}

/** A redacted example of a finding and where it is. */
export interface DatasetSample {
  sample: string;
  location: DatasetLocation;
  /** Keyed fingerprint (secrets only): equal values within one run share it. */
  fingerprint?: string;
}

/** Findings of one type in one file. */
export interface DatasetTypeCount {
  kind: 'secret' | 'pii';
  /** `secret:<ruleId>` or a PII type. */
  type: string;
  count: number;
  samples: DatasetSample[];
}

/** A column or key path named like a credential (`password`, `api_key`), with how many values it holds. */
export interface CredentialField {
  field: string;
  nonEmptyValues: number;
}

/** What the scan found in one file. */
export interface DatasetFileReport {
  path: string;
  format: DatasetFormat;
  bytes: number;
  records: number;
  findings: DatasetTypeCount[];
  credentialFields: CredentialField[];
  /** Rows the parser refused (CSV/TSV): all counted, the first 100 listed. */
  malformedRows: { count: number; first: Array<{ line: number; message: string }> };
  notes: string[];
}

/** The report of `scanDataset`. */
export interface DatasetScanReport {
  root: string;
  files: DatasetFileReport[];
  totals: {
    files: number;
    bytes: number;
    /** Secret and PII values found (credential fields not included). */
    findings: number;
    byType: Record<string, number>;
    credentialFields: number;
    malformedRows: number;
  };
  skipped: Array<{ path: string; reason: string }>;
  errors: Array<{ path: string; message: string }>;
}
