import type { Fingerprinter } from '../../core/fingerprint.js';
import type { InventoryBatch } from '../../core/inventory-batch.js';

/** The export formats Keyward imports. */
export const IMPORTER_KINDS = ['mcp', 'dotenv', 'aws', 'kubernetes', 'github', 'directory'] as const;
export type ImporterKind = (typeof IMPORTER_KINDS)[number];

/** Options an import may carry; each importer says which it accepts. */
export interface ImportOptions {
  /** Kubernetes: the cluster the export came from, so equal namespace/name pairs in two clusters stay apart. */
  cluster?: string;
}

/** A file to import: its name (as the user gave it, used in error messages and locations) and bytes. */
export interface ImportSource {
  fileName: string;
  content: Buffer;
  options?: ImportOptions;
}

/** What an importer may use: the fingerprinter (secret values never leave the importer) and the time. */
export interface ImporterContext {
  fingerprinter: Fingerprinter;
  /** ISO-8601 time of the import. */
  now: string;
}

/**
 * Parses one export file into an inventory batch. Pure: no I/O, no store access. Throws ValidationError
 * (code KW_INVALID_IMPORT) naming the file, the record and the field when the file is not what it should be;
 * a file that throws leaves the store unchanged because nothing is applied.
 */
export interface Importer {
  kind: ImporterKind;
  /** One line for `keyward import --help` and the API docs. */
  description: string;
  /** The ImportOptions this importer understands; any other option given is an error. */
  options?: ReadonlyArray<keyof ImportOptions>;
  parse(source: ImportSource, ctx: ImporterContext): InventoryBatch;
}
