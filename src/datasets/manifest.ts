/**
 * Builds a dataset manifest (every regular file's path, size and SHA-256, a root digest and provenance) and wraps
 * it as a canonical in-toto Statement v1. See docs/datasets.md for the exact construction.
 */
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { canonicalJson } from '../core/canonical-json.js';
import { ValidationError } from '../core/errors.js';
import { hashFiles } from './dataset-hash.js';
import { walkDataset } from './manifest-walk.js';
import {
  DATASET_PREDICATE_TYPE,
  STATEMENT_TYPE,
  provenanceSchema,
  type DatasetStatement,
  type Manifest,
  type ManifestFile,
} from './manifest-types.js';

/** Options of {@link buildManifest}. */
export interface BuildManifestOptions {
  /** Dataset name (the statement's subject); defaults to the directory's base name. */
  name?: string;
  /** Who supplied the dataset (required). */
  supplier: string;
  /** SPDX identifier or free text. */
  license?: string;
  /** When the data was collected: ISO 8601 date or date-time. Never filled in automatically. */
  collectedAt?: string;
  /** Worker threads for hashing (0 = the calling thread; only used from the compiled build). */
  workers?: number;
  /** Called as bytes are hashed with the running total and the total size found by the walk. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** The compiled hashing worker (tests); defaults to the one beside the module. */
  workerModule?: URL | null;
}

/**
 * Walks `dir` and hashes every regular file into a manifest; any unreadable file, symbolic link or unrecordable name
 * fails the whole call (no partial manifest).
 * @example const manifest = await buildManifest('data/train', { supplier: 'ACME Labs', license: 'CC-BY-4.0' });
 */
export async function buildManifest(dir: string, opts: BuildManifestOptions): Promise<Manifest> {
  const parsed = provenanceSchema.safeParse(opts);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      path: i.path.join('.') || 'options',
      message: i.message,
    }));
    throw new ValidationError(
      `Invalid manifest options: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      {
        details,
      },
    );
  }
  const walked = await walkDataset(dir);
  const totalBytes = walked.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const onBytes = opts.onProgress
    ? (n: number) => {
        done += n;
        opts.onProgress!(done, totalBytes);
      }
    : undefined;
  const digests = await hashFiles(
    walked.map((f) => f.absPath),
    { workers: opts.workers, onBytes, sizes: walked.map((f) => f.size), workerModule: opts.workerModule },
  );
  const files: ManifestFile[] = walked.map((f, i) => ({
    path: f.path,
    size: digests[i]!.size,
    sha256: digests[i]!.sha256,
  }));
  const p = parsed.data;
  return {
    name: p.name ?? (basename(resolve(dir)).normalize('NFC') || 'dataset'),
    supplier: p.supplier,
    ...(p.license === undefined ? {} : { license: p.license }),
    ...(p.collectedAt === undefined ? {} : { collectedAt: p.collectedAt }),
    rootDigest: rootDigest(files),
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    files,
  };
}

/**
 * The root digest: SHA-256 (hex) of the concatenated lines `<sha256>  <path>\n` (two spaces, as `sha256sum`
 * prints) of every file, in code-point order of path. `files` must already be in that order.
 */
export function rootDigest(files: readonly ManifestFile[]): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.sha256}  ${f.path}\n`, 'utf8');
  return hash.digest('hex');
}

/** Wraps a manifest as an in-toto Statement v1 with the Keyward dataset predicate. */
export function toStatement(m: Manifest): DatasetStatement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: m.name, digest: { sha256: m.rootDigest } }],
    predicateType: DATASET_PREDICATE_TYPE,
    predicate: {
      name: m.name,
      supplier: m.supplier,
      ...(m.license === undefined ? {} : { license: m.license }),
      ...(m.collectedAt === undefined ? {} : { collectedAt: m.collectedAt }),
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false },
      rootDigest: m.rootDigest,
      fileCount: m.files.length,
      totalBytes: m.totalBytes,
      files: m.files,
    },
  };
}

/** The canonical bytes of a statement (sorted keys, no white space, UTF-8): the DSSE payload that is signed. */
export function serializeStatement(statement: DatasetStatement): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}
